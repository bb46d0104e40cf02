"""The settings form: the editable config keys as fields, parsed and validated the daemon's way.

Every key of device.config.EDITABLE_SECTIONS is a field with a label, a unit
and a line of help (no key names are shown to a person). What is saved is
the difference from the config file (or the defaults), as {"section.key":
value} settings; `config_with_settings` validates them exactly as the daemon
will. Its errors name keys ("settings: [breaks] overdue_after_min: must be
later than break_after_min (45.0), got 30"); `explain` rewrites them in the
fields' own words ("Must be later than “Break due after” (45 min); you
entered 30.") and they are shown next to the field they are about.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from device.config import EDITABLE_SECTIONS, Config, config_with_settings
from device.errors import CushionError

# section -> (title, whether it starts folded away)
GROUPS = {
    "breaks": ("Breaks and quiet hours", False),
    "alerts": ("Buzzer, light and button", False),
    "detect": ("Detection thresholds (advanced)", True),
}

# "section.key" -> (label, unit, help). Every editable key has one (a test checks).
TEXT: dict[str, tuple[str, str, str]] = {
    "breaks.break_after_min": ("Break due after", "min", "Continuous sitting before the first break prompt. "
                               "The guide: stand every 30-45 minutes."),
    "breaks.overdue_after_min": ("Break overdue after", "min", "The stronger reminder; later than “Break due "
                                 "after”. The guide names more than 60 minutes without moving as a trigger."),
    "breaks.repeat_min": ("Repeat the overdue reminder every", "min", "How often it comes back while you sit on."),
    "breaks.still_min": ("Move nudge after sitting still for", "min",
                         "A soft chirp after this long without any movement."),
    "breaks.break_min_s": ("A break is at least", "s", "Shorter absences don't end the sitting session."),
    "breaks.quiet_hours": ("Quiet hours", "", "Ranges like 22:00-07:00, separated by commas; the buzzer is "
                           "silent then, prompts are still recorded. Empty: none."),
    "alerts.buzzer_enabled": ("Buzzer on", "", "Off: prompts are shown and recorded, never sounded."),
    "alerts.snooze_min": ("Snooze length", "min", "A press of the button silences prompts this long."),
    "alerts.hold_s": ("Hold to mute the day", "s", "Holding the button this long mutes the rest of the day."),
    "alerts.buzzer": ("Buzzer type", "", "active: beeps by itself; passive: needs a tone; none: not fitted."),
    "alerts.buzzer_pin": ("Buzzer pin", "BCM GPIO", "0 to 27. No buzzer fitted? Set the buzzer type to none."),
    "alerts.led": ("Light type", "", "plain: on/off; pwm: dimmable."),
    "alerts.led_pin": ("Light pin", "BCM GPIO", "0 to 27."),
    "alerts.button_pin": ("Button pin", "BCM GPIO", "0 to 27, or -1 if no button is fitted."),
    "detect.seated_kg": ("Seated from", "kg", "A load this heavy, held for “Seated after”, is someone sitting "
                         "(not a bag)."),
    "detect.seated_hold_s": ("Seated after", "s", "How long the load must stay above “Seated from”."),
    "detect.away_kg": ("Away below", "kg", "A load lighter than this, held for “Away after”, means you got up. "
                       "No more than “Seated from”."),
    "detect.away_hold_s": ("Away after", "s", "How long the load must stay below “Away below”."),
    "detect.lean_start": ("Lean starts at", "", "How uneven the weight is side to side, from 0 (even) to 1 "
                          "(all on one side): 0.2 is a 60/40 split."),
    "detect.lean_end": ("Lean ends below", "", "No more than “Lean starts at”; 0.14 is a 57/43 split."),
    "detect.lean_end_hold_s": ("Lean ends after", "s", "How long the weight must stay more even for a lean to end."),
    "detect.lean_min_s": ("A lean lasts at least", "s", "Shorter excursions are twists if they peak high enough."),
    "detect.twist_peak": ("Twist peak", "", "A shorter excursion reaching this far to one side is a twist "
                          "(reaching for something). From “Lean starts at” to 1."),
    "detect.fidget_mm": ("Fidget distance", "mm", "A fidget moves your centre of pressure at least this far ..."),
    "detect.fidget_window_s": ("Fidget within", "s", "... within this time ..."),
    "detect.fidget_speed_mm_s": ("Fidget speed", "mm/s", "... at least this fast."),
    "detect.fidget_merge_s": ("Fidgets merge within", "s", "Movements closer together than this are one fidget."),
    "detect.fidget_guard_s": ("No fidgets near sitting down for", "s",
                              "Movements this close to sitting down or standing up are not fidgets."),
    "detect.perch_sag": ("Perch from", "", "How far forward the weight is, from 0 (centre) to 1: this far "
                         "forward is perching on the front edge."),
    "detect.slump_sag": ("Slump from", "", "How far back the weight is, from 0 (centre) to -1: this far back "
                         "is slumping."),
    "detect.posture_min_s": ("Perch or slump held for", "s", "Shorter ones are not counted."),
    "detect.posture_end_hold_s": ("Perch or slump ends after", "s", "How long the weight must stay back in range."),
    "detect.fault_no_data_s": ("Fault when silent for", "s", "A load cell that sends nothing this long is a "
                               "sensor fault."),
    "detect.fault_stuck_s": ("Fault when stuck for", "s", "A load cell frozen this long while the others move "
                             "is a sensor fault."),
    "detect.fault_session_s": ("All sensors out ends the session after", "s",
                               "With every load cell at fault this long, the sitting session is closed."),
    "detect.spike_kg": ("Ignore single jumps of", "kg", "One reading this far from both neighbours is a glitch."),
    "detect.corner_max_kg": ("Highest believable corner load", "kg", "More than “Seated from”; a reading above "
                             "it is a fault."),
    "detect.corner_min_kg": ("Lowest believable corner load", "kg", "Below 0 (an empty corner reads a little "
                             "below zero); a reading below it is a fault."),
    "detect.zero_track_tau_s": ("Zero tracking speed", "s", "On an empty cushion the zero follows slow drift "
                                "with this time constant (300 s is 5 minutes)."),
    "detect.zero_track_max_kg": ("Zero tracking range", "kg", "Only readings this close to zero are followed; "
                                 "0 turns zero tracking off."),
}
CHOICES = {"alerts.buzzer": ("active", "passive", "none"), "alerts.led": ("plain", "pwm")}
# Shown first within their section; the rest follow in the config's order.
FIRST = ("breaks.break_after_min", "breaks.overdue_after_min", "breaks.repeat_min", "breaks.still_min",
         "breaks.quiet_hours", "breaks.break_min_s", "alerts.buzzer_enabled", "alerts.snooze_min", "alerts.hold_s")
# Keys that are not settings but can be named in an error about one (the wiring in the config file).
OTHER_NAMES = {"clock_pin": "the load cells' clock line", "clock_pins": "a load cell's clock line",
               "data_pins": "a load cell's data line"}
_WHERE = re.compile(r"^(?:[^\[]*: )?\[(\w+)\] (\w+)(?:\[(\d+)\])?(?: and (\w+))?(?: = (-?[\d.]+))?: (.*)$", re.S)
_GOT = re.compile(r",? got (.+)$", re.S)
_HHMM = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


@dataclass(frozen=True, slots=True)
class Field:
    name: str       # "section.key", the form field and the setting's name
    section: str
    key: str
    kind: str       # "float", "int", "bool", "str", "list"
    label: str
    unit: str
    help: str
    choices: tuple[str, ...] | None = None


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, tuple):
        return "list"
    return "str"


def fields(config: Config | None = None) -> list[Field]:
    config = config or Config()
    found = []
    for section in EDITABLE_SECTIONS:
        obj = getattr(config, section)
        for f in dataclasses.fields(obj):
            name = f"{section}.{f.name}"
            label, unit, help_text = TEXT.get(name, (f.name.replace("_", " ").capitalize(), "", ""))
            found.append(Field(name, section, f.name, _kind(getattr(getattr(Config(), section), f.name)),
                               label, unit, help_text, CHOICES.get(name)))
    order = {name: i for i, name in enumerate(FIRST)}
    return sorted(found, key=lambda fd: (EDITABLE_SECTIONS.index(fd.section), order.get(fd.name, len(order))))


def config_value(config: Config, field: Field) -> Any:
    value = getattr(getattr(config, field.section), field.key)
    return list(value) if isinstance(value, tuple) else value


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(value)
    return str(value)


def _quiet_range_problem(text: str) -> str | None:
    """What is wrong with one quiet-hours range, in words (None: nothing the config would refuse for its form)."""
    found = _HHMM.fullmatch(text)
    if not found:
        return f"“{text}” is not a time range: write it as HH:MM-HH:MM, for example 22:00-07:00."
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    if not (0 <= h1 <= 23 and 0 <= h2 <= 23 and 0 <= m1 <= 59 and 0 <= m2 <= 59):
        return f"“{text}”: hours run from 00 to 23 and minutes from 00 to 59."
    if (h1, m1) == (h2, m2):
        return (f"“{text}” starts and ends at the same time. To silence the buzzer all day, "
                "untick “Buzzer on” instead.")
    return None


def parse(field: Field, form) -> Any:
    """The field's value from the form; ValueError with a message for the person."""
    if field.kind == "bool":
        return form.get(field.name) in ("on", "true", "1")
    text = (form.get(field.name) or "").strip()
    if field.kind == "list":
        parts = [part.strip() for part in re.split(r"[,\n]", text) if part.strip()]
        for part in parts:
            problem = _quiet_range_problem(part)
            if problem:
                raise ValueError(problem)
        return parts
    if field.kind in ("float", "int") and not text:
        raise ValueError("Enter a value.")
    if field.kind == "float":
        try:
            return float(text.replace(",", "."))
        except ValueError:
            raise ValueError(f"Enter a number, not “{text}”.") from None
    if field.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"Enter a whole number, not “{text}”.") from None
    if field.choices and text not in field.choices:
        raise ValueError(f"Choose one of {', '.join(field.choices)}.")
    return text


