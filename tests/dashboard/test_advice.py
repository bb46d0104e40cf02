"""Prevention advice (dashboard/advice.py): structure, coverage of the guide, own wording, priorities."""

import itertools
import re

import pytest

from dashboard.advice import (
    ADVICE_FOR_EVENT,
    AWAY,
    DISCLAIMER,
    GENERAL_TIPS,
    JUST_SAT,
    RED_FLAGS,
    SECTIONS,
    UP,
    Moment,
    advice_for_now,
    section,
)
from tests.paths import SHARED

GUIDE = SHARED / "guide-back-spasms.txt"

EVENT_KINDS = {
    "break_due",
    "break_overdue",
    "move",
    "lean",
    "twist",
    "perch",
    "slump",
    "fidget",
    "long_session",
    "fault",
}

SECTION_IDS = {s.id for s in SECTIONS}


def now_texts():
    """Every text advice_for_now can produce, over a grid of inputs."""
    grid = itertools.product(
        (True, False),
        (False, True),
        (False, True),
        (False, True),
        (None, "left", "right"),
        (False, True),
        (None, "perch", "slump"),
        (0.0, 25.0),
        (0.0, 50.0, 75.0, 205.0),
    )
    keys = (
        "seated",
        "up",
        "break_due",
        "break_overdue",
        "leaning",
        "twisted_recently",
        "posture",
        "still_minutes",
        "sitting_minutes",
    )
    out = {advice_for_now(dict(zip(keys, values))) for values in grid}
    out |= {advice_for_now(tip=i) for i in range(len(GENERAL_TIPS))}
    return out


def all_texts():
    texts = [DISCLAIMER]
    for s in SECTIONS:
        texts += [s.title, s.summary]
        for item in s.items:
            texts.append(item.text)
            if item.detail:
                texts.append(item.detail)
    for flag in RED_FLAGS:
        texts += [flag.label, flag.action, flag.short]
    texts += [a.text for a in ADVICE_FOR_EVENT.values()]
    texts += [a.text for a in GENERAL_TIPS]
    texts += [a.text for a in now_texts()]
    return texts


def words(text):
    """Lower-case words with punctuation stripped; apostrophes vanish, dashes split."""
    text = text.lower().replace("\u2019", "").replace("'", "")
    return re.findall(r"[a-z0-9]+", text)


def runs(ws, n=7):
    return {tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)}


@pytest.fixture(scope="module")
def guide_runs():
    if not GUIDE.is_file():
        pytest.skip(f"source guide not found at {GUIDE}: cannot check for copied wording")
    return runs(words(GUIDE.read_text(encoding="utf-8")))


# --- structure -------------------------------------------------------------


def test_section_ids_are_unique_anchors():
    ids = [s.id for s in SECTIONS]
    assert len(ids) == len(set(ids))
    for sid in ids:
        assert re.fullmatch(r"[a-z][a-z0-9-]*", sid), sid


def test_every_section_has_a_title_a_one_line_summary_and_items():
    for s in SECTIONS:
        assert s.title and s.summary and "\n" not in s.summary, s.id
        assert s.items, s.id
        for item in s.items:
            assert item.text.strip(), s.id
            assert item.detail is None or item.detail.strip(), s.id


def test_the_sections_the_guide_needs_are_there():
    assert {
        "spasm-now",
        "why",
        "posture",
        "movement",
        "desk",
        "hydration",
        "exercises",
        "red-flags",
        "see-a-doctor",
        "treatments",
        "cushion-faults",
    } <= SECTION_IDS


def test_section_lookup_by_id():
    assert section("posture").title == "Posture"
    with pytest.raises(KeyError, match="nope"):
        section("nope")


def test_every_event_kind_links_to_an_existing_section():
    assert set(ADVICE_FOR_EVENT) == EVENT_KINDS
    for kind, (section_id, nudge) in ADVICE_FOR_EVENT.items():
        assert section_id in SECTION_IDS, kind
        assert nudge and "\n" not in nudge, kind


def test_a_fault_points_to_the_device_note_not_health_advice():
    target = section(ADVICE_FOR_EVENT["fault"].section)
    assert target.id == "cushion-faults" and not target.urgent
    assert "troubleshooting" in " ".join(i.text for i in target.items)
    assert all(a.section != "cushion-faults" for k, a in ADVICE_FOR_EVENT.items() if k != "fault")


def test_no_text_shows_a_repository_path():
    """A person reads the advice, not the repository: no "hardware/troubleshooting.md" and the like."""
    for text in all_texts():
        assert not re.search(r"\b[\w-]+/[\w.-]+\.(md|py|toml|txt)\b", text), text


