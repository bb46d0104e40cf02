"""The history database's tables and the records passed in: one schema, versioned.

A migration, once released, never changes: an old file is upgraded by
running the ones it has not seen, in order (PRAGMA user_version). Add new
ones at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

# ---- records passed in -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Snooze:
    """A press of the button: `action` "snooze" (for snooze_min) or "mute_day" (until midnight).

    `kind` is the prompt that was showing ("break_due", "break_overdue",
    "move") or "" if none; `wall` when it was pressed, `until_wall` when the
    prompts come back (datetimes; naive ones are local time).
    """

    wall: datetime
    kind: str
    until_wall: datetime
    action: str


SNOOZE_ACTIONS = ("snooze", "mute_day")

# The pain diary's words, in one place: the value stored -> the plain words
# the pages show, in the order the form offers them. Values once stored never
# change meaning: "lower", "middle" and "upper" are parts of the back (all a
# diary entry could say before v6); the rest came with v6.
DIARY_REGION_NAMES = {  # head to foot: the sitting-related pain a physiotherapist asks about
    "neck": "neck",
    "upper": "upper back",
    "middle": "middle back",
    "lower": "lower back",
    "buttock": "buttock",
    "hip": "hip",
    "leg": "leg",
}
DIARY_REGIONS = tuple(DIARY_REGION_NAMES)
DIARY_SIDES = ("left", "centre", "right")  # the person's own left and right
# The sides each region can have: a hip or a leg is on the left or the right, never in the centre.
DIARY_REGION_SIDES = {
    region: ("left", "right") if region in ("hip", "leg") else DIARY_SIDES for region in DIARY_REGIONS
}
DIARY_KIND_NAMES = {  # the kind of pain; NULL in the database: not given (every entry before v6)
    "spasm": "spasm",
    "ache": "ache",
    "sharp": "sharp",
    "numbness": "numbness or tingling",
}
DIARY_KINDS = tuple(DIARY_KIND_NAMES)

# The live row: column -> what it holds. Missing keys are stored as NULL.
LIVE_COLUMNS = {
    "seated": "bool: someone is sitting",
    "sitting_s": "seconds since the current session started",
    "next_prompt_kind": "the prompt due next: break_due, break_overdue or move",
    "next_prompt_in_s": "seconds until that prompt",
    "cop_x_mm": "centre of pressure, mm right of centre",
    "cop_y_mm": "centre of pressure, mm forward of centre",
    "lat": "lateral balance, -1..1, positive = right",
    "sag": "sagittal balance, -1..1, positive = forward",
    "total_kg": "seated load, kg",
    "fidgets_per_10min": "fidget rate over the last 10 minutes",
    "faults": "JSON list of channels at fault (or fault objects)",
    "sample_rate_hz": "frames per second actually read",
    "dropped_frames": "frames lost since the daemon started",
    "recent_s": "the span of the recent window (up to 10 minutes) that the next two count over, seconds",
    "frames_recent": "frames read in the recent window",
    "dropped_recent": "frames lost in the recent window",
    "break_due": "bool: the break LED is on",
    "muted_until_wall": "prompts are snoozed or muted until this time",
    "away_s": "seconds since the person stood up (none while seated)",
    "silenced": "why the buzzer stays silent now: quiet_hours, snoozed, muted, disabled; none: it may sound",
    "silenced_until_wall": "when that ends (quiet hours, a snooze, a mute); none for disabled",
}
# What the dashboard may ask the daemon to do with the buzzer (silence_requests.action).
SILENCE_ACTIONS = ("snooze", "mute_day", "resume")


def _v1_tables(db: Database) -> None:
    """The tables, and indexes on the wall times the `*_between` queries compare."""
    db.table("sessions").create(
        {
            "id": int,
            "start_wall": str,
            "end_wall": str,
            "start_t": float,
            "end_t": float,
            "prompts": str,
            "last_heartbeat_wall": str,
        },
        pk="id",
        not_null={"start_wall", "start_t", "prompts", "last_heartbeat_wall"},
    )
    db.table("events").create(
        {"id": int, "type": str, "wall": str, "detected_wall": str, "data": str},
        pk="id",
        not_null={"type", "wall", "detected_wall", "data"},
    )
    db.table("minutes").create(
        {
            "minute": str,
            "seated_s": float,
            "lat_mean": float,
            "sag_mean": float,
            "fidgets": int,
            "lean_left_s": float,
            "lean_right_s": float,
            "twists": int,
            "prompts": int,
        },
        pk="minute",
        not_null={"seated_s", "fidgets", "lean_left_s", "lean_right_s", "twists", "prompts"},
    )
    db.table("snoozes").create(
        {"id": int, "wall": str, "kind": str, "until_wall": str, "action": str},
        pk="id",
        not_null={"wall", "kind", "until_wall", "action"},
    )
    db.table("faults").create(
        {"id": int, "channel": str, "start_wall": str, "end_wall": str, "reason": str},
        pk="id",
        not_null={"channel", "start_wall", "reason"},
    )
    db.table("settings").create(
        {"key": str, "value": str, "updated_wall": str}, pk="key", not_null={"value", "updated_wall"}
    )
    live: dict[str, Any] = {"id": int, "updated_wall": str}
    live.update(
        {
            "seated": int,
            "sitting_s": float,
            "next_prompt_kind": str,
            "next_prompt_in_s": float,
            "cop_x_mm": float,
            "cop_y_mm": float,
            "lat": float,
            "sag": float,
            "total_kg": float,
            "fidgets_per_10min": float,
            "faults": str,
            "sample_rate_hz": float,
            "dropped_frames": int,
            "break_due": int,
            "muted_until_wall": str,
        }
    )
    db.table("live").create(live, pk="id", not_null={"updated_wall"})
    db.table("device_info").create({"key": str, "value": str}, pk="key", not_null={"value"})
    db.table("meta").create({"key": str, "value": int}, pk="key", not_null={"value"})
    # julianday() compares instants even when offsets differ (summer / winter time).
    for table, column in (
        ("sessions", "start_wall"),
        ("events", "wall"),
        ("snoozes", "wall"),
        ("faults", "start_wall"),
    ):
        db.execute(f"CREATE INDEX {table}_{column} ON {table} (julianday({column}))")


def _v2_event_sessions(db: Database) -> None:
    """events.session_id: the session an event belongs to (NULL outside sessions).

    Events already stored are matched to the session whose wall-time span holds
    them (an open session's span runs to its last heartbeat).
    """
    db.table("events").add_column("session_id", int)
    db.execute(
        """
        UPDATE events SET session_id = (
            SELECT s.id FROM sessions AS s
            WHERE julianday(s.start_wall) <= julianday(events.wall)
              AND julianday(events.wall) <= julianday(COALESCE(s.end_wall, s.last_heartbeat_wall))
            ORDER BY julianday(s.start_wall) DESC LIMIT 1)
        """
    )
    db.table("events").create_index(["session_id"], index_name="events_session_id")


def _v3_diary(db: Database) -> None:
    """diary: episodes of back pain the person logs on the dashboard.

    wall: when it happened (ISO-8601 local time with offset); logged_wall: when
    it was written down. region "lower", "middle" or "upper"; side "left",
    "centre" or "right"; severity 0-10; red_flags a JSON list of the keys of
    the warning signs ticked (dashboard.advice.RED_FLAGS).
    """
    db.table("diary").create(
        {
            "id": int,
            "wall": str,
            "logged_wall": str,
            "region": str,
            "side": str,
            "severity": int,
            "note": str,
            "red_flags": str,
        },
        pk="id",
        not_null={"wall", "logged_wall", "region", "side", "severity", "note", "red_flags"},
    )
    db.execute("CREATE INDEX diary_wall ON diary (julianday(wall))")


def _v4_live_recent_loss(db: Database) -> None:
    """live.recent_s, frames_recent, dropped_recent: frames read and lost over
    the last minutes, so that a lasting loss is judged on what happens now,
    not on a count since the daemon started."""
    db.table("live").add_column("recent_s", float)
    db.table("live").add_column("frames_recent", int)
    db.table("live").add_column("dropped_recent", int)


def _v5_event_ids(db: Database) -> None:
    """events.uid: each event's stable id (16 hex digits, random), the `id` of its
    MQTT message (SPEC section 8): the same event sent twice is known as one."""
    db.table("events").add_column("uid", str)
    db.execute("UPDATE events SET uid = lower(hex(randomblob(8))) WHERE uid IS NULL")
    db.execute("CREATE UNIQUE INDEX events_uid ON events (uid)")


def _v6_diary_kind(db: Database) -> None:
    """diary.kind: the kind of pain, one of DIARY_KINDS ("spasm", "ache", "sharp",
    "numbness"), NULL when not given (so every entry written before). From v6
    region may also be "neck", "buttock", "hip" or "leg" (DIARY_REGIONS): new
    values in the same column, so old rows read as they did."""
    db.table("diary").add_column("kind", str)


def _v7_silence(db: Database) -> None:
    """live.away_s, silenced, silenced_until_wall: the break so far and why the buzzer
    is silent, for the Now page. silence_requests: Snooze / Mute / Resume asked for on
    the dashboard, for the daemon to take (taken_wall) within a second."""
    db.table("live").add_column("away_s", float)
    db.table("live").add_column("silenced", str)
    db.table("live").add_column("silenced_until_wall", str)
    db.table("silence_requests").create(
        {"id": int, "wall": str, "action": str, "minutes": float, "taken_wall": str, "until_wall": str},
        pk="id",
        not_null={"wall", "action"},
    )


MIGRATIONS: list[Callable[[Database], None]] = [
    _v1_tables,
    _v2_event_sessions,
    _v3_diary,
    _v4_live_recent_loss,
    _v5_event_ids,
    _v6_diary_kind,
    _v7_silence,
]
SCHEMA_VERSION = len(MIGRATIONS)


_JSON_COLUMNS = {"sessions": ("prompts",), "events": ("data",), "live": ("faults",), "diary": ("red_flags",)}
