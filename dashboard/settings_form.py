"""The settings form: the editable config keys as fields, validated the daemon's way.

Every key of device.config.EDITABLE_SECTIONS is a field; its label, unit,
help and range come from the config schema (device.config.schema), so no
key name is shown to a person and nothing here repeats what a key is. What
is saved is the difference from the config file (or the defaults), as
{"section.key": value} settings; `config_with_settings` validates them
exactly as the daemon will. Its ConfigError carries the section, key, rule
and value as fields, and `describe` says it in the fields' own words
("Must be later than “Break due after” (45 min); you entered 30."), shown
next to the field it is about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from device.config import (
    EDITABLE_SECTIONS,
    Config,
    ConfigError,
    QuietRange,
    QuietRangeError,
    config_with_settings,
    key,
    keys,
)

# section -> (title, whether it starts folded away)
GROUPS = {
    "breaks": ("Breaks and quiet hours", False),
    "alerts": ("Buzzer, light and button", False),
    "detect": ("Detection thresholds (advanced)", True),
}
# Shown first within their section; the rest follow in the config's order.
FIRST = (
    "breaks.break_after_min",
    "breaks.overdue_after_min",
    "breaks.repeat_min",
    "breaks.still_min",
    "breaks.quiet_hours",
    "breaks.break_min_s",
    "alerts.buzzer_enabled",
    "alerts.snooze_min",
    "alerts.hold_s",
)
_FORM_KINDS = {"float": "float", "int": "int", "bool": "bool", "choice": "str", "quiet_hours": "list"}
_QUIET_PROBLEMS = {
    "form": "“{text}” is not a time range: write it as HH:MM-HH:MM, for example 22:00-07:00, optionally after "
    "the days (Mon-Fri 18:00-08:00), or days alone for whole days (Sat-Sun).",
    "day": "“{text}”: days are Mon, Tue, Wed, Thu, Fri, Sat and Sun, one day or one span such as Mon-Fri.",
    "clock": "“{text}”: hours run from 00 to 23 and minutes from 00 to 59.",
    "empty": "“{text}” starts and ends at the same time. To silence the buzzer all day, untick “Buzzer on” instead.",
}
# A rule between two keys, said at the key it is about, and at the other one.
_RELATION = {
    ">": "Must be more than",
    ">=": "Must not be less than",
    "<=": "Must not be more than",
    "<": "Must be less than",
}
_REVERSED = {
    ">": "Must be less than",
    ">=": "Must not be more than",
    "<=": "Must not be less than",
    "<": "Must be more than",
}
_LATER = {">": "Must be later than"}
_EARLIER = {">": "Must be earlier than"}


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # "section.key", the form field and the setting's name
    section: str
    key: str
    kind: str  # "float", "int", "bool", "str", "list"
    label: str
    unit: str
    help: str
    choices: tuple[str, ...] | None = None


def fields(config: Config | None = None) -> list[Field]:
    """The form's fields: every editable key, in the page's order."""
    found = []
    for section in EDITABLE_SECTIONS:
        for k in keys(section):
            spec = k.spec
            found.append(
                Field(
                    k.setting,
                    section,
                    k.name,
                    _FORM_KINDS[spec.kind],
                    spec.label,
                    spec.unit,
                    spec.help,
                    tuple(spec.choices) or None,
                )
            )
    order = {name: i for i, name in enumerate(FIRST)}
    return sorted(found, key=lambda fd: (EDITABLE_SECTIONS.index(fd.section), order.get(fd.name, len(order))))


def config_value(config: Config, field: Field) -> Any:
    value = getattr(getattr(config, field.section), field.key)
    if isinstance(value, tuple):
        return [str(v) if isinstance(v, QuietRange) else v for v in value]
    return value


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def parse(field: Field, form) -> Any:
    """The field's value from the form; ValueError with a message for the person."""
    if field.kind == "bool":
        return form.get(field.name) in ("on", "true", "1")
    text = (form.get(field.name) or "").strip()
    if field.kind == "list":
        parts = [part.strip() for part in re.split(r"[,\n]", text) if part.strip()]
        for part in parts:
            try:
                QuietRange.parse(part)
            except QuietRangeError as exc:
                raise ValueError(_QUIET_PROBLEMS[exc.problem].format(text=part)) from None
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


def _unit(unit: str) -> str:
    return f" {unit}" if unit and "GPIO" not in unit else ""


def _named(section: str, name: str, value: Any = None) -> str:
    """A key as the page names it: a field's label in quotes, else the schema's words (wiring)."""
    spec = key(section, name).spec
    shown = f"“{spec.label}”" if section in EDITABLE_SECTIONS else spec.label
    if value is not None:
        shown += f" ({as_text(value)}{_unit(spec.unit)})"
    return shown


def describe(error: ConfigError, changed: dict[str, Any]) -> tuple[list[str], str]:
    """The changed fields a ConfigError is about, and what to say at them.

    changed: the settings being saved ("section.key" -> value); a rule
    between two keys is said at whichever of them was changed.
    """
    name = error.setting
    entered = f"; you entered {as_text(error.value)}."
    if error.rule == "range":
        spec = error.spec
        assert spec is not None
        if spec.unit == "BCM GPIO":
            extra = ", or -1 for none" if spec.low == -1 else ""
            return [name], f"Must be a GPIO (BCM) number from 0 to 27{extra}{entered}"
        return [name], f"Must be from {spec.range_text()}{entered}"
    if error.rule == "choice":
        assert error.spec is not None
        return [name], f"Choose one of {', '.join(str(c) for c in error.spec.choices)}."
    if error.rule in ("type", "finite"):
        return [name], f"Enter {error.expected or 'a finite number'}{entered}"
    if error.rule == "relation":
        rule = error.relation
        assert rule is not None
        minutes = key(rule.section, rule.key).spec.unit == "min"
        other = f"{rule.section}.{rule.other}"
        if name in changed or other not in changed:
            words = (_LATER if minutes else {}).get(rule.relation, _RELATION[rule.relation])
            return [name], f"{words} {_named(rule.section, rule.other, error.other_value)}{entered}"
        words = (_EARLIER if minutes else {}).get(rule.relation, _REVERSED[rule.relation])
        return [other], (
            f"{words} {_named(rule.section, rule.key, error.value)}; you entered {as_text(changed[other])}."
        )
    if error.rule == "pin_shared":
        assert error.other is not None
        section, other_key, _ = error.other
        other = f"{section}.{other_key}"
        assert error.key is not None
        at, (held_section, held_key) = (
            (name, (section, other_key))
            if name in changed or other not in changed
            else (other, (error.section, error.key))
        )
        return [at], f"Pin {error.value} is already used by {_named(held_section, held_key)}; give each its own pin."
    return [], _sentence(str(error))


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


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
    remaining = dict(wanted)
    for _ in range(len(remaining) + 1):
        try:
            config_with_settings(base, remaining)
            break
        except ConfigError as exc:
            names, message = describe(exc, remaining)
            hit = [n for n in names if n in remaining]
            if not hit:
                errors["_form"] = message
                break
            for name in hit:
                errors.setdefault(name, message)
                remaining.pop(name, None)
    return wanted, errors
