"""The settings form: the editable config keys as fields, parsed and validated the daemon's way.

Every key of device.config.EDITABLE_SECTIONS is a field. What is saved is
the difference from the config file (or the defaults), as {"section.key":
value} settings; `config_with_settings` validates them exactly as the daemon
will, and its error, which names the key, is shown next to that field.
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

# "section.key" -> (label, help). Keys without an entry get their name as label.
TEXT: dict[str, tuple[str, str]] = {
    "breaks.break_after_min": ("Break due after (min)", "Continuous sitting before the first break prompt. "
                               "The guide: stand every 30-45 minutes."),
    "breaks.overdue_after_min": ("Break overdue after (min)", "The stronger reminder; the guide names more than "
                                 "60 minutes without moving as a trigger."),
    "breaks.repeat_min": ("Repeat overdue every (min)", "How often the overdue reminder comes back."),
    "breaks.still_min": ("Move nudge after still for (min)", "A soft chirp after this long without any movement."),
    "breaks.break_min_s": ("A break is at least (s)", "Shorter absences don't end the session."),
    "breaks.quiet_hours": ("Quiet hours", "Ranges like 22:00-07:00, separated by commas; the buzzer is "
                           "silent then, prompts are still recorded. Empty: none."),
    "alerts.buzzer_enabled": ("Buzzer on", "Off: prompts are shown and recorded, never sounded."),
    "alerts.snooze_min": ("Snooze length (min)", "A press of the button silences prompts this long."),
    "alerts.hold_s": ("Hold to mute the day (s)", "Holding the button this long mutes the rest of the day."),
    "alerts.buzzer": ("Buzzer type", "active: beeps by itself; passive: needs a tone; none: not fitted."),
    "alerts.buzzer_pin": ("Buzzer pin (BCM)", "-1: not fitted."),
    "alerts.led": ("Light type", "plain: on/off; pwm: dimmable."),
    "alerts.led_pin": ("Light pin (BCM)", "-1: not fitted."),
    "alerts.button_pin": ("Button pin (BCM)", "-1: not fitted."),
    "detect.seated_kg": ("Seated at (kg)", "A person, not a bag: the load that counts as someone sitting."),
    "detect.away_kg": ("Away below (kg)", ""),
    "detect.lean_start": ("Lean starts at |lat|", "0.2 is a 60/40 split between the sides."),
    "detect.lean_end": ("Lean ends below |lat|", ""),
    "detect.lean_min_s": ("A lean lasts at least (s)", "Shorter excursions are twists if they peak high enough."),
    "detect.twist_peak": ("Twist peak |lat|", ""),
    "detect.fidget_mm": ("Fidget distance (mm)", ""),
    "detect.perch_sag": ("Perch at sag", "Weight forward on the front edge."),
    "detect.slump_sag": ("Slump at sag", "Weight far back."),
    "detect.posture_min_s": ("Perch/slump held for (s)", ""),
}
CHOICES = {"alerts.buzzer": ("active", "passive", "none"), "alerts.led": ("plain", "pwm")}
# Shown first within their section; the rest follow in the config's order.
FIRST = ("breaks.break_after_min", "breaks.overdue_after_min", "breaks.repeat_min", "breaks.still_min",
         "breaks.quiet_hours", "breaks.break_min_s", "alerts.buzzer_enabled", "alerts.snooze_min", "alerts.hold_s")
_WHERE = re.compile(r"\[(\w+)\] (\w+)")


@dataclass(frozen=True, slots=True)
class Field:
    name: str       # "section.key", the form field and the setting's name
    section: str
    key: str
    kind: str       # "float", "int", "bool", "str", "list"
    label: str
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
            label, help_text = TEXT.get(name, (f.name.replace("_", " "), ""))
            found.append(Field(name, section, f.name, _kind(getattr(getattr(Config(), section), f.name)),
                               label, help_text, CHOICES.get(name)))
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


def parse(field: Field, form) -> Any:
    """The field's value from the form; ValueError with a message for the person."""
    if field.kind == "bool":
        return form.get(field.name) in ("on", "true", "1")
    text = (form.get(field.name) or "").strip()
    if field.kind == "list":
        return [part.strip() for part in re.split(r"[,\n]", text) if part.strip()]
    if field.kind in ("float", "int") and not text:
        raise ValueError("enter a value")
    if field.kind == "float":
        try:
            return float(text.replace(",", "."))
        except ValueError:
            raise ValueError(f"enter a number, not {text!r}") from None
    if field.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"enter a whole number, not {text!r}") from None
    if field.choices and text not in field.choices:
        raise ValueError(f"choose one of {', '.join(field.choices)}")
    return text


def _explain(error: CushionError) -> tuple[str | None, str]:
    """(the field an error names, the message without its "settings: [section] key:" prefix)."""
    message = str(error)
    found = _WHERE.search(message)
    if not found:
        return None, message
    name = f"{found.group(1)}.{found.group(2)}"
    rest = message[found.end():].lstrip(": ").strip()
    rest = re.sub(r"^\[\d+\]: ", "", rest)  # a list item: "[0]: expected ..."
    return name, rest[:1].upper() + rest[1:] if rest else message


def validate(base: Config, form, known: list[Field]) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings the form asks for (only what differs from `base`) and errors per field name."""
    errors: dict[str, str] = {}
    wanted: dict[str, Any] = {}
    for field in known:
        try:
            value = parse(field, form)
        except ValueError as exc:
            errors[field.name] = str(exc)[:1].upper() + str(exc)[1:] + "."
            continue
        if value != config_value(base, field):
            wanted[field.name] = value
    # One at a time first, so that each wrong field gets its own message...
    for name, value in wanted.items():
        try:
            config_with_settings(base, {name: value})
        except CushionError as exc:
            where, message = _explain(exc)
            errors.setdefault(where or name, message)
    # ... then all together for the rules that tie two keys (away_kg <= seated_kg).
    if not errors:
        try:
            config_with_settings(base, wanted)
        except CushionError as exc:
            where, message = _explain(exc)
            errors[where if where in {f.name for f in known} else "_form"] = message
    return wanted, errors
