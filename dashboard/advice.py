"""Prevention advice the dashboard shows next to the person's data.

Pure data and a few small helpers; no Flask. The facts and numbers come from
the back-spasm guide in `../shared/guide-back-spasms.txt`; the wording is our
own (tests/test_advice.py checks that no run of seven words is copied).

- `SECTIONS`: the advice, in reading order. Each section's `id` is its HTML
  anchor; `urgent` marks the red-flag section.
- `RED_FLAGS`: the warning signs, with stable keys for the diary checkboxes.
- `ADVICE_FOR_EVENT`: for each event kind the dashboard shows, the section to
  link to and a one-line nudge.
- `advice_for_now(...)`: one piece of advice for the present moment (just sat
  down, seated a while, break due, overdue, leaning, twisting, still for
  long, up for a moment, away).

This is general self-care advice, not a diagnosis (see `DISCLAIMER`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, NamedTuple


@dataclass(frozen=True, slots=True)
class Item:
    """One thing to do: `text` is the short action, `detail` an optional line of how or why."""

    text: str
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Section:
    """A block of advice. `id` is the HTML anchor; `summary` is one line."""

    id: str
    title: str
    summary: str
    items: tuple[Item, ...]
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class RedFlag:
    """A warning sign that needs medical help. `key` is stable: the diary stores it;
    `short` names it in a few words (the diary's banner)."""

    key: str
    label: str
    action: str
    short: str = ""


class Advice(NamedTuple):
    """A nudge: the section to link to (its id) and one line of text."""

    section: str
    text: str


DISCLAIMER = (
    "This is general self-care advice, not a diagnosis. "
    "If a red flag applies to you, get medical help instead of reading on."
)

# The guide lists its red flags under one heading, "requiring immediate
# attention", and makes no emergency distinction between them: one
# instruction for all. (Unexplained weight loss is in the guide's list of
# signs to seek medical attention for.)
SEEK_HELP = "Get medical attention promptly; don't wait to see if it passes."

RED_FLAGS: tuple[RedFlag, ...] = (
    RedFlag("leg_numbness", "Numbness or weakness in one or both legs", SEEK_HELP, "numb or weak legs"),
    RedFlag("bladder_bowel", "Losing control of your bladder or bowels", SEEK_HELP, "bladder or bowel control"),
    RedFlag("after_trauma", "Spasms that began after a fall, crash or hard blow", SEEK_HELP, "after a fall or blow"),
    RedFlag("fever", "A fever together with back spasms", SEEK_HELP, "fever"),
    RedFlag("pain_unrelieved", "Severe pain that no change of position eases", SEEK_HELP, "pain no position eases"),
    RedFlag("weight_loss", "Weight loss you can't explain", SEEK_HELP, "unexplained weight loss"),
)


SECTIONS: tuple[Section, ...] = (
    Section(
        id="spasm-now",
        title="When a spasm starts",
        summary="Keep still and breathe, then move slowly and use heat or cold. "
        "If a red flag applies, go to the red flags first.",
        items=(
            Item(
                "Stop what you're doing and keep still.", "Fighting the cramp or bracing against it makes it hurt more."
            ),
            Item("Breathe slowly and deeply.", "With each breath out, let the muscles around the cramp go soft."),
            Item("Settle into whichever position hurts least."),
            Item(
                "When the worst has passed, change position slowly.",
                "If you were sitting, stand up; if you were standing, sit down. "
                "Turn hips and shoulders together, as one block, with no twist.",
            ),
            Item(
                "For a lower-back spasm, lie on your back with your knees bent.",
                "Feet flat on the floor, knees pointing up.",
            ),
            Item(
                "Put heat on it for 15-20 minutes.",
                "Try a heat wrap, a heating pad or a warm compress. Heat usually suits a spasm best: "
                "it loosens the tight muscle and brings blood to it.",
            ),
            Item(
                "Use cold for 15-20 minutes instead if the back is freshly hurt or swollen.",
                "Wrap the ice pack in a cloth. If heat feels worse, change to cold; some people alternate the two.",
            ),
            Item(
                "Once the pain settles, go for a gentle walk.", "Go slowly and stay inside the range that doesn't hurt."
            ),
            Item(
                "Don't stretch hard while the muscle is still cramping.",
                "Forcing it now can add pain or cause an injury. Wait until the muscle lets go, then stretch gently.",
            ),
            Item(
                "Back at your desk, sit with back support and take breaks more often.",
                "Avoid whatever set the spasm off. If spasms are severe or keep coming back, "
                "talk to a doctor before you go back to your usual routine.",
            ),
        ),
    ),
    Section(
        id="why",
        title="Why sitting sets off spasms",
        summary="Holding one position tires the muscles that keep you upright, and tired muscles cramp.",
        items=(
            Item(
                "Staying in one position wears out your postural muscles.",
                "They work the whole time you sit, with no pause to recover.",
            ),
            Item("Sitting squeezes blood vessels.", "Less blood flow means less oxygen for the back muscles."),
            Item("The muscles stay partly tensed for hours."),
            Item("Slouching adds strain a little at a time."),
            Item("Without movement, muscles get no chance to recover."),
            Item(
                "It turns into a cycle.",
                "Tired muscles work harder to hold you, form tender knots (trigger points) that "
                "grow oversensitive, and then a small movement sets off a full spasm, which "
                "leaves the muscle even more tired.",
            ),
            Item(
                "Sitting still for over 60 minutes is a known trigger.",
                "So are slouching, no lower-back support, twisting to reach things, soft sagging "
                "seats, a cold room and too little to drink.",
            ),
            Item(
                "That is why the cushion nudges you.",
                "By default it reminds you to stand at 45 minutes, again from 60 minutes, "
                "and asks for a small shift after 20 minutes of sitting completely still.",
            ),
        ),
    ),
    Section(
        id="posture",
        title="Posture",
        summary="Let the chair carry your back: sit back, support your lower back, feet down.",
        items=(
            Item(
                "Support the curve of your lower back.",
                "A lumbar support or a rolled towel holds the curve so your muscles don't have to.",
            ),
            Item("Sit all the way back so the backrest takes your weight."),
            Item(
                "Don't perch on the front edge of the seat.",
                "Sitting forward leaves your back muscles holding you up alone. The cushion calls this a perch.",
            ),
            Item(
                "Don't slide down and sink back either.",
                "Slouching strains the back bit by bit. The cushion calls this a slump.",
            ),
            Item(
                "Keep both feet flat on the floor.",
                "This keeps your pelvis level. Use a footrest if your feet don't reach.",
            ),
            Item("Bend your elbows to about 90 degrees while you type.", "This takes strain off your upper back."),
            Item("Put your screen at eye level.", "Then your head doesn't drift forward to read it."),
        ),
    ),
    Section(
        id="movement",
        title="Movement and breaks",
        summary="Stand up every 30-45 minutes and walk at least once an hour.",
        items=(
            Item(
                "Stand up every 30-45 minutes.",
                "Even a minute on your feet gives the muscles that held you still a rest.",
            ),
            Item(
                "Walk at least once an hour, even briefly.",
                "To the window, the kitchen or the printer: anywhere counts.",
            ),
            Item("Never let 60 minutes pass without moving.", "Longer than that is a known spasm trigger."),
            Item("Work at a sit-stand desk when you can.", "Change between sitting and standing through the day."),
            Item("Take phone calls on your feet.", "Stand or walk while you talk."),
        ),
    ),
    Section(
        id="in-chair-movement",
        title="Moving while you sit (fidgets)",
        summary="Small movements in the chair rest your back muscles in turns; they add to breaks, "
        "they don't replace them.",
        items=(
            Item(
                "Move a little while you sit.",
                "Shift your weight from one side to the other and roll your shoulders now and then.",
            ),
            Item(
                "The cushion counts these small shifts as fidgets.",
                "A fidget is a quick move of your weight on the seat. A few an hour is ordinary in-chair movement.",
            ),
            Item(
                "Very still for a long time? That is what the move nudge is for.",
                "Without any movement the muscles get no rest. After 20 minutes of complete "
                "stillness the cushion chirps once: shift your weight, roll your shoulders.",
            ),
            Item(
                "A lot of shifting can mean the seat isn't working for you.",
                "If your fidget count climbs, check your lower-back support and seat height, "
                "and stand up for a minute.",
            ),
            Item("Shifting in the seat is no substitute for standing up.", "Stand every 30-45 minutes as well."),
        ),
    ),
    Section(
        id="desk",
        title="Desk set-up and reaching",
        summary="Set up the chair, keyboard and screen so you can sit back, and keep things close.",
        items=(
            Item("Set the chair height so your thighs are level with the floor."),
            Item(
                "Place the keyboard where your shoulders can hang relaxed.",
                "If your shoulders creep up toward your ears, it's too high.",
            ),
            Item(
                "Keep what you use most within easy reach.",
                "Phone, mouse, water and notes go in front of you, not off to one side or behind.",
            ),
            Item(
                "Turn your whole body instead of twisting.",
                "Swivel the chair, or stand and turn, to get something beside or behind you. "
                "Twisting in the seat is a common trigger.",
            ),
            Item(
                "If you keep leaning to one side, find out why.",
                "A screen off to one side, a mouse far out or an armrest at the wrong height can "
                "pull you over. Centre the screen in front of you.",
            ),
            Item("Choose a firm seat over a soft, sagging one."),
            Item("Keep the room warm enough.", "Cold muscles tighten more easily."),
        ),
    ),
    Section(
        id="hydration",
        title="Water and food",
        summary="Drink through the day and eat foods with potassium and magnesium.",
        items=(
            Item("Drink at least 8-10 glasses of water a day.", "Muscles short of fluid and salts cramp more easily."),
            Item(
                "Keep a glass or bottle on your desk.",
                "When you're focused it's easy to forget; refill it at each break.",
            ),
            Item("Keep your electrolytes in balance.", "Sodium, potassium and magnesium all matter for muscles."),
            Item("Get potassium from bananas, potatoes and leafy greens."),
            Item("Get magnesium from nuts, seeds and whole grains."),
        ),
    ),
    Section(
        id="exercises",
        title="Stretches and strengthening",
        summary="Stretch gently in the morning, every hour and after work; "
        "build core and hip strength; never during a spasm.",
        items=(
            Item(
                "Cat-cow: 10 slow repetitions, twice a day.",
                "On hands and knees, round your back up toward the ceiling, then let it sink down. Keep it smooth.",
            ),
            Item(
                "Knee-to-chest: hold 20-30 seconds on each side.",
                "Lying on your back, draw one knee toward your chest and hold. Change legs, "
                "then bring both knees in together.",
            ),
            Item(
                "Gentle seated twist: hold 15-20 seconds each way.",
                "Feet flat, turn your upper body slowly to one side, a light hand on the armrest. "
                "A slow, deliberate twist like this is fine; a quick twist to grab something is not.",
            ),
            Item("Core: bird-dogs, dead bugs and planks.", "Start small and add a little at a time."),
            Item('Back: gentle "superman" lifts.', "Lying face down, raise your arms and legs a little off the floor."),
            Item("Hips: bridges and clamshells."),
            Item("Walk: it is the best all-round exercise for your back."),
            Item("Morning: a few gentle stretches to loosen stiff muscles."),
            Item("At work: a short micro-stretch every hour."),
            Item("After work: a longer stretching session."),
            Item("During an active spasm: no stretching. Wait until it has passed."),
        ),
    ),
    Section(
        id="red-flags",
        title="Red flags: get medical attention promptly",
        summary="If any of these comes with your back spasms, get medical attention promptly "
        "instead of relying on self-care; don't wait to see if it passes.",
        items=tuple(Item(flag.label) for flag in RED_FLAGS),
        urgent=True,
    ),
    Section(
        id="see-a-doctor",
        title="When to see a doctor",
        summary="Book an appointment if spasms keep coming back or get in the way of your life.",
        items=(
            Item("Spasms come back every week, or more often."),
            Item("They disturb your sleep or your everyday life."),
            Item("They are getting worse over time."),
            Item("Pain spreads away from your back, for example down a leg."),
            Item("They don't settle with the self-care on this page."),
            Item(
                "Keep a diary to take with you.",
                "Note when spasms happen, what you were doing and any red flags; the diary page records this.",
            ),
        ),
    ),
    Section(
        id="treatments",
        title="What a doctor may offer",
        summary="Treatment depends on the cause; these are the common options.",
        items=(
            Item("Muscle relaxants", "Prescription medicine for a short course."),
            Item("Physical therapy", "Exercises chosen for you, plus hands-on treatment."),
            Item("Trigger point injections", "For knots that won't release."),
            Item("Massage therapy", "From a trained therapist."),
            Item("Treating an underlying cause", "For example a disc problem, arthritis or an irritated nerve."),
        ),
    ),
    Section(
        id="cushion-faults",
        title="When the cushion reports a fault",
        summary="A fault is about the cushion's sensors, not your body: check its wiring.",
        items=(
            Item(
                "A fault means one load-cell channel stopped giving usable readings.",
                "It says nothing about your back.",
            ),
            Item(
                "Expect fewer nudges while it lasts.",
                "The cushion would rather miss a lean or a fidget than report a false one.",
            ),
            Item(
                "Check the cable to the corner named in the fault.",
                "Power the Pi off first, then reseat the connector at both ends.",
            ),
            Item(
                "If it keeps coming back, work through the troubleshooting guide.",
                "It comes with the cushion's hardware instructions and goes from symptom (a channel "
                "that never answers, or reads a fixed or extreme value) to cause and fix. The Device "
                "page shows which corner failed, when, for how long and why.",
            ),
            Item(
                "A short fault doesn't end your sitting session.",
                "One under 30 seconds doesn't count as standing up, so break reminders carry on.",
            ),
        ),
    ),
)

_BY_ID: Mapping[str, Section] = MappingProxyType({s.id: s for s in SECTIONS})


def section(section_id: str) -> Section:
    """The section with this id; KeyError names the id if there is none."""
    try:
        return _BY_ID[section_id]
    except KeyError:
        raise KeyError(f"no advice section {section_id!r}") from None


ADVICE_FOR_EVENT: Mapping[str, Advice] = MappingProxyType(
    {
        "break_due": Advice("movement", "Time to stand up: walk for a couple of minutes and refill your water."),
        "break_overdue": Advice(
            "movement", "You've been sitting too long in one go: get up now and take a short walk."
        ),
        "move": Advice(
            "in-chair-movement", "You've been very still: shift your weight side to side and roll your shoulders."
        ),
        "lean": Advice(
            "desk",
            "You leaned to one side for a while: bring your screen and the things you reach for in front of you.",
        ),
        "twist": Advice("desk", "Turn your chair or stand up to reach things, rather than twisting in the seat."),
        "perch": Advice("posture", "You sat on the front edge: slide back and let the backrest carry you."),
        "slump": Advice("posture", "You sank back in the seat: sit up tall with your lower back supported."),
        "fidget": Advice(
            "in-chair-movement",
            "Small shifts are good for you; a lot of them can mean you're uncomfortable: "
            "check your back support, or stand up for a minute.",
        ),
        "long_session": Advice("movement", "That was a long spell in the chair: aim to stand every 30-45 minutes."),
        "fault": Advice(
            "cushion-faults",
            "A cushion sensor stopped giving readings: check its cables. This is about the device, not your back.",
        ),
    }
)


# For someone who has been seated a while and has nothing more pressing to hear.
GENERAL_TIPS: tuple[Advice, ...] = (
    Advice("hydration", "Keep a glass of water within reach and sip through the day."),
    Advice("posture", "Check your feet: both flat on the floor, or on a footrest."),
    Advice("desk", "If you catch yourself leaning in to read, raise the screen to eye level."),
    Advice("movement", "Take your next phone call standing up."),
    Advice("in-chair-movement", "Now and then, shift your weight from side to side and roll your shoulders."),
    Advice("posture", "Let your elbows rest at about 90 degrees while you type."),
    Advice("posture", "Is your lower back supported? A cushion or a rolled towel keeps its curve."),
)

JUST_SAT_MIN = 2.0  # for this long after sitting down, settling in is what matters
JUST_SAT = Advice(
    "posture", "Settling in? Sit all the way back so the backrest carries you, with both feet flat on the floor."
)
UP = Advice(
    "movement",
    "Stay on your feet a little longer and walk a few steps: it only counts as a break after a minute or so.",
)
AWAY = Advice("hydration", "While you're away, drink a glass of water. When you sit down again, sit all the way back.")


@dataclass(frozen=True, slots=True)
class Moment:
    """What the dashboard knows about the present moment.

    seated: someone is on the cushion. up: not seated, but the session goes on
    (stood up for less than a break). break_due / break_overdue: that prompt is
    active (the break has not been taken yet). leaning: "left", "right" or None.
    twisted_recently: a twist was reported in the last few minutes. posture:
    "perch", "slump" or None. still_minutes: minutes since the last movement.
    sitting_minutes: minutes since the current session started.
    """

    seated: bool = True
    up: bool = False
    break_due: bool = False
    break_overdue: bool = False
    leaning: str | None = None
    twisted_recently: bool = False
    posture: str | None = None
    still_minutes: float = 0.0
    sitting_minutes: float = 0.0

    def __post_init__(self) -> None:
        if self.leaning not in (None, "left", "right"):
            raise ValueError(f"leaning must be 'left', 'right' or None, not {self.leaning!r}")
        if self.posture not in (None, "perch", "slump"):
            raise ValueError(f"posture must be 'perch', 'slump' or None, not {self.posture!r}")


def advice_for_now(
    state: Moment | Mapping[str, object] | None = None,
    /,
    *,
    still_after_min: float = 20.0,
    tip: int | None = None,
    **fields: Any,
) -> Advice:
    """Pick one piece of advice for the present moment.

    `state` is a `Moment`, a dict of its fields, or nothing; keyword arguments
    add to or override it (`advice_for_now(seated=True, leaning="left")`).
    Unknown fields raise TypeError, bad values ValueError.

    Priority: up for a moment (stay up: it becomes a break) or away (water,
    then sit back); a break overdue or due (what to do on it); a recent twist;
    a lean (chair and desk set-up); a perch or slump (posture); stillness of
    `still_after_min` minutes or more (the cushion's `still_min`; a seated
    weight shift); just sat down (settle in well); otherwise one of
    GENERAL_TIPS: number `tip` if given, else one per ten minutes seated, so
    the tip stays put for a while and changes during a long session.
    """
    if isinstance(state, Moment):
        moment = replace(state, **fields)
    else:
        moment = Moment(**{**dict(state or {}), **fields})

    if not moment.seated:
        return UP if moment.up else AWAY
    if moment.break_due or moment.break_overdue:
        sat = int(moment.sitting_minutes)
        if moment.break_overdue:
            lead = f"You've been sitting {_minutes_text(sat)}" if sat >= 1 else "Your break is overdue"
            return Advice("movement", f"{lead}: stand up now, walk for a few minutes and drink some water.")
        return Advice(
            "movement", "Break time: stand up, walk for a couple of minutes and refill your water on the way."
        )
    if moment.twisted_recently:
        return Advice(
            "desk",
            "You twisted to reach just now: move what you use most within easy reach, and turn the chair next time.",
        )
    if moment.leaning is not None:
        return Advice(
            "desk",
            f"You're leaning to the {moment.leaning}: check whether your screen, mouse "
            "or armrest is pulling you that way, and centre them.",
        )
    if moment.posture == "perch":
        return Advice(
            "posture", "You're on the front edge of the seat: slide back until the backrest supports your lower back."
        )
    if moment.posture == "slump":
        return Advice(
            "posture", "You've sunk back in the seat: sit up tall, lower back against the support, feet flat."
        )
    if moment.still_minutes >= still_after_min:
        return Advice(
            "in-chair-movement",
            f"You haven't moved for {int(moment.still_minutes)} minutes: shift "
            "your weight from side to side and roll your shoulders a few times.",
        )
    if moment.sitting_minutes < JUST_SAT_MIN:
        return JUST_SAT
    index = int(moment.sitting_minutes // 10) if tip is None else tip
    return GENERAL_TIPS[index % len(GENERAL_TIPS)]


def _minutes_text(minutes: int) -> str:
    """'75 minutes', or '3 h 25 min' once it is hours."""
    if minutes < 120:
        return f"{minutes} minutes"
    return f"{minutes // 60} h {minutes % 60:02d} min"
