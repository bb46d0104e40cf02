"""Config file (SPEC section 6): parsed and validated once into typed objects.

Every key has a default, so an empty or missing file is valid. Unknown keys,
wrong types and wrong list lengths raise CushionError naming the key.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device.errors import CushionError

CHANNELS = ("fl", "fr", "bl", "br")


@dataclass(frozen=True, slots=True)
class Calibration:
    """Counts to kilograms per corner: kg = (raw - offset) / counts_per_kg."""

    offset: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    # A typical 50 kg cell on an HX711 at gain 128 gives ~21,000 counts/kg.
    counts_per_kg: tuple[float, float, float, float] = (21000.0, 21000.0, 21000.0, 21000.0)


@dataclass(frozen=True, slots=True)
class Geometry:
    """Corner spacing of the load cells, in millimetres."""

    width_mm: float = 400.0
    depth_mm: float = 400.0


@dataclass(frozen=True, slots=True)
class Detect:
    """Detection thresholds (SPEC section 3). Times in seconds, loads in kg."""

    seated_kg: float = 15.0          # seated when T >= this ...
    seated_hold_s: float = 1.5       # ... for this long
    away_kg: float = 10.0            # away when T < this ...
    away_hold_s: float = 1.5         # ... for this long
    lean_start: float = 0.20         # |lat| at which a lateral excursion starts
    lean_end: float = 0.14           # |lat| below which it ends ...
    lean_end_hold_s: float = 2.0     # ... once held this long
    lean_min_s: float = 10.0         # an excursion this long is a lean
    twist_peak: float = 0.30         # a shorter one peaking this high is a twist
    fidget_mm: float = 15.0          # centre of pressure moves at least this far ...
    fidget_window_s: float = 1.5     # ... within this time ...
    fidget_speed_mm_s: float = 40.0  # ... at least this fast
    fidget_merge_s: float = 1.0      # movements closer than this are one fidget
    fidget_guard_s: float = 3.0      # no fidgets this close to sitting down / standing up
    perch_sag: float = 0.30          # sag >= this is perching forward
    slump_sag: float = -0.30         # sag <= this is slumping back
    posture_min_s: float = 30.0      # held this long it is a perch / slump
    posture_end_hold_s: float = 2.0  # a perch / slump ends once out of range this long
    fault_no_data_s: float = 0.5     # a channel silent this long is a fault
    fault_stuck_s: float = 2.0       # a channel frozen this long while others move
    fault_session_s: float = 30.0    # a fault of all channels this long ends a session
    spike_kg: float = 5.0            # a single sample this far from both neighbours is a spike
    corner_max_kg: float = 250.0     # a corner reading beyond this is impossible
    corner_min_kg: float = -50.0     # ... and so is one below this
    zero_track_tau_s: float = 300.0  # time constant of zero tracking on an empty cushion
    zero_track_max_kg: float = 1.5   # only readings this close to zero are tracked


@dataclass(frozen=True, slots=True)
class Breaks:
    """Break and movement prompts (SPEC section 3)."""

    break_min_s: float = 60.0        # an absence this long is a break
    break_after_min: float = 45.0    # prompt break_due after this much sitting
    overdue_after_min: float = 60.0  # prompt break_overdue after this much
    repeat_min: float = 15.0         # and again this often
    still_min: float = 20.0          # prompt move after this long without movement
    # Quiet hours as "HH:MM-HH:MM" wall-clock ranges (may wrap midnight); the
    # buzzer is muted inside them, prompts are still recorded.
    quiet_hours: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Sensor:
    """HX711 wiring (SPEC section 7). Pins are BCM numbers."""

    clock_pin: int = 5
    data_pins: tuple[int, int, int, int] = (6, 13, 19, 26)
    rate_hz: int = 80
    clock_pins: tuple[int, int, int, int] | None = None


@dataclass(frozen=True, slots=True)
class Alerts:
    """Buzzer, LED and button (BCM pins; -1 means not fitted)."""

    buzzer: str = "active"           # "active" (Buzzer), "passive" (TonalBuzzer) or "none"
    buzzer_pin: int = 17
    buzzer_enabled: bool = True      # false: prompts are recorded and shown, never sounded
    led: str = "plain"               # "plain" (LED) or "pwm" (PWMLED)
    led_pin: int = 27
    button_pin: int = 22             # press: snooze; hold: mute for the rest of the day
    snooze_min: float = 10.0
    hold_s: float = 2.0              # a press this long is a hold


@dataclass(frozen=True, slots=True)
class Config:
    calibration: Calibration = field(default_factory=Calibration)
    geometry: Geometry = field(default_factory=Geometry)
    detect: Detect = field(default_factory=Detect)
    breaks: Breaks = field(default_factory=Breaks)
    sensor: Sensor = field(default_factory=Sensor)
    alerts: Alerts = field(default_factory=Alerts)


# For each section: key -> (kind, list length or None). Kinds: "float", "int",
# "str". Derived from the dataclasses so the two never disagree.
_SECTIONS: dict[str, type] = {
    "calibration": Calibration,
    "geometry": Geometry,
    "detect": Detect,
    "breaks": Breaks,
    "sensor": Sensor,
    "alerts": Alerts,
}

_LIST_LENGTHS = {
    ("calibration", "offset"): 4,
    ("calibration", "counts_per_kg"): 4,
    ("sensor", "data_pins"): 4,
    ("sensor", "clock_pins"): 4,
    ("breaks", "quiet_hours"): None,
}


def _kind(section: str, key: str, default: Any) -> str:
    if (section, key) in _LIST_LENGTHS:
        element = "str" if key == "quiet_hours" else ("int" if section == "sensor" else "float")
        return "list:" + element
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    return "str"


def _convert(where: str, kind: str, value: Any) -> Any:
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CushionError(f"{where}: expected a number, got {value!r}")
        if value != value or value in (float("inf"), float("-inf")):
            raise CushionError(f"{where}: expected a finite number, got {value!r}")
        return float(value)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise CushionError(f"{where}: expected a whole number, got {value!r}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise CushionError(f"{where}: expected true or false, got {value!r}")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise CushionError(f"{where}: expected a string, got {value!r}")
        return value
    raise AssertionError(kind)


def _parse_quiet_range(where: str, text: str) -> str:
    # The same parser the daemon uses, so a range the file accepts never
    # fails at start-up (imported here: quiet.py builds on this module).
    from device.quiet import QuietRange

    QuietRange.parse(text, where)
    return text


def config_from_dict(data: dict[str, Any], source: str = "config") -> Config:
    """Validate a parsed TOML document into a Config; `source` names the file in errors."""
    sections: dict[str, Any] = {}
    for section, value in data.items():
        if section not in _SECTIONS:
            raise CushionError(f"{source}: unknown section [{section}]")
        if not isinstance(value, dict):
            raise CushionError(f"{source}: {section} must be a table [{section}]")
        cls = _SECTIONS[section]
        defaults = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in value.items():
            where = f"{source}: [{section}] {key}"
            if key not in defaults:
                raise CushionError(f"{source}: unknown key [{section}] {key}")
            f = defaults[key]
            default = f.default if f.default is not dataclasses.MISSING else None
            kind = _kind(section, key, default)
            if kind.startswith("list:"):
                if not isinstance(raw, list):
                    raise CushionError(f"{where}: expected a list, got {raw!r}")
                length = _LIST_LENGTHS[(section, key)]
                if length is not None and len(raw) != length:
                    raise CushionError(f"{where}: expected {length} values (fl, fr, bl, br), got {len(raw)}")
                element = kind.split(":", 1)[1]
                items = tuple(_convert(f"{where}[{i}]", element, item) for i, item in enumerate(raw))
                if key == "quiet_hours":
                    items = tuple(_parse_quiet_range(f"{where}[{i}]", s) for i, s in enumerate(items))
                values[key] = items
            else:
                values[key] = _convert(where, kind, raw)
        sections[section] = cls(**values)
    config = Config(**sections)
    _check_consistency(config, source)
    return config


def _check_consistency(config: Config, source: str) -> None:
    for i, cpk in enumerate(config.calibration.counts_per_kg):
        if cpk == 0:
            raise CushionError(f"{source}: [calibration] counts_per_kg[{i}]: must not be zero")
    for key in ("width_mm", "depth_mm"):
        if getattr(config.geometry, key) <= 0:
            raise CushionError(f"{source}: [geometry] {key}: must be positive")
    if config.sensor.rate_hz not in (10, 80):
        raise CushionError(f"{source}: [sensor] rate_hz: must be 80 or 10, got {config.sensor.rate_hz}")
    alerts = config.alerts
    if alerts.buzzer not in ("active", "passive", "none"):
        raise CushionError(f"{source}: [alerts] buzzer: must be \"active\", \"passive\" or \"none\", got {alerts.buzzer!r}")
    if alerts.led not in ("plain", "pwm"):
        raise CushionError(f"{source}: [alerts] led: must be \"plain\" or \"pwm\", got {alerts.led!r}")
    if alerts.snooze_min <= 0 or alerts.hold_s <= 0:
        raise CushionError(f"{source}: [alerts] snooze_min and hold_s: must be positive")
    for i, cpk in enumerate(config.calibration.counts_per_kg):
        if abs(cpk) < 1:
            raise CushionError(f"{source}: [calibration] counts_per_kg[{i}]: {cpk} counts a kilogram is "
                               "no load cell (an HX711 at gain 128 gives thousands)")
    _check_pins(config, source)
    d = config.detect

    def require(ok: bool, key: str, message: str) -> None:
        if not ok:
            raise CushionError(f"{source}: [detect] {key}: {message}, got {getattr(d, key)}")

    require(d.seated_kg > 0, "seated_kg", "must be positive")
    require(d.away_kg > 0, "away_kg", "must be positive")
    require(d.away_kg <= d.seated_kg, "away_kg", f"must not exceed seated_kg ({d.seated_kg})")
    require(0 < d.lean_start < 1, "lean_start", "must be between 0 and 1 (a share of the load)")
    require(0 < d.lean_end <= d.lean_start, "lean_end", f"must be above 0 and not exceed lean_start ({d.lean_start})")
    require(d.lean_start <= d.twist_peak <= 1, "twist_peak", f"must be from lean_start ({d.lean_start}) to 1")
    require(0 < d.perch_sag < 1, "perch_sag", "must be between 0 and 1")
    require(-1 < d.slump_sag < 0, "slump_sag", "must be between -1 and 0")
    require(d.fidget_mm > 0, "fidget_mm", "must be positive")
    require(d.fidget_speed_mm_s > 0, "fidget_speed_mm_s", "must be positive")
    require(d.spike_kg > 0, "spike_kg", "must be positive")
    require(d.corner_max_kg > d.seated_kg, "corner_max_kg", f"must exceed seated_kg ({d.seated_kg})")
    require(d.corner_min_kg < 0, "corner_min_kg", "must be below 0 (a corner reads a little below zero when unloaded)")
    require(d.zero_track_max_kg >= 0, "zero_track_max_kg", "must not be negative (0 turns zero tracking off)")
    b = config.breaks
    if b.overdue_after_min <= b.break_after_min:
        raise CushionError(f"{source}: [breaks] overdue_after_min: must be later than break_after_min "
                           f"({b.break_after_min}), got {b.overdue_after_min}")
    for section, obj in (("detect", d), ("breaks", config.breaks)):
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if (f.name.endswith("_s") or f.name.endswith("_min")) and isinstance(value, float) and value <= 0:
                raise CushionError(f"{source}: [{section}] {f.name}: must be positive, got {value}")


# BCM numbers of the GPIO lines on the Raspberry Pi's 40-pin header.
GPIO_PINS = range(28)


def _check_pins(config: Config, source: str) -> None:
    """Every pin a GPIO of the header, none used twice (sensor and alerts together)."""
    sensor, alerts = config.sensor, config.alerts
    pins: list[tuple[str, int]] = []
    if sensor.clock_pins:
        pins += [(f"[sensor] clock_pins[{i}]", pin) for i, pin in enumerate(sensor.clock_pins)]
    else:
        pins.append(("[sensor] clock_pin", sensor.clock_pin))
    pins += [(f"[sensor] data_pins[{i}]", pin) for i, pin in enumerate(sensor.data_pins)]
    if alerts.buzzer != "none":
        pins.append(("[alerts] buzzer_pin", alerts.buzzer_pin))
    pins.append(("[alerts] led_pin", alerts.led_pin))
    if alerts.button_pin != -1:
        pins.append(("[alerts] button_pin", alerts.button_pin))
    seen: dict[int, str] = {}
    for where, pin in pins:
        if pin not in GPIO_PINS:
            extra = " (or -1 for no button)" if where == "[alerts] button_pin" else ""
            raise CushionError(f"{source}: {where} = {pin}: must be a BCM GPIO number from 0 to 27{extra}")
        if pin in seen:
            raise CushionError(f"{source}: {where} = {pin}: same pin as {seen[pin]}; give each its own pin")
        seen[pin] = where


def load_config(path: str | Path | None) -> Config:
    """Read and validate a TOML config; None or a missing file gives the defaults."""
    if path is None:
        return Config()
    path = Path(path)
    if not path.exists():
        return Config()
    if not path.is_file():      # a folder, or a FIFO that would block the read
        raise CushionError(f"{path}: not a regular file")
    try:
        # utf-8-sig: editors on Windows save a byte-order mark, which TOML
        # itself would reject as a syntax error at line 1.
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CushionError(f"{path}: cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CushionError(f"{path}: TOML syntax error: {exc}") from None
    return config_from_dict(data, str(path))


# Settings the person may change from the dashboard (stored in the database as
# "section.key" -> value, applied over the config file without a restart).
# Calibration, geometry and wiring stay in the file: they belong to the hardware.
EDITABLE_SECTIONS = ("detect", "breaks", "alerts")


def config_with_settings(config: Config, settings: dict[str, Any], source: str = "settings") -> Config:
    """The config with dashboard settings ("breaks.break_after_min": 40, ...) applied and validated.

    Raises CushionError naming the setting when a key is unknown or a value invalid.
    """
    data: dict[str, Any] = {}
    for section in _SECTIONS:
        values = {}
        for f in dataclasses.fields(_SECTIONS[section]):
            value = getattr(getattr(config, section), f.name)
            values[f.name] = list(value) if isinstance(value, tuple) else value
        data[section] = {k: v for k, v in values.items() if v is not None}
    for name, value in settings.items():
        section, dot, key = name.partition(".")
        if not dot or section not in EDITABLE_SECTIONS:
            raise CushionError(f"{source}: {name}: not a setting (editable: {', '.join(EDITABLE_SECTIONS)} keys as section.key)")
        data[section][key] = value
    return config_from_dict(data, source)
