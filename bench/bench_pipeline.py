"""Pipeline and replay speed on a simulated 8-hour day at 80 Hz (~2.3 million frames).

Figures: pipeline_frames_per_s (frames already in memory, pipeline only),
replay_frames_per_s (the whole `cushion replay --json`, parsing included, in
a fresh process) and replay_peak_rss_mb (that process's peak memory).
The recording is made once and cached in the system temp directory.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from device.config import Config
from device.core.pipeline import Pipeline
from device.storage.recording import RecordingReader

CACHE = Path(tempfile.gettempdir()) / "cushion-bench"
HOURS = 8.0
SEED = 1


def make_day(rate_hz: int = 80) -> tuple[Path, Path]:
    """A simulated day's recording and its config (cached)."""
    from device.sim.sitter import DEMO_CALIBRATION, Simulation, random_day, write_recording

    CACHE.mkdir(exist_ok=True)
    recording = CACHE / f"day-{HOURS:g}h-{rate_hz}hz-seed{SEED}.csv"
    config = CACHE / "demo.toml"
    config.write_text(
        "[calibration]\n"
        f"offset = {list(DEMO_CALIBRATION.offset)}\n"
        f"counts_per_kg = {list(DEMO_CALIBRATION.counts_per_kg)}\n"
    )
    if not recording.exists():
        sim = Simulation(random_day(SEED, hours=HOURS), calibration=DEMO_CALIBRATION, rate_hz=rate_hz, seed=SEED)
        partial = recording.with_suffix(".partial")
        write_recording(sim, partial, {"rate_hz": str(rate_hz)})
        partial.rename(recording)
    return recording, config


def main() -> None:
    from device.config import load_config

    recording, config_path = make_day()
    config: Config = load_config(config_path)
    blocks = list(RecordingReader(recording))
    frames = sum(len(b) for b in blocks)

    pipeline = Pipeline(config)
    start = time.perf_counter()
    for block in blocks:
        pipeline.feed_block(block.t, block.raw)
    pipeline.finish()
    pipeline_s = time.perf_counter() - start
    del blocks
    print(f"pipeline_frames_per_s: {frames / pipeline_s:,.0f} frames/s")

    # A small launcher process runs the replay, so the replay's peak memory is
    # not inflated by this process's pages (a forked child counts them until exec).
    launcher = (
        "import resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
        "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    command = [sys.executable, "-m", "device.cli", "replay", str(recording), "--config", str(config_path), "--json"]
    result = subprocess.run([sys.executable, "-c", launcher, *command], check=True, capture_output=True, text=True)
    replay_s, peak_kb = (float(x) for x in result.stdout.split())
    print(f"replay_frames_per_s: {frames / replay_s:,.0f} frames/s")
    print(f"replay_peak_rss_mb: {peak_kb / 1024:.1f} MB")
    print(f"# {frames:,} frames, {HOURS:g} h at 80 Hz; pipeline {pipeline_s:.2f} s, replay {replay_s:.2f} s")


if __name__ == "__main__":
    main()
