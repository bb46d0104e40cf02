"""A random office day: sessions, breaks and the movements of a desk worker, as a Scenario."""

from __future__ import annotations

import math

import numpy as np

from device.config import Geometry
from device.sim.scenario import (
    FAULT_KINDS,
    REST_LAT,
    REST_SAG,
    Person,
    Scenario,
    _peak_speed,
    _side_sign,
)

# ---------------------------------------------------------------------------
# A random office day


class _DayPlanner:
    """Scripts a plausible office day: sessions, short absences, breaks, movements, a bag, faults."""

    _END_MARGIN_S = 10.0  # nothing starts this close to the end of the recording
    _GAP_MIN_S = 2.5  # movements at least this far apart (fidgets need 1.5 s)
    _ACTIONS = ("fidget", "lean", "twist", "posture", "drift", "absence")
    _WEIGHTS = (0.63, 0.09, 0.09, 0.08, 0.08, 0.03)

    def __init__(self, seed: int, hours: float, geometry: Geometry):
        self.rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(100,)))
        self.end = hours * 3600.0
        self.geometry = geometry
        rng = self.rng
        person = Person(
            mass_kg=rng.uniform(50, 110),
            seated_share=rng.uniform(0.70, 0.80),
            x_mm=float(np.clip(rng.normal(0, 6), -15, 15)) * geometry.width_mm / 400,
            y_mm=float(np.clip(rng.normal(0, 8), -20, 20)) * geometry.depth_mm / 400,
            breath_hz=rng.uniform(0.2, 0.3),
            breath_mm=rng.uniform(1.0, 3.0),
            breath_kg=rng.uniform(0.15, 0.3),
            sway_mm=rng.uniform(1.5, 3.0),
        )
        self.sc = Scenario(
            person, geometry, seated=bool(rng.random() < 0.4), name=f"random_day(seed={seed}, hours={hours:g})"
        )
        self.x_max = REST_LAT * geometry.width_mm / 2
        self.y_max = REST_SAG * geometry.depth_mm / 2

    @property
    def left(self) -> float:
        return self.end - self.sc.time_s

    def build(self) -> Scenario:
        rng = self.rng
        if self.sc.seated:
            self._session(rng.uniform(5, 60) * 60)  # a session that began before the recording
        else:
            self._break(rng.uniform(10, 600))
        while self.left > 0:
            self._sit()
            if self.left <= 0:
                break
            seconds = rng.uniform(15, 95) * 60
            if seconds + 60 > self.left and self.left > 8 * 60 and rng.random() < 0.5:
                # Leave before the recording ends, sometimes less than a break before.
                seconds = self.left - rng.uniform(20, min(600, self.left - 5 * 60))
            self._session(seconds)
            if self.left > 0:
                self._break(rng.uniform(2, 20) * 60)
        self._place_faults()
        return self.sc

    def _fill(self) -> None:
        """Stay as you are until the end of the day."""
        if self.left > 0:
            self.sc.hold(self.left)

    def _sit(self) -> None:
        if self.left < 5 + self._END_MARGIN_S:
            self._fill()
            return
        self.sc.sit_down(self.rng.uniform(0.6, 1.5))

    def _break(self, seconds: float) -> None:
        """Away for `seconds`; sometimes a bag lies on the cushion meanwhile."""
        sc, rng = self.sc, self.rng
        seconds = min(seconds, self.left)
        if seconds > 90 and rng.random() < 0.3:
            before, after = rng.uniform(5, 30), rng.uniform(10, 30)
            on = max(0.0, seconds - before - after - 0.6)
            sc.away(before).place_object(rng.uniform(2, 6), rng.uniform(-60, 60), rng.uniform(-60, 60))
            sc.away(on)
            if self.left > after + 0.3:
                sc.remove_object().away(min(after, self.left))
            else:
                self._fill()  # the day ends with the bag still on the cushion
                return
        else:
            sc.away(seconds)
        if self.left < 5 + self._END_MARGIN_S:
            self._fill()  # the day ends during the break

    def _session(self, seconds: float) -> None:
        sc, rng = self.sc, self.rng
        session_end = min(sc.time_s + seconds, self.end)
        day_ends_seated = session_end >= self.end - self._END_MARGIN_S
        finish_by = (self.end - self._END_MARGIN_S) if day_ends_seated else session_end - 6.0
        # How restless the person is this session: mean pause between movements.
        mean_gap = float(np.clip(rng.lognormal(math.log(60), 0.7), 12, 400))
        still_at = None
        if seconds > 35 * 60 and rng.random() < 0.5:
            still_at = sc.time_s + rng.uniform(0, seconds - 30 * 60)
        sc.hold(min(rng.uniform(5, 10), max(self.left, 0)))
        while sc.time_s < finish_by:
            if still_at is not None and sc.time_s >= still_at:
                still_at = None
                sc.hold(min(rng.uniform(21, 30) * 60, max(finish_by - sc.time_s, 0)))
                continue
            gap = max(self._GAP_MIN_S, rng.exponential(mean_gap * rng.uniform(0.5, 1.5)))
            action = self._ACTIONS[rng.choice(len(self._ACTIONS), p=self._WEIGHTS)]
            plan = self._plan(action)
            if plan is None or sc.time_s + gap + plan[0] + self._GAP_MIN_S > finish_by:
                if sc.time_s + gap > finish_by:
                    break
                sc.hold(gap)
                continue
            sc.hold(gap)
            plan[1]()
        if day_ends_seated:
            self._fill()
            return
        if session_end > sc.time_s:
            sc.hold(session_end - sc.time_s)
        if self.left < 3 + self._END_MARGIN_S:
            self._fill()
            return
        sc.stand_up(rng.uniform(0.6, 1.5))

    def _plan(self, action: str):
        """(seconds it takes, a callable that scripts it), or None if it cannot be done from here."""
        sc, rng = self.sc, self.rng
        half_width = self.geometry.width_mm / 2
        half_depth = self.geometry.depth_mm / 2
        if action == "fidget":
            target = self._target(28, 70)
            if target is None:
                return None
            duration = rng.uniform(0.3, 0.6)
            dx, dy = target[0] - sc.x.value, target[1] - sc.y.value
            return duration, lambda: sc.fidget(dx, dy, duration)
        if action == "drift":
            target = self._target(5, 20)
            if target is None:
                return None
            dx, dy = target[0] - sc.x.value, target[1] - sc.y.value
            seconds = _peak_speed(math.hypot(dx, dy), 1.0) / rng.uniform(1.0, 3.0)
            return seconds, lambda: sc.drift(dx, dy, seconds)
        if action == "lean":
            side, lat, hold = rng.choice(["left", "right"]), rng.uniform(0.25, 0.40), rng.uniform(15, 180)
            distance = abs(_side_sign(side) * lat * half_width - sc.x.value)
            ramp = max(1.5, _peak_speed(distance, 1.0) / rng.uniform(12, 22))
            return hold + 2 * ramp, lambda: sc.lean(side, lat, hold, ramp)
        if action == "twist":
            side, peak, seconds = rng.choice(["left", "right"]), rng.uniform(0.35, 0.50), rng.uniform(1.5, 6.5)
            return seconds, lambda: sc.twist(side, peak, seconds)
        if action == "posture":
            kind = "perch" if rng.random() < 0.5 else "slump"
            sag, hold = rng.uniform(0.36, 0.45), rng.uniform(40, 400)
            distance = abs((sag if kind == "perch" else -sag) * half_depth - sc.y.value)
            ramp = rng.uniform(0.45, 0.7) if rng.random() < 0.5 else _peak_speed(distance, 1.0) / rng.uniform(8, 15)
            verb = sc.perch if kind == "perch" else sc.slump  # each applies its own sign to sag
            return hold + 2 * ramp, lambda: verb(hold, sag, ramp)
        if action == "absence":
            away = rng.uniform(10, 45)

            def absence() -> None:
                sc.hold(rng.uniform(4, 8))  # stand-ups keep clear of the last movement
                sc.stand_up(rng.uniform(0.6, 1.5)).away(away).sit_down(rng.uniform(0.6, 1.5))
                sc.hold(rng.uniform(5, 8))

            return away + 25.0, absence
        raise AssertionError(action)

    def _target(self, low_mm: float, high_mm: float) -> tuple[float, float] | None:
        """A resting position low_mm..high_mm away from the current one, or None."""
        x, y = self.sc.x.value, self.sc.y.value
        for _ in range(60):
            tx, ty = self.rng.uniform(-self.x_max, self.x_max), self.rng.uniform(-self.y_max, self.y_max)
            if low_mm <= math.hypot(tx - x, ty - y) <= high_mm:
                return tx * 0.999, ty * 0.999
        return None

    def _place_faults(self) -> None:
        """A few faults of 1-20 s, each inside a quiet stretch (nothing else moves) with 3 s to spare."""
        rng, sc = self.rng, self.sc
        hours = self.end / 3600.0
        count = rng.poisson(3.0 * hours / 8.0) + (1 if hours >= 1 else 0)
        placed: list[tuple[float, float]] = []
        for _ in range(count):
            kind = FAULT_KINDS[rng.integers(len(FAULT_KINDS))]
            # A frozen channel is only a fault after 2 s (SPEC): keep clear of that edge.
            seconds = rng.uniform(3, 20) if kind in ("stuck", "all_ones") else rng.uniform(1, 20)
            room = [(a, b) for a, b in sc.quiet if b - a >= seconds + 6 and b <= self.end]
            for _attempt in range(20):
                if not room:
                    break
                a, b = room[rng.integers(len(room))]
                start = rng.uniform(a + 3, b - 3 - seconds)
                if all(start + seconds + 5 < s or start > e + 5 for s, e in placed):
                    placed.append((start, start + seconds))
                    sc.fault(int(rng.integers(4)), kind, seconds, at=start)
                    break


def random_day(seed: int, hours: float = 8.0, geometry: Geometry | None = None) -> Scenario:
    """A realistic office day of `hours`, different for every seed.

    Sessions of 15-95 min, short absences of 10-45 s inside them, breaks of
    2-20 min; fidgets at a rate that changes from session to session, with
    long still stretches (21-30 min) in some; leans of 15-180 s (|lat|
    0.25-0.40), twists of 1.5-6.5 s (peak 0.35-0.50), perches and slumps of
    40-400 s; sometimes a bag of 2-6 kg on the empty cushion; a few channel
    faults of 1-20 s (3-20 s for a frozen channel); the person may already be seated at the start or
    still seated at the end. Movements keep the design margins of SPEC
    section 3's thresholds (see the module constants).
    """
    return _DayPlanner(seed, hours, geometry or Geometry()).build()