def test_fidgets_and_move_nudges_link_to_a_section_about_moving_in_the_chair():
    target = section(ADVICE_FOR_EVENT["fidget"].section)
    assert target.id == "in-chair-movement" and "fidget" in target.title.lower()
    assert ADVICE_FOR_EVENT["move"].section == "in-chair-movement"
    text = " ".join([target.summary] + [i.text + " " + (i.detail or "") for i in target.items]).lower()
    assert "shift your weight" in text and "roll your shoulders" in text


def test_the_spasm_advice_reads_as_a_sentence():
    detail = section("spasm-now").items[-1].detail
    assert "talk to a doctor before you go back to your usual routine" in detail


def test_the_red_flag_section_is_urgent_and_lists_every_red_flag():
    (urgent,) = [s for s in SECTIONS if s.urgent]
    assert urgent.id == "red-flags"
    texts = [item.text for item in urgent.items]
    for flag in RED_FLAGS:
        assert flag.label in texts


def test_every_red_flag_says_the_same_thing_as_the_box_around_it():
    """The guide puts all its red flags under "requiring immediate attention": one instruction for all,
    and the box's heading and summary say it too (no "book an appointment soon" inside a "now" box)."""
    (urgent,) = [s for s in SECTIONS if s.urgent]
    actions = {flag.action for flag in RED_FLAGS}
    assert len(actions) == 1
    (action,) = actions
    assert "medical attention promptly" in action.lower()
    assert "medical attention promptly" in urgent.summary.lower() and "promptly" in urgent.title.lower()
    for text in [action, urgent.title, urgent.summary] + [i.text for i in urgent.items]:
        assert "soon" not in text.lower() and "appointment" not in text.lower(), text


def test_every_red_flag_has_a_short_name():
    shorts = [flag.short for flag in RED_FLAGS]
    assert all(shorts) and len(set(shorts)) == len(shorts) and all(len(s) <= 25 for s in shorts)


def test_red_flag_keys_are_stable():
    # The diary stores these keys: renaming one loses history.
    assert [f.key for f in RED_FLAGS] == [
        "leg_numbness",
        "bladder_bowel",
        "after_trauma",
        "fever",
        "pain_unrelieved",
        "weight_loss",
    ]


# --- what the guide says is all here ----------------------------------------


@pytest.mark.parametrize(
    "section_id, number",
    [
        ("movement", "30-45"),  # stand every 30-45 minutes
        ("movement", "60"),  # more than 60 minutes without moving is a trigger
        ("spasm-now", "15-20"),  # heat or cold for 15-20 minutes
        ("hydration", "8-10"),  # glasses of water a day
        ("exercises", "20-30"),  # knee-to-chest hold, seconds
        ("exercises", "15-20"),  # seated twist hold, seconds
        ("exercises", "10"),  # cat-cow repetitions
        ("posture", "90"),  # elbows at 90 degrees
    ],
)
def test_the_guides_numbers_are_in_the_advice(section_id, number):
    s = section(section_id)
    text = " ".join([s.summary] + [i.text for i in s.items] + [i.detail or "" for i in s.items])
    assert re.search(rf"(?<![\d-]){re.escape(number)}(?![\d-])", text), (section_id, number)


@pytest.mark.parametrize(
    "words_needed",
    [
        ("potassium", "bananas", "potatoes", "leafy greens", "magnesium", "nuts", "seeds", "whole grains"),
        (
            "cat-cow",
            "twice a day",
            "knee-to-chest",
            "bird-dogs",
            "dead bugs",
            "planks",
            "bridges",
            "clamshells",
            "walk",
            "morning",
            "every hour",
            "after work",
            "active spasm",
        ),
        ("lumbar", "backrest", "front edge", "feet flat", "eye level"),
        ("sit-stand", "phone calls", "weight", "shoulders"),
        ("thighs", "keyboard", "easy reach", "whole body"),
        ("heat", "cold", "knees bent", "one block", "stretch"),
        ("muscle relaxants", "physical therapy", "trigger point injections", "massage"),
    ],
)
def test_the_guides_advice_is_covered(words_needed):
    text = " ".join(all_texts()).lower()
    for w in words_needed:
        assert w in text, w


# --- our own words ----------------------------------------------------------


def test_no_run_of_seven_words_is_copied_from_the_guide(guide_runs):
    copied = {" ".join(run) for text in all_texts() for run in runs(words(text)) & guide_runs}
    assert not copied, f"copied from the guide: {sorted(copied)}"


