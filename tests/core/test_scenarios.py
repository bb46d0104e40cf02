"""Simulated days replayed through the pipeline, scored against their ground truth.

Issue #2's bar: worst F1 of all event kinds at least 0.95, seated time
within 1%, at 80 and at 10 frames/s, with noise, drift, spikes, dropped
frames, jitter, an upside-down cell and channel faults.
"""

import pytest

from device.config import Breaks, Config
from device.core.pipeline import Pipeline
from device.sim.sitter import DEMO_CALIBRATION, Simulation, random_day
from tests.scoring import score, truth_prompts

KINDS = ("session", "sit", "stand", "lean", "twist", "perch", "slump", "fidget", "fault", "prompt")


def detect(sim):
    pipeline = Pipeline(Config(calibration=DEMO_CALIBRATION))
    events = []
    for block in sim.blocks():
        events += pipeline.feed_block(block.t, block.raw)
    events += pipeline.finish()
    return events, pipeline


def scores_for(sim):
    events, pipeline = detect(sim)
    truth = sim.truth
    end_t = sim.duration_s
    movements = [f.t for f in truth.fidgets]
    for span in (*truth.leans, *truth.twists, *truth.perches, *truth.slumps):
        movements += [span.start, span.end]
    expected_prompts = truth_prompts(truth.sessions, truth.sits, truth.stands, movements, Breaks(), end_t)
    by_type = lambda kind: [e for e in events if e.type == kind]
    truth_of = {
        "session": truth.sessions,
        "sit": truth.sits,
        "stand": truth.stands,
        "lean": truth.leans,
        "twist": truth.twists,
        "perch": truth.perches,
        "slump": truth.slumps,
        "fidget": truth.fidgets,
        "fault": truth.faults,
        "prompt": expected_prompts,
    }
    scores = {}
    for kind in KINDS:
        detected = pipeline.sessions if kind == "session" else by_type(kind)
        scores[kind] = score(kind, truth_of[kind], detected, end_t)
    seated_truth = sum((s.end if s.end is not None else end_t) - s.start for s in truth.sessions)
    seated = sum((s.end if s.end is not None else end_t) - s.start for s in pipeline.sessions)
    return scores, seated_truth, seated


# (seed, rate, hours, hardware): "noisy" is 5x the noise, 30x the spikes, 5% of
# frames dropped and 30 short gaps an hour.
DAYS = [
    (1, 80, 8.0, "typical"),
    (2, 10, 8.0, "typical"),
    (3, 10, 8.0, "typical"),
    (11, 80, 6.0, "noisy"),
    (12, 10, 6.0, "noisy"),
]
HARDWARE = {
    "typical": {},
    "noisy": dict(
        noise_kg=0.1, drift_kg_per_h=0.4, spikes_per_hour=60, drop_fraction=0.05, gaps_per_hour=30, jitter_s=0.004
    ),
}


@pytest.fixture(scope="module")
def scored_days():
    results = {}
    for seed, rate, hours, hardware in DAYS:
        sim = Simulation(
            random_day(seed, hours=hours), calibration=DEMO_CALIBRATION, rate_hz=rate, seed=seed, **HARDWARE[hardware]
        )
        results[(seed, rate, hours, hardware)] = scores_for(sim)
    return results


@pytest.mark.parametrize("day", DAYS, ids=[f"seed{s}-{r}hz-{h:g}h-{k}" for s, r, h, k in DAYS])
def test_simulated_day_matches_its_truth(scored_days, day):
    scores, seated_truth, seated = scored_days[day]
    report = "\n".join(str(s) for s in scores.values())
    worst = min(scores.values(), key=lambda s: s.f1)
    assert worst.f1 >= 0.95, f"worst: {worst}\n{report}"
    assert seated == pytest.approx(seated_truth, rel=0.01), report


def test_every_event_kind_is_exercised(scored_days):
    totals = {kind: sum(scores[kind].truth for scores, _, _ in scored_days.values()) for kind in KINDS}
    assert all(count > 0 for count in totals.values()), totals
