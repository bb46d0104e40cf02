"""Dashboard server time on a year of history: a Day page and the Trends page for 365 days.

A simulated year (`dashboard.sample_history`: 6-9 sessions a workday, their
events and per-minute rows, written through Store.write_batch) goes into a
temporary database; pages are requested through Flask's test client, so the
figures are the server's time (queries, computation, templates), median of
several runs after a warm-up. Goals: Day < 150 ms, Trends 365 < 300 ms.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

RUNS = 15


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


def main() -> None:
    from dashboard import create_app
    from dashboard.sample_history import fill_history, live_values
    from device.store import Store

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
        print(f"# a year of history: {sessions} sessions, {events} events, {minutes} minute rows "
              f"({made:.1f} s to write)")
        app = create_app({"DATABASE": str(path), "TESTING": True})
        client = app.test_client()
        # A busy workday late in the year (the more there is on a day, the longer its page takes).
        day = last - timedelta(days=(last.weekday() - 2) % 7)  # the last Wednesday
        day_ms = _median_ms(client, f"/day/{day.isoformat()}")
        trends_ms = _median_ms(client, f"/trends?days=365&end={last.isoformat()}")
        print(f"day_page_ms: {day_ms:.1f} ms")
        print(f"trends_365_page_ms: {trends_ms:.1f} ms")


if __name__ == "__main__":
    main()
