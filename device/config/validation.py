"""Config values checked against the schema, into a typed Config (SPEC section 6).

Every key has a default, so an empty document is valid. Unknown keys, wrong
types, values out of their range and values that cannot work together
raise ConfigError: a CushionError whose message names the file and the key,
and whose fields (section, key, index, rule, value, and what the rule
compares with) let the dashboard say the same thing in a person's words
without reading the message back.

The same checks run on the config file, on the dashboard's settings
(config_with_settings) and on anything else that sets a key, so a value
that could fail is refused before it is stored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from device.config.quiet_hours import PROBLEMS, QuietRange, QuietRangeError
from device.config.schema import (
    EDITABLE_SECTIONS,
    GPIO_PINS,
    RULES,
    SECTIONS,
    Config,
    Key,
    Rule,
    Spec,
    _num,
    key,
    keys,
)
from device.errors import CushionError

_EXPECTED = {
    "float": "a number",
    "int": "a whole number",
    "bool": "true or false",
    "choice": "a string",
    "floats4": "a list",
    "ints4": "a list",
    "quiet_hours": "a list",
}
_ELEMENT = {"floats4": "float", "ints4": "int", "quiet_hours": "str"}


class ConfigError(CushionError):
    """A config value that cannot be used.

    source: the file (or "settings"); section, key: where (key None for a
    whole section); index: the list element, if one; rule: what was broken
    ("unknown_section", "not_table", "unknown_key", "not_setting", "type",
    "finite", "length", "range", "choice", "pattern", "quiet_hours",
    "relation", "pin_shared"); value: what was found. For "range": spec (low, high,
    unit); for "relation": the Rule and other_value; for "pin_shared":
    other ((section, key, index) of the key that has the pin); for "quiet_hours":
    problem (a key of quiet_hours.PROBLEMS); for "type": expected.
    """

    def __init__(
        self,
        source: str,
        section: str,
        key: str | None,
        rule: str,
        value: Any = None,
        *,
        index: int | None = None,
        spec: Spec | None = None,
        relation: Rule | None = None,
        other_value: Any = None,
        other: tuple[str, str, int | None] | None = None,
        problem: str = "",
        expected: str = "",
    ):
        self.source, self.section, self.key, self.rule, self.value = source, section, key, rule, value
        self.index, self.spec, self.relation, self.other_value = index, spec, relation, other_value
        self.other, self.problem, self.expected = other, problem, expected
        super().__init__(self._message())

    @property
    def where(self) -> str:
        """ "[section] key[index]" as the file spells it."""
        index = f"[{self.index}]" if self.index is not None else ""
        return f"[{self.section}] {self.key}{index}"

    @property
    def setting(self) -> str:
        """The dashboard setting it is about ("breaks.break_after_min")."""
        return f"{self.section}.{self.key}"

    def _message(self) -> str:
        s, rule = self.source, self.rule
        if rule == "unknown_section":
            return f"{s}: unknown section [{self.section}]"
        if rule == "not_table":
            return f"{s}: {self.section} must be a table [{self.section}]"
        if rule == "unknown_key":
            return f"{s}: unknown key [{self.section}] {self.key}"
        if rule == "not_setting":
            return f"{s}: {self.value}: not a setting (editable: {', '.join(EDITABLE_SECTIONS)} keys as section.key)"
        where = f"{s}: {self.where}"
        if rule == "type":
            return f"{where}: expected {self.expected}, got {self.value!r}"
        if rule == "finite":
            return f"{where}: expected a finite number, got {self.value!r}"
        if rule == "length":
            return f"{where}: expected 4 values (fl, fr, bl, br), got {self.value}"
        if rule == "choice":
            assert self.spec is not None
            return f"{where}: must be {self.spec.range_text()}, got {self.value!r}"
        if rule == "range":
            assert self.spec is not None
            if self.spec.unit == "BCM GPIO":
                extra = " (or -1 for no button)" if self.spec.low == -1 else ""
                return f"{where} = {self.value}: must be a BCM GPIO number from 0 to 27{extra}"
            note = " (negative for a cell mounted upside down)" if self.spec.magnitude else ""
            return f"{where}: must be from {self.spec.range_text()}{note}, got {_shown(self.value)}"
        if rule == "quiet_hours":
            if self.problem == "form":
                return f"{where}: {PROBLEMS['form']}, got {self.value!r}"
            return f"{where}: {self.value!r}{':' if self.problem in ('clock', 'day') else ''} {PROBLEMS[self.problem]}"
        if rule == "pattern":
            assert self.spec is not None
            what = self.spec.pattern_text or "plain text"
            return f"{where}: must be {what} (at most {_num(self.spec.high)} characters), got {self.value!r}"
        if rule == "relation":
            assert self.relation is not None
            return (
                f"{where}: {relation_words(self.relation, self.section)} {self.relation.other} "
                f"({_shown(self.other_value)}), got {_shown(self.value)}"
            )
        if rule == "pin_shared":
            assert self.other is not None
            section, name, index = self.other
            other = f"[{section}] {name}" + (f"[{index}]" if index is not None else "")
            return f"{where} = {self.value}: same pin as {other}; give each its own pin"
        raise AssertionError(rule)


def relation_words(rule: Rule, section: str) -> str:
    """ "must be later than", "must not exceed", ...: the rule as the file's messages say it."""
    minutes = key(section, rule.key).spec.unit == "min"
    return {
        ">": "must be later than" if minutes else "must exceed",
        ">=": "must not be less than",
        "<=": "must not exceed",
        "<": "must be less than",
    }[rule.relation]


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _convert(source: str, k: Key, kind: str, value: Any, index: int | None = None) -> Any:
    """One value of `kind` ("float", "int", "bool", "str"), type-checked."""

    def fail(rule: str, expected: str = "") -> ConfigError:
        return ConfigError(source, k.section, k.name, rule, value, index=index, expected=expected)

    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail("type", "a number")
        if not math.isfinite(value):
            raise fail("finite")
        return float(value)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail("type", "a whole number")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise fail("type", "true or false")
        return value
    if kind in ("str", "choice"):
        if not isinstance(value, str):
            raise fail("type", "a string")
        return value
    raise AssertionError(kind)


