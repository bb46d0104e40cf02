"""The demo's simulated week (device.cli.demo_week): each day is one daemon run, as on a real cushion."""

from datetime import date, datetime

from device.cli.demo_week import fill_history
from device.sim.sitter import DEMO_CALIBRATION, Simulation, random_day
from device.storage.store import Store


def _wall(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_day_that_ends_seated_closes_that_evening_not_days_later(tmp_path):
    # Seed 1's first two one-hour days end with the person still seated.
    ends_seated = [
        Simulation(random_day(1000 + i, hours=1.0), calibration=DEMO_CALIBRATION, rate_hz=10, seed=1000 + i)
        .truth.sessions[-1]
        .end
        is None
        for i in range(3)
    ]
    assert ends_seated[:2] == [True, True]
    with Store.open(tmp_path / "history.db") as store:
        fill_history(store, date(2026, 11, 2), 3, seed=1, hours=1.0)
        store.close_left_open()  # what the next run does on its first frame
        sessions = list(store.db["sessions"].rows)
    assert sessions
    for row in sessions:
        start, end = _wall(row["start_wall"]), _wall(row["end_wall"])
        assert start.date() == end.date(), f"a session from {start} to {end}"
        assert (end - start).total_seconds() <= 3600 + 60
