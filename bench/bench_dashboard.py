"""Dashboard server time on a year of history, and the memory one export of three years takes.

A simulated year (`tests.sample_history`: 6-9 sessions a workday, their
events and per-minute rows, written through Store.write_batch) goes into a
temporary database; pages are requested through Flask's test client, so the
figures are the server's time (queries, computation, templates), median of
several runs after a warm-up. Goals: Day < 150 ms, Trends 365 < 300 ms.

export_peak_rss_mb: three years of history; the dashboard is served by
`dashboard.serve` (waitress) in a fresh process of its own, one JSON export of
every event is downloaded from it, and the figure is that process's peak
resident memory (VmHWM) in MB. Goal < 80 MB: a Pi with 512 MB serves several
at once. Needs Linux's /proc.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

RUNS = 15
EXPORT_YEARS = 3
ROOT = Path(__file__).resolve().parent.parent


def _median_ms(client, url: str, runs: int = RUNS) -> float:
    response = client.get(url)  # warm-up: templates compiled, pages cached by SQLite
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return statistics.median(times)


def _memory_mb(pid: int, field: str) -> float:
    """VmRSS (resident now) or VmHWM (peak resident) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def export_peak_rss(path: Path, first: date, last: date) -> tuple[float, float, int]:
    """(MB resident before the export, MB peak, bytes downloaded): one JSON export of every event
    from first to last, served by a fresh dashboard process."""
    port = _free_port()
    child = subprocess.Popen(
        [sys.executable, "-c", f"import dashboard; dashboard.serve({str(path)!r}, port={port})"],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:  # up, and one page served, as a dashboard someone has open
            try:
                with urllib.request.urlopen(base + "/api/live", timeout=5) as response:
                    response.read()
                break
            except OSError:
                if child.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the dashboard did not start: {child.stderr.read().decode()}") from None
                time.sleep(0.1)
        before = _memory_mb(child.pid, "VmRSS")
        size = 0
        url = f"{base}/api/export/events.json?from={first.isoformat()}&to={last.isoformat()}"
        with urllib.request.urlopen(url, timeout=300) as response:
            while chunk := response.read(64 * 1024):
                size += len(chunk)
        peak = _memory_mb(child.pid, "VmHWM")
    finally:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return before, peak, size


def main() -> None:
    from dashboard import create_app
    from device.storage.store import Store
    from tests.sample_history import fill_history, live_values

    last = date.today() - timedelta(days=1)
    first = last - timedelta(days=364)
    with tempfile.TemporaryDirectory(prefix="cushion-bench-") as folder:
        path = Path(folder) / "history.db"
        started = time.perf_counter()
        with Store(path) as store:
            events = fill_history(store, first, 365, seed=7)
            store.set_live(live_values())
            sessions = store.db["sessions"].count
            minutes = store.db["minutes"].count
        made = time.perf_counter() - started
        print(
            f"# a year of history: {sessions} sessions, {events} events, {minutes} minute rows ({made:.1f} s to write)"
        )
        app = create_app({"DATABASE": str(path), "TESTING": True})
        client = app.test_client()
        # A busy workday late in the year (the more there is on a day, the longer its page takes).
        day = last - timedelta(days=(last.weekday() - 2) % 7)  # the last Wednesday
        day_ms = _median_ms(client, f"/day/{day.isoformat()}")
        trends_ms = _median_ms(client, f"/trends?days=365&end={last.isoformat()}")
        print(f"day_page_ms: {day_ms:.1f} ms")
        print(f"trends_365_page_ms: {trends_ms:.1f} ms")

    if not Path("/proc/self/status").exists():
        print("export_peak_rss_mb: not measured (needs Linux's /proc)")
        return
    years_first = last - timedelta(days=EXPORT_YEARS * 365 - 1)
    with tempfile.TemporaryDirectory(prefix="cushion-bench-") as folder:
        path = Path(folder) / "history.db"
        with Store(path) as store:
            events = fill_history(store, years_first, EXPORT_YEARS * 365, seed=7)
            store.set_live(live_values())
        before, peak, size = export_peak_rss(path, years_first, last)
        print(
            f"# {EXPORT_YEARS} years of history: {events} events; one JSON export of them all "
            f"({size / 1e6:.1f} MB), served from a fresh process that held {before:.0f} MB before it"
        )
        print(f"export_peak_rss_mb: {peak:.0f} MB")


if __name__ == "__main__":
    main()
