"""Every config key in one place: its type, default, unit, range, label and help.

Each section is a frozen dataclass (the typed object the rest of the code
reads: ``config.detect.seated_kg``); each field's ``Spec`` (in the field's
metadata) says what the key is to a person and what values it takes. The
validation (device.config.validation), the commented template
(device.config.template) and the dashboard's settings form are all made
from these, so they cannot disagree.

The ranges are what a real cushion can use: wide enough for any person,
chair and board, narrow enough that no value makes the daemon misbehave
(a 1e-300 minute repeat prompting hundreds of times a second, a 1e308
minute snooze overflowing a date). Rules that tie two keys together (an
overdue after the first break prompt, away below seated) are ``Rule``s.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from device.config.quiet_hours import QuietRange

CHANNELS = ("fl", "fr", "bl", "br")
RAW_MIN, RAW_MAX = -(1 << 23), (1 << 23) - 1  # an HX711's signed 24-bit counts (datasheet)
GPIO_PINS = range(28)  # BCM numbers of the 40-pin header's GPIO lines

# Kinds of value: "float", "int", "bool", "choice" (a string of `choices`),
# "floats4" / "ints4" (one per corner, fl fr bl br), "quiet_hours" (a list of
# "HH:MM-HH:MM" ranges), "str" (free text, matching `pattern` if it has one).
# An "int" with `choices` takes only those.
KINDS = ("float", "int", "bool", "choice", "floats4", "ints4", "quiet_hours", "str")


@dataclass(frozen=True, slots=True)
class Spec:
    """What one key is.

    kind: one of KINDS. unit: "kg", "s", "min", "mm", ... ("" for none).
    low, high: the values allowed, inclusive (None: no bound); for "floats4"
    with ``magnitude`` the bounds apply to the size of each value, whose
    sign is free. choices: the strings a "choice" takes. label and help: the
    key in a person's words (the settings page shows them, never the key).
    note: the template's short comment (default: the label). optional: None
    is a value (the key may be left out for good). pattern: a "str" must
    match it (pattern_text says so in words); high, for a "str", is its
    longest length.
    """

    kind: str
    unit: str = ""
    low: float | None = None
    high: float | None = None
    label: str = ""
    help: str = ""
    choices: tuple[Any, ...] = ()
    note: str = ""
    magnitude: bool = False
    optional: bool = False
    example: Any = None  # the template shows this for an optional key
    pattern: str = ""
    pattern_text: str = ""

    def range_text(self) -> str:
        """The range in words, for the template and error messages ("from 1 to 240 min")."""
        unit = f" {self.unit}" if self.unit and "GPIO" not in self.unit else ""
        if self.choices:
            return " or ".join(f'"{c}"' if isinstance(c, str) else str(c) for c in self.choices)
        if self.low is None and self.high is None or self.kind == "str":
            return ""
        size = " in size" if self.magnitude else ""
        return f"{_num(self.low)} to {_num(self.high)}{unit}{size}"


def _num(value: float | None) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def setting(
    default: Any,
    kind: str,
    *,
    unit: str = "",
    low: float | None = None,
    high: float | None = None,
    label: str,
    help: str = "",
    choices: tuple[Any, ...] = (),
    note: str = "",
    magnitude: bool = False,
    optional: bool = False,
    example: Any = None,
    pattern: str = "",
    pattern_text: str = "",
) -> Any:
    """A dataclass field with its Spec (see Spec for the arguments)."""
    spec = Spec(kind, unit, low, high, label, help, choices, note, magnitude, optional, example, pattern, pattern_text)
    return field(default=default, metadata={"spec": spec})


def spec_of(section_class: type[Any], key: str) -> Spec:
    (found,) = [f for f in dataclasses.fields(section_class) if f.name == key]
    spec: Spec = found.metadata["spec"]
    return spec


@dataclass(frozen=True, slots=True)
class Calibration:
    """Counts to kilograms per corner: kg = (raw - offset) / counts_per_kg."""

    offset: tuple[float, float, float, float] = setting(
        (0.0, 0.0, 0.0, 0.0),
        "floats4",
        unit="counts",
        low=RAW_MIN,
        high=RAW_MAX,
        label="Zero of each corner",
        note="raw counts of each corner (fl, fr, bl, br) with nothing on it",
    )
    # A typical 50 kg cell on an HX711 at gain 128 gives ~21,000 counts/kg.
    counts_per_kg: tuple[float, float, float, float] = setting(
        (21000.0, 21000.0, 21000.0, 21000.0),
        "floats4",
        unit="counts/kg",
        low=100.0,
        high=1_000_000.0,
        magnitude=True,
        label="Counts a kilogram of each corner",
        note="negative for a cell mounted upside down",
    )


@dataclass(frozen=True, slots=True)
class Geometry:
    """Corner spacing of the load cells, in millimetres."""

    width_mm: float = setting(
        400.0,
        "float",
        unit="mm",
        low=100.0,
        high=2000.0,
        label="Corner spacing left to right",
        note="load cell spacing, left to right",
    )
    depth_mm: float = setting(
        400.0,
        "float",
        unit="mm",
        low=100.0,
        high=2000.0,
        label="Corner spacing back to front",
        note="load cell spacing, back to front",
    )


@dataclass(frozen=True, slots=True)
class Detect:
    """Detection thresholds (SPEC section 3). Times in seconds, loads in kg."""

    seated_kg: float = setting(
        15.0,
        "float",
        unit="kg",
        low=5.0,
        high=150.0,
        label="Seated from",
        help="A load this heavy, held for “Seated after”, is someone sitting (not a bag).",
        note="seated at this total load ...",
    )
    seated_hold_s: float = setting(
        1.5,
        "float",
        unit="s",
        low=0.1,
        high=60.0,
        label="Seated after",
        help="How long the load must stay above “Seated from”.",
        note="... held this long",
    )
    away_kg: float = setting(
        10.0,
        "float",
        unit="kg",
        low=1.0,
        high=150.0,
        label="Away below",
        help="A load lighter than this, held for “Away after”, means you got up. No more than “Seated from”.",
        note="away below this load ...",
    )
    away_hold_s: float = setting(
        1.5,
        "float",
        unit="s",
        low=0.1,
        high=60.0,
        label="Away after",
        help="How long the load must stay below “Away below”.",
        note="... held this long",
    )
    lean_start: float = setting(
        0.20,
        "float",
        low=0.05,
        high=0.9,
        label="Lean starts at",
        help="How uneven the weight is side to side, from 0 (even) to 1 (all on one side): 0.2 is a 60/40 split.",
        note="sideways balance (0..1) where a lean or twist starts",
    )
    lean_end: float = setting(
        0.14,
        "float",
        low=0.01,
        high=0.9,
        label="Lean ends below",
        help="No more than “Lean starts at”; 0.14 is a 57/43 split.",
        note="... and below which it ends",
    )
    lean_end_hold_s: float = setting(
        2.0,
        "float",
        unit="s",
        low=0.1,
        high=60.0,
        label="Lean ends after",
        help="How long the weight must stay more even for a lean to end.",
    )
    lean_min_s: float = setting(
        10.0,
        "float",
        unit="s",
        low=1.0,
        high=600.0,
        label="A lean lasts at least",
        help="Shorter excursions are twists if they peak high enough.",
        note="held this long it is a lean; shorter and peaking at twist_peak, a twist",
    )
    twist_peak: float = setting(
        0.30,
        "float",
        low=0.05,
        high=1.0,
        label="Twist peak",
        help="A shorter excursion reaching this far to one side is a twist (reaching for something). "
        "From “Lean starts at” to 1.",
    )
    fidget_mm: float = setting(
        15.0,
        "float",
        unit="mm",
        low=1.0,
        high=200.0,
        label="Fidget distance",
        help="A fidget moves your centre of pressure at least this far ...",
        note="a fidget: the centre of pressure moves this far ...",
    )
    fidget_window_s: float = setting(
        1.5,
        "float",
        unit="s",
        low=0.2,
        high=10.0,
        label="Fidget within",
        help="... within this time ...",
        note="... within this time ...",
    )
    fidget_speed_mm_s: float = setting(
        40.0,
        "float",
        unit="mm/s",
        low=1.0,
        high=1000.0,
        label="Fidget speed",
        help="... at least this fast.",
        note="... this fast",
    )
    fidget_merge_s: float = setting(
        1.0,
        "float",
        unit="s",
        low=0.1,
        high=60.0,
        label="Fidgets merge within",
        help="Movements closer together than this are one fidget.",
    )
    fidget_guard_s: float = setting(
        3.0,
        "float",
        unit="s",
        low=0.1,
        high=60.0,
        label="No fidgets near sitting down for",
        help="Movements this close to sitting down or standing up are not fidgets.",
        note="no fidgets this close to sitting down or standing up",
    )
    perch_sag: float = setting(
        0.30,
        "float",
        low=0.05,
        high=0.95,
        label="Perch from",
        help="How far forward the weight is, from 0 (centre) to 1: this far forward is perching on the front edge.",
        note="forward balance (0..1) of perching on the front edge",
    )
    slump_sag: float = setting(
        -0.30,
        "float",
        low=-0.95,
        high=-0.05,
        label="Slump from",
        help="How far back the weight is, from 0 (centre) to -1: this far back is slumping.",
        note="... and of slumping back",
    )
    posture_min_s: float = setting(
        30.0,
        "float",
        unit="s",
        low=1.0,
        high=3600.0,
        label="Perch or slump held for",
        help="Shorter ones are not counted.",
    )
    posture_end_hold_s: float = setting(
        2.0,
        "float",
        unit="s",
        low=0.1,
        high=60.0,
        label="Perch or slump ends after",
        help="How long the weight must stay back in range.",
    )
    fault_no_data_s: float = setting(
        0.5,
        "float",
        unit="s",
        low=0.2,
        high=60.0,
        label="Fault when silent for",
        help="A load cell that sends nothing this long is a sensor fault.",
        note="a channel silent this long is at fault",
    )
    fault_stuck_s: float = setting(
        2.0,
        "float",
        unit="s",
        low=0.5,
        high=600.0,
        label="Fault when stuck for",
        help="A load cell frozen this long while the others move is a sensor fault.",
        note="... and one frozen this long while the others move",
    )
    fault_session_s: float = setting(
        30.0,
        "float",
        unit="s",
        low=1.0,
        high=3600.0,
        label="All sensors out ends the session after",
        help="With every load cell at fault this long, the sitting session is closed.",
        note="all four at fault this long ends a session",
    )
    spike_kg: float = setting(
        5.0,
        "float",
        unit="kg",
        low=0.5,
        high=100.0,
        label="Ignore single jumps of",
        help="One reading this far from both neighbours is a glitch.",
    )
    corner_max_kg: float = setting(
        250.0,
        "float",
        unit="kg",
        low=10.0,
        high=1000.0,
        label="Highest believable corner load",
        help="More than “Seated from”; a reading above it is a fault.",
    )
    corner_min_kg: float = setting(
        -50.0,
        "float",
        unit="kg",
        low=-1000.0,
        high=-0.1,
        label="Lowest believable corner load",
        help="Below 0 (an empty corner reads a little below zero); a reading below it is a fault.",
    )
    zero_track_tau_s: float = setting(
        300.0,
        "float",
        unit="s",
        low=10.0,
        high=86400.0,
        label="Zero tracking speed",
        help="On an empty cushion the zero follows slow drift with this time constant (300 s is 5 minutes).",
        note="how fast the zero follows drift on an empty cushion",
    )
    zero_track_max_kg: float = setting(
        1.5,
        "float",
        unit="kg",
        low=0.0,
        high=10.0,
        label="Zero tracking range",
        help="Only readings this close to zero are followed; 0 turns zero tracking off.",
    )


@dataclass(frozen=True, slots=True)
class Breaks:
    """Break and movement prompts (SPEC section 3).

    quiet_hours may be given as strings ("22:00-07:00"): they are parsed into
    QuietRange values here, once (a bad one raises ValueError; the config
    file's validation names the key instead).
    """

    break_min_s: float = setting(
        60.0,
        "float",
        unit="s",
        low=10.0,
        high=3600.0,
        label="A break is at least",
        help="Shorter absences don't end the sitting session.",
        note="an absence this long is a break",
    )
    break_after_min: float = setting(
        45.0,
        "float",
        unit="min",
        low=1.0,
        high=480.0,
        label="Break due after",
        help="Continuous sitting before the first break prompt. The guide: stand every 30-45 minutes.",
        note="the buzzer asks for a break after this much sitting ...",
    )
    overdue_after_min: float = setting(
        60.0,
        "float",
        unit="min",
        low=2.0,
        high=600.0,
        label="Break overdue after",
        help="The stronger reminder; later than “Break due after”. The guide names more than 60 minutes "
        "without moving as a trigger.",
        note="... and more insistently after this much",
    )
    repeat_min: float = setting(
        15.0,
        "float",
        unit="min",
        low=1.0,
        high=240.0,
        label="Repeat the overdue reminder every",
        help="How often it comes back while you sit on.",
        note="... and again this often",
    )
    still_min: float = setting(
        20.0,
        "float",
        unit="min",
        low=1.0,
        high=240.0,
        label="Move nudge after sitting still for",
        help="A soft chirp after this long without any movement.",
        note="a nudge to move after this long without moving",
    )
    # Wall-clock stretches in which the buzzer is muted (may wrap midnight);
    # prompts are still recorded.
    quiet_hours: tuple[QuietRange, ...] = setting(
        (),
        "quiet_hours",
        low=0,
        high=24,
        label="Quiet hours",
        help="Ranges like 22:00-07:00, separated by commas, each optionally for some days only "
        "(Mon-Fri 18:00-08:00), or whole days (Sat-Sun); the buzzer is silent then, prompts are still "
        "recorded. Empty: none.",
        note='e.g. ["22:00-07:00"], or work hours only: ["Mon-Fri 18:00-08:00", "Sat-Sun"]',
        example=("22:00-07:00",),
    )

    def __post_init__(self) -> None:
        if any(not isinstance(r, QuietRange) for r in self.quiet_hours):
            ranges = tuple(r if isinstance(r, QuietRange) else QuietRange.parse(r) for r in self.quiet_hours)
            object.__setattr__(self, "quiet_hours", ranges)


@dataclass(frozen=True, slots=True)
class Sensor:
    """HX711 wiring (SPEC section 7). Pins are BCM numbers."""

    clock_pin: int = setting(
        5,
        "int",
        unit="BCM GPIO",
        low=0,
        high=27,
        label="the load cells' clock line",
        note="PD_SCK, shared by the four HX711s",
    )
    data_pins: tuple[int, int, int, int] = setting(
        (6, 13, 19, 26),
        "ints4",
        unit="BCM GPIO",
        low=0,
        high=27,
        label="a load cell's data line",
        note="DOUT of fl, fr, bl, br",
    )
    rate_hz: int = setting(
        80, "int", unit="Hz", choices=(80, 10), label="the HX711s' rate", note="the boards' RATE setting: 80 or 10"
    )
    clock_pins: tuple[int, int, int, int] | None = setting(
        None,
        "ints4",
        unit="BCM GPIO",
        low=0,
        high=27,
        label="a load cell's clock line",
        optional=True,
        note="instead of clock_pin: one PD_SCK per chip",
        example=(5, 12, 16, 20),
    )


@dataclass(frozen=True, slots=True)
class Alerts:
    """Buzzer, LED and button (BCM pins; -1 means not fitted)."""

    buzzer: str = setting(
        "active",
        "choice",
        choices=("active", "passive", "none"),
        label="Buzzer type",
        help="active: beeps by itself; passive: needs a tone; none: not fitted.",
        note='"active", "passive" (tones) or "none"',
    )
    buzzer_pin: int = setting(
        17,
        "int",
        unit="BCM GPIO",
        low=0,
        high=27,
        label="Buzzer pin",
        help="0 to 27. No buzzer fitted? Set the buzzer type to none.",
    )
    buzzer_enabled: bool = setting(
        True,
        "bool",
        label="Buzzer on",
        help="Off: prompts are shown and recorded, never sounded.",
        note="false: prompts are recorded and shown, never sounded",
    )
    led: str = setting(
        "plain",
        "choice",
        choices=("plain", "pwm"),
        label="Light type",
        help="plain: on/off; pwm: dimmable.",
        note='"plain" or "pwm" (fades)',
    )
    led_pin: int = setting(27, "int", unit="BCM GPIO", low=0, high=27, label="Light pin", help="0 to 27.")
    button_pin: int = setting(
        22,
        "int",
        unit="BCM GPIO",
        low=-1,
        high=27,
        label="Button pin",
        help="0 to 27, or -1 if no button is fitted.",
        note="-1: no button; press to snooze, hold to mute for the day",
    )
    snooze_min: float = setting(
        10.0,
        "float",
        unit="min",
        low=1.0,
        high=720.0,
        label="Snooze length",
        help="A press of the button silences prompts this long.",
    )
    hold_s: float = setting(
        2.0,
        "float",
        unit="s",
        low=0.5,
        high=10.0,
        label="Hold to mute the day",
        help="Holding the button this long mutes the rest of the day.",
        note="a press this long is a hold",
    )


@dataclass(frozen=True, slots=True)
class Mqtt:
    """The link to an MQTT broker (SPEC section 8): Home Assistant, or a hub for many cushions.

    Off unless `host` is set: nothing leaves the Pi. The password is read
    from `password_file`, never kept in the config.
    """

    host: str = setting(
        "",
        "str",
        high=253,
        label="Broker",
        help="The MQTT broker's host name or address; empty: MQTT off, nothing leaves the Pi.",
        note='e.g. "192.168.1.10"; empty: MQTT off',
        pattern=r"[A-Za-z0-9.:\-\[\]]*",
        pattern_text="a host name or an IP address",
    )
    port: int = setting(1883, "int", low=1, high=65535, label="Broker port", note="8883 with tls = true")
    tls: bool = setting(False, "bool", label="TLS", note="encrypt the connection (the broker's certificate is checked)")
    ca_file: str = setting(
        "",
        "str",
        high=4096,
        label="CA certificate file",
        note="the CA that signed the broker's certificate; empty: the system's CAs",
    )
    username: str = setting("", "str", high=256, label="User name", note="empty: no login")
    password_file: str = setting(
        "",
        "str",
        high=4096,
        label="Password file",
        note="the password is read from this file, never kept in the config",
    )
    cushion_id: str = setting(
        "",
        "str",
        high=64,
        label="Cushion id",
        pattern=r"[a-z0-9_-]*",
        pattern_text="lower-case letters, digits, _ and - only",
        note="in topics; empty: derived once from the machine and kept",
    )
    topic_prefix: str = setting(
        "smart-cushion",
        "str",
        high=200,
        label="Topic prefix",
        note="topics are {topic_prefix}/{cushion_id}/...",
        pattern=r"[^#+/\s][^#+\s]*[^#+/\s]|[^#+/\s]",
        pattern_text="text without spaces, # or +, and no / at either end",
    )
    discovery_prefix: str = setting(
        "homeassistant",
        "str",
        high=200,
        label="Home Assistant discovery prefix",
        note="where Home Assistant looks for devices",
        pattern=r"[^#+/\s][^#+\s]*[^#+/\s]|[^#+/\s]",
        pattern_text="text without spaces, # or +, and no / at either end",
    )
    publish_load: bool = setting(
        False,
        "bool",
        label="Publish the seated load",
        note="the seated load in kg is health data: off unless asked for",
    )

    @property
    def enabled(self) -> bool:
        """MQTT is on: a broker host is set."""
        return bool(self.host)


@dataclass(frozen=True, slots=True)
class Config:
    calibration: Calibration = field(default_factory=Calibration)
    geometry: Geometry = field(default_factory=Geometry)
    detect: Detect = field(default_factory=Detect)
    breaks: Breaks = field(default_factory=Breaks)
    sensor: Sensor = field(default_factory=Sensor)
    alerts: Alerts = field(default_factory=Alerts)
    mqtt: Mqtt = field(default_factory=Mqtt)


SECTIONS: dict[str, type] = {f.name: f.default_factory for f in dataclasses.fields(Config)}  # type: ignore[misc]
# Section headers' comments in the template.
SECTION_NOTES = {
    "calibration": "written by `cushion tare` and `cushion calibrate`",
    "sensor": "BCM GPIO numbers (hardware/wiring.md)",
    "detect": "loads in kg, times in seconds",
    "breaks": "times in minutes unless _s",
    "mqtt": "off unless host is set (docs/mqtt.md)",
}
# Settings the person may change from the dashboard (stored in the database
# as "section.key" -> value, applied over the config file without a restart).
# Calibration, geometry and wiring stay in the file: they belong to the hardware.
EDITABLE_SECTIONS = ("detect", "breaks", "alerts")


@dataclass(frozen=True, slots=True)
class Key:
    """One key of one section, with its Spec."""

    section: str
    name: str
    spec: Spec
    default: Any

    @property
    def where(self) -> str:
        return f"[{self.section}] {self.name}"

    @property
    def setting(self) -> str:
        """Its name as a dashboard setting: "breaks.break_after_min"."""
        return f"{self.section}.{self.name}"


def keys(section: str | None = None) -> list[Key]:
    """Every key (of one section), in the config's order."""
    found: list[Key] = []
    for name, cls in SECTIONS.items():
        if section is None or name == section:
            found.extend(Key(name, f.name, f.metadata["spec"], f.default) for f in dataclasses.fields(cls))
    return found


def key(section: str, name: str) -> Key:
    (f,) = [f for f in dataclasses.fields(SECTIONS[section]) if f.name == name]
    return Key(section, name, f.metadata["spec"], f.default)


@dataclass(frozen=True, slots=True)
class Rule:
    """``section.key`` must stand in ``relation`` ("<", "<=", ">") to ``section.other``."""

    section: str
    key: str
    relation: str
    other: str

    def holds(self, value: float, other_value: float) -> bool:
        if self.relation == "<":
            return value < other_value
        if self.relation == "<=":
            return value <= other_value
        if self.relation == ">":
            return value > other_value
        if self.relation == ">=":
            return value >= other_value
        raise AssertionError(self.relation)


RULES = (
    Rule("detect", "away_kg", "<=", "seated_kg"),
    Rule("detect", "lean_end", "<=", "lean_start"),
    Rule("detect", "twist_peak", ">=", "lean_start"),
    Rule("detect", "corner_max_kg", ">", "seated_kg"),
    Rule("breaks", "overdue_after_min", ">", "break_after_min"),
)