def _check_range(source: str, k: Key, value: Any, index: int | None = None) -> None:
    spec = k.spec
    if spec.kind == "str":
        if spec.high is not None and len(value) > spec.high or spec.pattern and not re.fullmatch(spec.pattern, value):
            raise ConfigError(source, k.section, k.name, "pattern", value, index=index, spec=spec)
        return
    if spec.choices:
        if value not in spec.choices:
            raise ConfigError(source, k.section, k.name, "choice", value, index=index, spec=spec)
        return
    if spec.low is None:
        return
    size = abs(value) if spec.magnitude else value
    if not spec.low <= size <= spec.high:
        raise ConfigError(source, k.section, k.name, "range", value, index=index, spec=spec)


def check_value(source: str, k: Key, raw: Any) -> Any:
    """`raw` (as TOML or JSON gives it) as the typed value of key `k`, or ConfigError."""
    kind = k.spec.kind
    if raw is None and k.spec.optional:
        return None
    if kind not in _ELEMENT:
        value = _convert(source, k, "str" if kind == "choice" else kind, raw)
        _check_range(source, k, value)
        return value
    if not isinstance(raw, (list, tuple)):
        raise ConfigError(source, k.section, k.name, "type", raw, expected="a list")
    if kind != "quiet_hours" and len(raw) != 4:
        raise ConfigError(source, k.section, k.name, "length", len(raw))
    if kind == "quiet_hours" and k.spec.high is not None and len(raw) > k.spec.high:
        raise ConfigError(source, k.section, k.name, "range", len(raw), spec=k.spec)
    items = []
    for i, item in enumerate(raw):
        if kind == "quiet_hours" and isinstance(item, QuietRange):
            items.append(item)
            continue
        value = _convert(source, k, _ELEMENT[kind], item, i)
        if kind == "quiet_hours":
            try:
                value = QuietRange.parse(value)
            except QuietRangeError as exc:
                raise ConfigError(
                    source, k.section, k.name, "quiet_hours", item, index=i, problem=exc.problem
                ) from None
        else:
            _check_range(source, k, value, i)
        items.append(value)
    return tuple(items)


