"""`cushion record FILE`: raw frames from the sensor to a recording (SPEC sections 4 and 7)."""

from __future__ import annotations

import sys
import threading
from datetime import datetime
from pathlib import Path
from time import monotonic

from device.cli.sensor import _bench, _config, _drops, _sensor
from device.config import CHANNELS
from device.daemon.shutdown import stop_on_signals

FLUSH_S = 0.5  # `record` hands lines to the OS this often (always whole lines)


def record(
    recording,
    config_path=None,
    *,
    sim: bool = False,
    seconds: float | None = None,
    force: bool = False,
    bench=None,
    out=None,
    stop: threading.Event | None = None,
) -> int:
    """`cushion record FILE`: raw frames from the sensor to a SPEC section 4
    recording, until ``seconds`` have passed, ``stop`` is set, or SIGINT or
    SIGTERM arrives; the file is complete (whole lines, flushed, closed) in
    every case. Metadata: rate_hz, started_at (wall clock), device.

    An existing file is refused unless ``force`` (checked before the sensor
    is opened). A write that fails (disk full) stops the recording with a
    CushionError; the file keeps the whole lines written before.
    """
    from device.storage.recording import RecordingWriter, check_output

    out = out or sys.stdout
    stop = stop or threading.Event()
    path, config = _config(config_path)
    exists = check_output(Path(recording), force=force)
    bench = _bench(bench, sim, scene_name="day")
    restore = stop_on_signals(stop)
    try:
        with _sensor(bench, config) as array:
            metadata = {
                "rate_hz": str(config.sensor.rate_hz),
                "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
                "device": bench.description,
            }
            writer = RecordingWriter(recording, metadata, overwrite=exists)
            missing = [0] * len(CHANNELS)
            with writer:
                start = None
                flushed = monotonic()
                while not stop.is_set():
                    frame = array.read_frame()
                    if start is None:
                        start = frame.t
                    # Rounded as the file will show it, so a frame a hair
                    # before the limit cannot be written as the limit itself.
                    t = round(frame.t - start, 4)
                    if seconds is not None and t >= seconds:
                        break
                    writer.write_frame(t, frame.raw)
                    for i, value in enumerate(frame.raw):
                        missing[i] += value is None
                    if frame.t - flushed >= FLUSH_S:
                        # Whole lines only: a kill -9 loses the last half
                        # second, never half a line.
                        writer.flush()
                        flushed = frame.t
            stats = array.stats
            duration = (frame.t - start) if start is not None else 0.0
    finally:
        restore()
    frames = writer.frames
    print(
        f"wrote {recording}: {frames} frames in {duration:.1f} s "
        f"({frames / duration if duration > 0 else 0.0:.1f}/s); driver: {_drops(stats)}",
        file=out,
    )
    gaps = [f"{name} {count}" for name, count in zip(CHANNELS, missing) if count]
    if gaps:
        print(f"frames without a reading: {', '.join(gaps)} (run `cushion check`)", file=out)
    return 0
