"""The simulated sitter: a person on the cushion board, rendered to raw HX711 counts.

A `Scenario` scripts what a person does (sit down, lean, fidget, stand up...)
as smooth movements of their seated load and centre of pressure (CoP). A
`Simulation` renders a scenario to the frames a recorder would write: foam
lag, breathing, sway, per-channel noise and zero drift, flipped-bit spikes,
dropped frames, jittered time stamps and injected channel faults. `truth`
gives the events the scenario really contains (SPEC section 3), computed on
the noise-free signal, so a detector can be scored against it.

    scenario = (Scenario(Person(mass_kg=80))
                .away(5).sit_down().hold(60)
                .lean("left", lat=0.3, seconds=20).hold(30)
                .fidget(0, 30).hold(20).stand_up().away(90))
    sim = Simulation(scenario, rate_hz=80, seed=1)
    for block in sim.blocks():        # device.storage.recording.FrameBlock
        ...
    sim.truth.leans                   # [Lean(side="left", start=..., ...)]

Everything is pure numpy, deterministic for a seed, and never reads a clock.
Units: seconds, kilograms, millimetres; x is right (+), y is forward (+).
"""

from device.sim.days import random_day
from device.sim.physics import Trajectory, balance, corner_loads
from device.sim.rendering import DEMO_CALIBRATION, Simulation, write_recording
from device.sim.scenario import (
    DRIFT_MAX_MM_S,
    FAULT_KINDS,
    FIDGET_MAX_S,
    FIDGET_MIN_MM,
    REST_LAT,
    REST_SAG,
    SIT_FORWARD_MM,
    SLOW_MAX_MM_S,
    Move,
    Person,
    Scenario,
    Track,
)
from device.sim.truth import Truth, ground_truth

__all__ = [
    "DEMO_CALIBRATION",
    "DRIFT_MAX_MM_S",
    "FAULT_KINDS",
    "FIDGET_MAX_S",
    "FIDGET_MIN_MM",
    "REST_LAT",
    "REST_SAG",
    "SIT_FORWARD_MM",
    "SLOW_MAX_MM_S",
    "Move",
    "Person",
    "Scenario",
    "Simulation",
    "Track",
    "Trajectory",
    "Truth",
    "balance",
    "corner_loads",
    "ground_truth",
    "random_day",
    "write_recording",
]