def config_from_dict(data: dict[str, Any], source: str = "config") -> Config:
    """Validate a parsed TOML document into a Config; `source` names the file in errors."""
    sections: dict[str, Any] = {}
    for section, table in data.items():
        if section not in SECTIONS:
            raise ConfigError(source, section, None, "unknown_section")
        if not isinstance(table, dict):
            raise ConfigError(source, section, None, "not_table")
        known = {k.name: k for k in keys(section)}
        values: dict[str, Any] = {}
        for name, raw in table.items():
            if name not in known:
                raise ConfigError(source, section, name, "unknown_key")
            values[name] = check_value(source, known[name], raw)
        sections[section] = SECTIONS[section](**values)
    config = Config(**sections)
    _check_rules(config, source)
    _check_pins(config, source)
    return config


def _check_rules(config: Config, source: str) -> None:
    for rule in RULES:
        values = getattr(config, rule.section)
        value, other_value = getattr(values, rule.key), getattr(values, rule.other)
        if not rule.holds(value, other_value):
            raise ConfigError(source, rule.section, rule.key, "relation", value, relation=rule, other_value=other_value)


def _check_pins(config: Config, source: str) -> None:
    """No pin used twice (the sensor's and the alerts' together)."""
    sensor, alerts = config.sensor, config.alerts
    pins: list[tuple[str, str, int | None, int]] = []
    if sensor.clock_pins:
        pins += [("sensor", "clock_pins", i, pin) for i, pin in enumerate(sensor.clock_pins)]
    else:
        pins.append(("sensor", "clock_pin", None, sensor.clock_pin))
    pins += [("sensor", "data_pins", i, pin) for i, pin in enumerate(sensor.data_pins)]
    if alerts.buzzer != "none":
        pins.append(("alerts", "buzzer_pin", None, alerts.buzzer_pin))
    pins.append(("alerts", "led_pin", None, alerts.led_pin))
    if alerts.button_pin != -1:
        pins.append(("alerts", "button_pin", None, alerts.button_pin))
    seen: dict[int, tuple[str, str, int | None]] = {}
    for section, name, index, pin in pins:
        assert pin in GPIO_PINS  # the ranges checked that
        if pin in seen:
            raise ConfigError(source, section, name, "pin_shared", pin, index=index, other=seen[pin])
        seen[pin] = (section, name, index)


def as_plain(value: Any) -> Any:
    """A config value as TOML or JSON holds it: tuples as lists, quiet ranges as "HH:MM-HH:MM"."""
    if isinstance(value, tuple):
        return [as_plain(v) for v in value]
    if isinstance(value, QuietRange):
        return str(value)
    return value


def config_with_settings(config: Config, settings: dict[str, Any], source: str = "settings") -> Config:
    """The config with dashboard settings ("breaks.break_after_min": 40, ...) applied and validated.

    Raises ConfigError naming the setting when a key is unknown or a value invalid.
    """
    data: dict[str, Any] = {}
    for section in SECTIONS:
        values = {k.name: as_plain(getattr(getattr(config, section), k.name)) for k in keys(section)}
        data[section] = {name: value for name, value in values.items() if value is not None}
    for name, value in settings.items():
        section, dot, key_name = name.partition(".")
        if not dot or section not in EDITABLE_SECTIONS:
            raise ConfigError(source, section, key_name or None, "not_setting", name)
        data[section][key_name] = value
    return config_from_dict(data, source)


def config_with_valid_settings(
    config: Config, settings: dict[str, Any], refused: Callable[[str, Any, ConfigError], object]
) -> Config:
    """The config with every setting that validates applied: one that does
    not (alone, or with those before it in key order) is left out, and
    refused(name, value, error) hears of it; the config's value stays for it."""
    try:
        return config_with_settings(config, settings)
    except ConfigError:
        pass
    accepted: dict[str, Any] = {}
    for name in sorted(settings):
        trial = dict(accepted)
        trial[name] = settings[name]
        try:
            config_with_settings(config, trial)
        except ConfigError as exc:
            refused(name, settings[name], exc)
            continue
        accepted = trial
    return config_with_settings(config, accepted)
