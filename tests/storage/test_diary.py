"""The pain diary's storage (device/storage/diary.py, schema v6): regions beyond the back, the kind of pain."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from device.storage.schema import (
    DIARY_KIND_NAMES,
    DIARY_KINDS,
    DIARY_REGION_NAMES,
    DIARY_REGION_SIDES,
    DIARY_REGIONS,
    DIARY_SIDES,
)
from device.storage.store import SCHEMA_VERSION, Store
from tests.storage.older_files import undo_after

TZ = timezone(timedelta(hours=2))
NOON = datetime(2024, 5, 1, 12, 0, tzinfo=TZ)
DAY = (datetime(2024, 5, 1, tzinfo=TZ), datetime(2024, 5, 2, tzinfo=TZ))


def test_the_words_are_in_one_place_and_the_back_keeps_its_old_values():
    assert DIARY_REGIONS == ("neck", "upper", "middle", "lower", "buttock", "hip", "leg")  # head to foot
    assert {"lower", "middle", "upper"} <= set(DIARY_REGIONS)  # what v3-v5 stored still means the same
    assert DIARY_REGION_NAMES["lower"] == "lower back" and DIARY_REGION_NAMES["leg"] == "leg"
    assert DIARY_KINDS == ("spasm", "ache", "sharp", "numbness") == tuple(DIARY_KIND_NAMES)
    assert set(DIARY_REGION_NAMES) == set(DIARY_REGION_SIDES)
    assert DIARY_REGION_SIDES["hip"] == DIARY_REGION_SIDES["leg"] == ("left", "right")
    assert DIARY_REGION_SIDES["neck"] == DIARY_REGION_SIDES["lower"] == DIARY_SIDES


def v5_file_with_old_entries(path) -> list[int]:
    """A diary as v5 software left it (no kind column), holding two old entries."""
    with Store(path) as store:
        ids = [
            store.add_diary_entry(NOON, region="lower", side="left", severity=6, note="long call", red_flags=["fever"]),
            store.add_diary_entry(NOON + timedelta(hours=1), region="upper", side="centre", severity=2),
        ]
    conn = sqlite3.connect(path)
    undo_after(conn, 5)  # v6 and what came after it
    conn.execute("PRAGMA user_version = 5")
    conn.commit()
    conn.close()
    return ids


def test_v6_keeps_old_entries_as_they_were_with_no_kind(tmp_path):
    path = tmp_path / "v5.db"
    first, second = v5_file_with_old_entries(path)
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION >= 6
        old, newer = store.diary_between(*DAY)
    assert (old["id"], old["region"], old["side"], old["severity"]) == (first, "lower", "left", 6)
    assert (old["note"], old["red_flags"], old["kind"]) == ("long call", ["fever"], None)  # None: not given
    assert (newer["id"], newer["region"], newer["side"], newer["kind"]) == (second, "upper", "centre", None)


def test_an_upgraded_file_takes_the_new_regions_and_kinds(tmp_path):
    path = tmp_path / "v5.db"
    v5_file_with_old_entries(path)
    with Store(path) as store:
        new = store.add_diary_entry(NOON + timedelta(hours=2), region="leg", side="right", severity=5, kind="numbness")
        assert store.diary_entry(new)["kind"] == "numbness"
        assert [e["kind"] for e in store.diary_latest()] == ["numbness", None, None]


@pytest.mark.parametrize("region", DIARY_REGIONS)
def test_every_region_round_trips_with_each_of_its_sides(fresh_store, region):
    for side in DIARY_REGION_SIDES[region]:
        entry_id = fresh_store.add_diary_entry(NOON, region=region, side=side, severity=4)
        entry = fresh_store.diary_entry(entry_id)
        assert (entry["region"], entry["side"], entry["kind"]) == (region, side, None)


@pytest.mark.parametrize("kind", DIARY_KINDS)
def test_every_kind_of_pain_round_trips(fresh_store, kind):
    entry_id = fresh_store.add_diary_entry(NOON, region="buttock", side="centre", severity=3, kind=kind)
    (entry,) = fresh_store.diary_between(*DAY)
    assert entry["id"] == entry_id and entry["kind"] == kind
    assert fresh_store.diary_latest() == [entry]


@pytest.mark.parametrize(
    "bad,message",
    [
        (dict(region="shoulder"), "region must be one of"),
        (dict(region="hip", side="centre"), "side of the hip must be one of ('left', 'right')"),
        (dict(region="leg", side="centre"), "side of the leg"),
        (dict(region="neck", side="both"), "side of the neck"),
        (dict(kind="burning"), "kind must be one of"),
        (dict(kind=""), "kind must be one of"),
        (dict(kind="Spasm"), "kind must be one of"),
    ],
)
def test_bad_regions_sides_and_kinds_are_refused_and_nothing_is_stored(fresh_store, bad, message):
    entry = dict(region="lower", side="right", severity=3) | bad
    with pytest.raises(ValueError) as caught:
        fresh_store.add_diary_entry(NOON, **entry)
    assert message in str(caught.value)
    assert fresh_store.diary_latest() == []
