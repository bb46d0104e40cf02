"""`cushion replay`: a recording through the same pipeline as the live daemon, as fast as possible."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from device.config import Config
from device.core.pipeline import Pipeline
from device.core.report import build_report
from device.storage.recording import RecordingReader


def replay(path: str | Path, config: Config, warn: Callable[[str], object] | None = None) -> dict:
    """Replay a recording and return the SPEC section 5 report (a JSON-ready dict).

    warn hears about what the reader leaves out (a last line cut short).
    """
    reader = RecordingReader(path, warn=warn)
    pipeline = Pipeline(config)
    events = []
    period = None
    for block in reader:
        if period is None and len(block) > 1:
            period = float(np.median(np.diff(block.t[:1000])))
        events.extend(pipeline.feed_block(block.t, block.raw))
    events.extend(pipeline.finish())
    if reader.info.rate_hz is not None:  # checked by the reader: 0.1 to 10000 frames/s
        period = 1.0 / reader.info.rate_hz
    if pipeline.first_t is None:
        duration, end_t = 0.0, 0.0
    else:
        end_t = pipeline.last_t if pipeline.last_t is not None else pipeline.first_t
        duration = end_t - pipeline.first_t + (period or 0.0)
    return build_report(pipeline.frames, duration, pipeline.sessions, events, end_t, pipeline.session_tracker.breaks)


def format_summary(report: dict) -> str:
    """A short human summary of a replay report."""
    s = report["summary"]
    hours, rest = divmod(int(report["duration_s"]), 3600)
    lines = [
        f"Recording: {report['frames']:,} frames, {hours} h {rest // 60:02d} min",
        f"Seated: {_duration(s['seated_s'])} in {s['sessions']} session(s), {s['breaks']} break(s) taken",
    ]
    longest = max(((x["end"] or report["duration_s"]) - x["start"] for x in report["sessions"]), default=0)
    if report["sessions"]:
        lines.append(f"Longest session: {_duration(longest)}")
    kinds: dict[str, int] = {}
    for event in report["events"]:
        if event["type"] == "prompt":
            kinds[event["kind"]] = kinds.get(event["kind"], 0) + 1
    prompt_text = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"
    lines.append(f"Prompts: {s['prompts']} ({prompt_text})")
    lines.append(
        f"Leaning: left {_duration(s['lean_s']['left'])}, right {_duration(s['lean_s']['right'])}; "
        f"twists/reaches: {s['twists']}"
    )
    perches = sum(1 for e in report["events"] if e["type"] == "perch")
    slumps = sum(1 for e in report["events"] if e["type"] == "slump")
    per_hour = s["fidgets"] / (s["seated_s"] / 3600) if s["seated_s"] > 0 else 0.0
    lines.append(f"Perched forward: {perches}, slumped back: {slumps}")
    lines.append(f"Fidgets: {s['fidgets']} ({per_hour:.1f} per seated hour)")
    faults = [e for e in report["events"] if e["type"] == "fault"]
    if faults:
        channels = sorted({e["channel"] for e in faults})
        lines.append(f"Sensor faults: {len(faults)} on {', '.join(channels)}")
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    minutes = int(round(seconds / 60))
    if minutes >= 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes} min"