def _number(text: str) -> str:
    try:
        return f"{float(text):g}"
    except ValueError:
        return text.strip().strip("'\"")


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def explain(error: CushionError | str, known: list[Field]) -> tuple[list[str], str]:
    """The fields an error from device.config is about, and the message in the fields' own words.

    ("settings: [detect] away_kg: must not exceed seated_kg (15.0), got 20.0") ->
    (["detect.away_kg"], "Must not be more than “Seated from” (15 kg); you entered 20.")
    """
    message = str(error)
    found = _WHERE.match(message)
    if not found:
        return [], _sentence(message)
    section, key, _index, other_key, pin, rest = found.groups()
    by_name = {f.name: f for f in known}
    names = [n for n in (f"{section}.{key}", other_key and f"{section}.{other_key}") if n]
    entered = None
    got = _GOT.search(rest)
    if got:
        entered = _number(got.group(1))
        rest = rest[:got.start()]
    if pin is not None:
        entered = pin

    def label_of(match: re.Match) -> str:
        sect, name, value = match.group("sect") or section, match.group("key"), match.group("value")
        field = by_name.get(f"{sect}.{name}")
        if field is None:
            return OTHER_NAMES.get(name, name.replace("_", " ")) + (f" ({_number(value)})" if value else "")
        shown = f"“{field.label}”"
        if value:
            shown += f" ({_number(value)}{' ' + field.unit if field.unit and 'GPIO' not in field.unit else ''})"
        return shown

    rest = re.sub(r"(?:\[(?P<sect>\w+)\] )?\b(?P<key>[a-z]+(?:_[a-z]+)+)\b(?: \((?P<value>-?[\d.]+)\))?", label_of, rest)
    for raw, plain in (("must not exceed", "must not be more than"), ("not exceed", "not be more than"),
                       ("must exceed", "must be more than"),
                       ("must be positive", "must be more than 0"), ("must not be negative", "must not be below 0"),
                       ("expected a number", "enter a number"), ("expected a whole number", "enter a whole number"),
                       ("give each its own pin", "give each its own pin"),
                       ("must be a BCM GPIO number from 0 to 27", "must be a GPIO (BCM) number from 0 to 27")):
        rest = rest.replace(raw, plain)
    if pin is not None and rest.startswith("same pin as"):
        rest = f"pin {pin} is already used by {rest[len('same pin as '):]}"
        entered = None
    text = _sentence(rest.rstrip(" ,;:"))
    if entered is not None:
        text = text[:-1] + f"; you entered {entered}."
    return [n for n in names if n in by_name], text


