"""Make a history file look as an older version of the software left it, to test the migrations.

undo_after(conn, version) takes away what each migration after `version`
(down to v5) added, newest first; the caller drops older parts itself and
sets PRAGMA user_version.
"""

from __future__ import annotations


def _undo_v7(conn) -> None:
    conn.execute("DROP TABLE silence_requests")
    for column in ("away_s", "silenced", "silenced_until_wall"):
        conn.execute(f"ALTER TABLE live DROP COLUMN {column}")


def _undo_v6(conn) -> None:
    conn.execute("ALTER TABLE diary DROP COLUMN kind")


def _undo_v5(conn) -> None:
    conn.execute("DROP INDEX events_uid")
    conn.execute("ALTER TABLE events DROP COLUMN uid")


UNDO = {7: _undo_v7, 6: _undo_v6, 5: _undo_v5}


def undo_after(conn, version: int) -> None:
    for number in sorted(UNDO, reverse=True):
        if number > version:
            UNDO[number](conn)
