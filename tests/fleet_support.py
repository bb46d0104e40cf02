"""A hub's database as `cushion hub` leaves it, without a broker: the fleet table and each cushion's history."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from device.storage.fleet import FleetStore
from device.storage.store import Store
from tests.sample_history import fill_history


def state(**values):
    """A cushion's state message (SPEC section 8) with these values over an idle one."""
    base = {
        "seated": False,
        "sitting_s": 0.0,
        "seated_today_s": 0.0,
        "sessions_today": 0,
        "breaks_today": 0,
        "break_due": False,
        "next_prompt": None,
        "lean": None,
        "posture": None,
        "fidgets_per_10min": 0,
        "silenced": None,
        "faults": [],
    }
    return {**base, **values}


def make_hub(path: Path, days_of_history: int = 0) -> Path:
    """Three cushions: desk-1 seated with a break due, desk-2 away with a fault, desk-3 offline for an hour.
    With days_of_history, each has that many days of sample history up to now."""
    now = datetime.now().astimezone()
    with FleetStore(path) as fleet:
        fleet.heard("desk-1", now, online=True)
        fleet.heard(
            "desk-1",
            now,
            state=state(
                seated=True, sitting_s=3000.0, break_due=True, seated_today_s=7200.0, sessions_today=3, breaks_today=2
            ),
        )
        fleet.heard("desk-2", now, online=True)
        fleet.heard("desk-2", now, state=state(faults=["fl"], seated_today_s=600.0, sessions_today=1))
        fleet.heard("desk-3", now - timedelta(hours=2), online=True)
        fleet.heard("desk-3", now - timedelta(hours=2), state=state(seated=True))
        fleet.heard("desk-3", now - timedelta(hours=1), online=False)
        fleet.commit()
        for index, cushion_id in enumerate(("desk-1", "desk-2", "desk-3")):
            with Store(fleet.history_path(cushion_id)) as store:
                if days_of_history:
                    first = date.today() - timedelta(days=days_of_history - 1)
                    fill_history(store, first, days_of_history, seed=index + 1, until=datetime.now())
                store.set_live(
                    {"seated": index == 0, "sitting_s": 3000.0 if index == 0 else 0.0, "break_due": index == 0},
                    wall=now,
                )
    return path