# A rule as device.config words it about the first key, and the same rule seen from the other key.
_REVERSED = (("must be later than", "Must be earlier than"), ("must not exceed", "Must not be less than"),
             ("not exceed", "Must not be less than"), ("must exceed", "Must be less than"),
             ("must be from", "Must not be more than"))


def _from_the_other_side(raw: str, named: Field, named_value: Any, entered: Any, fallback: str) -> str:
    """An error about a field left unchanged (`named`), said at the field that was changed."""
    value = as_text(named_value)
    if "same pin as" in raw:
        return f"Pin {as_text(entered)} is already used by “{named.label}”; give each its own pin."
    for phrase, reversed_rule in _REVERSED:
        if phrase in raw:
            unit = f" {named.unit}" if named.unit and "GPIO" not in named.unit else ""
            return f"{reversed_rule} “{named.label}” ({value}{unit}); you entered {as_text(entered)}."
    return f"Doesn't fit with “{named.label}” ({value}): {fallback[:1].lower()}{fallback[1:]}"


def validate(base: Config, form, known: list[Field]) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings the form asks for (only what differs from `base`) and errors per field name.

    All the changes are checked together, as the daemon will apply them, so that
    two fields changed to fit each other pass; a field refused is set aside and
    the rest checked again, so that every wrong field gets its own message. A rule
    that ties a changed field to one left alone is shown at the changed one.
    """
    errors: dict[str, str] = {}
    wanted: dict[str, Any] = {}
    for field in known:
        try:
            value = parse(field, form)
        except ValueError as exc:
            errors[field.name] = str(exc)
            continue
        if value != config_value(base, field):
            wanted[field.name] = value
    by_name = {f.name: f for f in known}
    remaining = dict(wanted)
    for _ in range(len(remaining) + 1):
        try:
            config_with_settings(base, remaining)
            break
        except CushionError as exc:
            names, message = explain(exc, known)
            raw = str(exc)
            hit = [n for n in names if n in remaining]
            if not hit:
                # The rule names a field left as it was: it is about the change to another one.
                hit = [n for n in remaining if re.search(rf"\b{re.escape(by_name[n].key)}\b", raw)]
                if hit and names:
                    message = _from_the_other_side(raw, by_name[names[0]], config_value(base, by_name[names[0]]),
                                                   remaining[hit[0]], message)
            if not hit:
                errors["_form"] = message
                break
            for name in hit:
                errors.setdefault(name, message)
                remaining.pop(name, None)
    return wanted, errors