def test_the_copy_check_would_catch_a_copied_sentence(guide_runs):
    copied = "Dehydration and electrolyte imbalances make muscles more prone to cramping."
    assert runs(words(copied)) & guide_runs


@pytest.mark.parametrize("word", ["pillow", "warranty", "money back", "guarantee", "free shipping", "trial"])
def test_no_marketing_from_the_guide(word):
    for text in all_texts():
        assert word not in " ".join(words(text)), text


# --- advice for the present moment ------------------------------------------


def test_away_from_the_cushion_suggests_using_the_break():
    assert advice_for_now(seated=False, break_due=True, leaning="left") == AWAY
    assert AWAY.section == "hydration"


def test_up_for_a_moment_is_told_to_stay_up_until_it_is_a_break():
    got = advice_for_now(seated=False, up=True, sitting_minutes=50)
    assert got == UP and "break" in got.text and got.section == "movement"


def test_just_sat_down_is_told_to_settle_in_not_to_get_up():
    """Ten seconds after sitting down, no advice to stand up or take a minute on your feet."""
    got = advice_for_now(sitting_minutes=10 / 60)
    assert got == JUST_SAT and got.section == "posture"
    assert "sit all the way back" in got.text.lower()
    for word in ("stand", "on your feet", "walk", "break"):
        assert word not in got.text.lower()


def test_a_due_break_beats_everything_seated():
    got = advice_for_now(break_due=True, leaning="left", twisted_recently=True, posture="perch", still_minutes=30)
    assert got.section == "movement"
    assert "stand up" in got.text


def test_an_overdue_break_says_how_long_you_have_sat():
    got = advice_for_now(break_overdue=True, sitting_minutes=75.4)
    assert got.section == "movement" and "75 minutes" in got.text
    assert "3 h 25 min" in advice_for_now(break_overdue=True, sitting_minutes=205).text
    assert "overdue" in advice_for_now(break_overdue=True).text


def test_a_recent_twist_beats_leaning():
    got = advice_for_now(twisted_recently=True, leaning="right", posture="slump")
    assert got.section == "desk" and "twist" in got.text


def test_leaning_points_to_desk_set_up_and_names_the_side():
    got = advice_for_now(leaning="left", posture="perch", still_minutes=40)
    assert got.section == "desk" and "left" in got.text


def test_perch_and_slump_point_to_posture():
    perch = advice_for_now(posture="perch", still_minutes=40)
    slump = advice_for_now(posture="slump")
    assert perch.section == slump.section == "posture"
    assert perch.text != slump.text


def test_long_stillness_asks_for_a_weight_shift():
    got = advice_for_now(still_minutes=22, sitting_minutes=30)
    assert got.section == "in-chair-movement" and "weight" in got.text
    assert advice_for_now(still_minutes=12, still_after_min=10, sitting_minutes=30).section == "in-chair-movement"


def test_seated_a_while_gets_a_tip_that_changes_every_ten_minutes():
    assert advice_for_now(sitting_minutes=5) == GENERAL_TIPS[0]
    assert advice_for_now(sitting_minutes=9.9) == GENERAL_TIPS[0]
    assert advice_for_now(still_minutes=5, sitting_minutes=30) == GENERAL_TIPS[3]
    assert advice_for_now(sitting_minutes=30, tip=len(GENERAL_TIPS) + 1) == GENERAL_TIPS[1]


def test_no_seated_tip_tells_a_person_to_take_a_break():
    """A tip comes while no break is due: none of them may say it is time to get up."""
    for tip in GENERAL_TIPS:
        assert "a minute on your feet" not in tip.text.lower() and "break" not in tip.text.lower(), tip


def test_dict_moment_and_keywords_are_the_same():
    state = {"leaning": "right", "still_minutes": 25}
    assert advice_for_now(state) == advice_for_now(Moment(**state)) == advice_for_now(**state)
    assert advice_for_now(state, leaning=None) == advice_for_now(still_minutes=25)
    assert advice_for_now(Moment(leaning="right"), leaning=None) == advice_for_now()


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="leaning"):
        advice_for_now(leaning="back")
    with pytest.raises(ValueError, match="posture"):
        advice_for_now(posture="sideways")
    with pytest.raises(TypeError):
        advice_for_now(sitting_hours=2)


def test_every_answer_links_to_an_existing_section():
    for advice in now_texts() | set(GENERAL_TIPS):
        assert advice.section in SECTION_IDS, advice
