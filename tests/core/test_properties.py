"""Invariants of the pipeline on random signals (hypothesis)."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from device.config import Config
from device.core.frames import MISSING
from device.core.pipeline import Pipeline
from tests.signals import CAL, Signal

segment = st.tuples(
    st.floats(0.2, 40.0),  # seconds
    st.sampled_from([0.0, 0.0, 3.0, 12.0, 16.0, 45.0, 80.0]),  # seated load, kg
    st.floats(-0.6, 0.6),  # lat
    st.floats(-0.6, 0.6),  # sag
    st.floats(0.01, 3.0),  # ramp time
)


@st.composite
def signals(draw):
    rate = draw(st.sampled_from([10, 80]))
    s = Signal(rate)
    for seconds, load, lat, sag, ramp in draw(st.lists(segment, min_size=1, max_size=12)):
        s.ramp(seconds, load, lat, sag, ramp_s=min(ramp, seconds))
    t, raw = s.frames(noise_counts=draw(st.sampled_from([0, 100, 2000])), seed=draw(st.integers(0, 99)))
    if len(t) == 0:
        t, raw = Signal(rate).hold(1).frames()
    rng = np.random.default_rng(draw(st.integers(0, 99)))
    # Artefacts: flipped bits, missing readings, a rail run; jittered and dropped frames.
    for _ in range(draw(st.integers(0, 5))):
        raw[rng.integers(len(t)), rng.integers(4)] ^= 1 << int(rng.integers(10, 23))
    for _ in range(draw(st.integers(0, 3))):
        start = rng.integers(len(t))
        raw[start : start + rng.integers(1, 200), rng.integers(4)] = MISSING
    if draw(st.booleans()):
        start = rng.integers(len(t))
        raw[start : start + 100, rng.integers(4)] = 8388607
    keep = rng.random(len(t)) > draw(st.sampled_from([0.0, 0.05]))
    keep[0] = True
    t = np.maximum.accumulate(t + rng.normal(0, 0.002, len(t)))
    return t[keep], raw[keep]


def feed_in_blocks(t, raw, sizes):
    pipeline = Pipeline(Config(calibration=CAL))
    events, balances = [], []
    i = 0
    k = 0
    while i < len(t):
        n = sizes[k % len(sizes)]
        k += 1
        new = pipeline.feed_block(t[i : i + n], raw[i : i + n])
        newest = t[min(i + n, len(t)) - 1]
        for e in new:  # causal: nothing is known before the frame that told it
            assert e.detected_at <= newest + 1e-9
        events += new
        if pipeline.lat is not None:
            balances.append((pipeline.lat, pipeline.sag))
        i += n
    events += pipeline.finish()
    return events, pipeline, balances


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(signals(), st.lists(st.integers(1, 500), min_size=1, max_size=4))
def test_invariants(signal, sizes):
    t, raw = signal
    events, pipeline, balances = feed_in_blocks(t, raw, sizes)

    # Same events whatever the blocks.
    reference, _, _ = feed_in_blocks(t, raw, [len(t)])
    assert events == reference

    # Balance stays within [-1, 1]; peaks too.
    for lat, sag in balances:
        assert -1.0 <= lat <= 1.0 and -1.0 <= sag <= 1.0
    for e in events:
        if e.type in ("lean", "twist"):
            assert 0.0 <= e.peak <= 1.0

    # Signal time never after the moment it was known.
    for e in events:
        for key in ("t", "start"):
            if hasattr(e, key):
                assert getattr(e, key) <= e.detected_at + 1e-9

    # Nothing but faults while away: person events and prompts lie inside seated spans.
    seated, since = [], None
    for e in sorted(events, key=lambda e: e.detected_at):
        if e.type == "sit":
            since = e.t
        elif e.type == "stand":
            seated.append((since, e.t))
            since = None
    if since is not None:
        seated.append((since, float("inf")))
    for e in events:
        if e.type in ("lean", "twist", "perch", "slump"):
            assert any(a - 1e-9 <= e.start and e.end <= b + 1e-9 for a, b in seated), e
        elif e.type in ("fidget", "prompt"):
            assert any(a - 1e-9 <= e.t <= b + 1e-9 for a, b in seated), e

    # Sessions are ordered, do not overlap, and the seated time adds up.
    for a, b in zip(pipeline.sessions, pipeline.sessions[1:]):
        assert a.end is not None and a.end <= b.start
