"""Sessions an earlier run left open (crash, power cut, restart): carried on or closed.

The newest is carried on if its last heartbeat is less than break_min_s ago:
the pipeline resumes it as a session whose person is away since that
heartbeat, so it goes on if they are (still) seated and otherwise ends at the
heartbeat. Older ones are closed at their last heartbeat.

A wall clock that reads earlier than that heartbeat (a Pi without a real-time
clock, before NTP has set it) cannot say how long the cushion was off: the
session is not carried on but closed at its heartbeat, and a new one starts
if someone is seated.
"""

from __future__ import annotations

import logging
from datetime import datetime

from device.core.pipeline import Pipeline
from device.storage.store import Store

log = logging.getLogger("cushion")


def recover_left_open(
    store: Store, pipeline: Pipeline, first_t: float, now_wall: datetime, break_min_s: float, carry_on: bool
) -> bool:
    """Carry on the newest left-open session if it may be (and carry_on), close the rest.

    first_t: this run's first frame time, at wall time now_wall. carry_on is
    False once this run has its own session (the database could not be read
    at the first frame): then the old ones are only closed. True if a session
    was carried on. Raises StoreError when the database will not do it.
    """
    resumed = False
    left = store.left_open()
    if left and carry_on:
        newest = left[-1]
        heartbeat = parse_wall(newest["last_heartbeat_wall"] or newest["start_wall"])
        start = parse_wall(newest["start_wall"])
        gap = (now_wall - heartbeat).total_seconds()
        if gap < 0:
            log.warning(
                "the clock reads %s, earlier than the last heartbeat %s of the session started %s "
                "(no real-time clock, and NTP has not set the time yet?): not carrying it on",
                now_wall.isoformat(timespec="seconds"),
                newest["last_heartbeat_wall"],
                newest["start_wall"],
            )
        elif gap < break_min_s:
            start_t = first_t - (now_wall - start).total_seconds()
            store.continue_session(newest["id"], start_t)
            pipeline.resume_session(start_t, tuple(newest["prompts"] or ()), first_t - gap)
            resumed = True
            log.info(
                "resuming the session started %s (last heartbeat %s)",
                newest["start_wall"],
                newest["last_heartbeat_wall"],
            )
    for row in store.close_left_open():
        log.info("closed the session started %s at its last heartbeat %s", row["start_wall"], row["end_wall"])
    return resumed


def parse_wall(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.astimezone()
