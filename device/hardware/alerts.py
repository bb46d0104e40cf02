"""Buzzer, LED and button: the prompt output, a thin layer over gpiozero devices.

:class:`Alerts` builds its devices from gpiozero's pin factory
(``Device.pin_factory``, which honours ``GPIOZERO_PIN_FACTORY``), so lgpio
drives them on a Pi and ``MockFactory`` in tests. It decides nothing about
*when* to prompt or whether the buzzer may sound: the daemon does that with
``device.core.prompts`` and ``device.core.quiet`` and tells this class what to show.

What the person sees and hears:

- **Buzzer**, one short pattern per prompt kind (:data:`PATTERNS`):
  ``move`` one soft chirp (80 ms), ``break_due`` two beeps (150 ms, 150 ms
  apart), ``break_overdue`` three longer beeps (300 ms, 150 ms apart). An
  active buzzer beeps through gpiozero's background ``beep(n=...)``; a
  passive one plays each beep's tone (``TonalBuzzer.play``) from a
  background thread, a lower, softer tone for ``move`` and rising ones for
  the break prompts. Patterns never block the caller.
- **One pattern at a time.** A more urgent prompt (break_overdue, then
  break_due, then move) cuts in on a less urgent one still sounding; a less or
  equally urgent one arriving meanwhile is shown but not sounded.
- **LED**: steady on while a break is due (from the first break prompt until
  the daemon clears it, i.e. until the break is taken); a slow blink (0.5 s
  on every 2 s; a PWM LED fades in and out instead) while a sensor fault
  lasts and no break is due; dark otherwise. A due break wins over a fault:
  it asks the person to act, and the fault is also on the dashboard.
- **Away** (:meth:`Alerts.set_away`): LED dark and buzzer silent while nobody
  sits; the break and fault states are kept, so a person who comes back
  from a short absence (not a break) sees the LED again.
- **Button**: pressing it silences a pattern at once; a short press
  (released before ``hold_s``) calls ``on_snooze`` on release, a hold calls
  ``on_mute`` once ``hold_s`` is reached (and no snooze follows). Snooze on
  release rather than on press, so a hold is never also a snooze.

How the daemon wires it to ``device.core.quiet`` (the button callbacks run on
gpiozero's event thread; SnoozeState only assigns attributes, so sharing it
with the main loop is safe)::

    from datetime import datetime
    from device.core.quiet import PromptGate, QuietHours, SnoozeState

    snooze, gate = SnoozeState(), PromptGate(config.breaks)
    quiet = QuietHours.from_breaks(config.breaks)
    with Alerts(config.alerts,
                on_snooze=lambda: snooze.snooze(datetime.now(), config.alerts.snooze_min),
                on_mute=lambda: snooze.mute_day(datetime.now())) as alerts:
        ...
        for kind in scheduler.due(t, movement_pending):   # recorded whatever happens next
            if gate.allow(kind, t):
                alerts.prompt(kind, sound=snooze.buzzer_allowed(
                    datetime.now(), quiet, config.alerts.buzzer_enabled))
        alerts.set_fault(bool(frame.faults))
        # standing up: alerts.set_away(); a break: alerts.set_break_due(False),
        # gate.new_session(); seated again: alerts.set_away(False)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic

from gpiozero import LED, PWMLED, Button, Buzzer, Device, TonalBuzzer
from gpiozero.exc import (
    BadPinFactory,
    GPIOPinInUse,
    GPIOZeroError,
    PinInvalidPin,
    PinPWMError,
)
from gpiozero.tones import Tone

from device.config import Alerts as AlertsConfig
from device.errors import CushionError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Pattern:
    """A prompt's sound: one beep per tone, each ``on_s`` seconds, ``off_s`` apart.

    The tones (note names) are used by a passive buzzer only; an active
    buzzer has one pitch of its own.
    """

    tones: tuple[str, ...]
    on_s: float
    off_s: float

    @property
    def beeps(self) -> int:
        return len(self.tones)

    @property
    def duration_s(self) -> float:
        """From the first beep's start to the last beep's end."""
        return self.beeps * self.on_s + (self.beeps - 1) * self.off_s


# Distinct by count first (1, 2, 3 beeps), so an active buzzer's single pitch
# still tells them apart; short enough never to be a nuisance. A passive
# piezo is loudest near its resonance (2-4 kHz), so the lower A5 chirp for
# `move` is also the softest.
PATTERNS: dict[str, Pattern] = {
    "move": Pattern(("A5",), on_s=0.08, off_s=0.1),
    "break_due": Pattern(("C6", "E6"), on_s=0.15, off_s=0.15),
    "break_overdue": Pattern(("E6", "E6", "E6"), on_s=0.3, off_s=0.15),
}
URGENCY = {"move": 0, "break_due": 1, "break_overdue": 2}
# The [alerts] keys that decide which devices sit on which pins.
PIN_SETTINGS = ("buzzer", "buzzer_pin", "led", "led_pin", "button_pin")
BREAK_KINDS = ("break_due", "break_overdue")

FAULT_BLINK_S = (0.5, 1.5)  # (on, off) seconds: slow, and dark most of the time
# TonalBuzzer's range is mid_tone +- octaves: A4..A6 (440-1760 Hz) holds every tone above.
TONE_MID = "A5"
TONE_OCTAVES = 1

_GPIO_GROUP_HINT = (
    "put the user in the gpio group (sudo usermod -aG gpio $USER, then log in again); see hardware/troubleshooting.md"
)


class Alerts:
    """The cushion's buzzer, LED and button, as configured in ``[alerts]``.

    :param alerts: the ``[alerts]`` config (``device.config.Alerts``); None
        gives the defaults. Pins are BCM numbers; -1 means not fitted.
        ``buzzer = "none"`` builds no buzzer; with ``buzzer_enabled = false``
        the buzzer is built (so its pin is driven low) but never sounds.
    :param pin_factory: a gpiozero pin factory; None uses ``Device.pin_factory``.
    :param on_snooze: called with no arguments after a short button press.
    :param on_mute: called with no arguments when the button is held ``hold_s``.
        Both run on gpiozero's event thread; an exception they raise is logged.
    :param fault_blink: (on, off) seconds of the fault blink.

    Missing GPIO access (no pin factory, permissions, a pin in use, no PWM
    for a passive buzzer or PWM LED) raises CushionError with a one-line
    message naming the key, the pin and the fix. Use as a context manager or
    call :meth:`close`; calls after closing are ignored.
    """

    def __init__(
        self,
        alerts: AlertsConfig | None = None,
        *,
        pin_factory=None,
        on_snooze: Callable[[], object] | None = None,
        on_mute: Callable[[], object] | None = None,
        fault_blink: tuple[float, float] = FAULT_BLINK_S,
    ):
        self.config = alerts if alerts is not None else AlertsConfig()
        self.on_snooze = on_snooze
        self.on_mute = on_mute
        self._fault_blink = fault_blink
        self._lock = threading.RLock()
        self._closed = False
        self._break_due = False
        self._fault = False
        self._away = False
        self._led_mode = "off"
        self._sound_kind: str | None = None
        self._sound_end = 0.0
        self._player: threading.Thread | None = None
        self._player_stop = threading.Event()
        self._held = False
        self.buzzer: Buzzer | TonalBuzzer | None = None
        self.led: LED | PWMLED | None = None
        self.button: Button | None = None

        cfg = self.config
        _check_pins(cfg)
        try:
            if cfg.buzzer != "none" and cfg.buzzer_pin >= 0:
                if cfg.buzzer == "passive":
                    self.buzzer = _open(
                        "buzzer_pin",
                        cfg.buzzer_pin,
                        lambda: TonalBuzzer(
                            cfg.buzzer_pin, mid_tone=Tone(TONE_MID), octaves=TONE_OCTAVES, pin_factory=pin_factory
                        ),
                        pwm_fix='set [alerts] buzzer = "active"',
                    )
                else:
                    self.buzzer = _open(
                        "buzzer_pin", cfg.buzzer_pin, lambda: Buzzer(cfg.buzzer_pin, pin_factory=pin_factory)
                    )
            if cfg.led_pin >= 0:
                if cfg.led == "pwm":
                    self.led = _open(
                        "led_pin",
                        cfg.led_pin,
                        lambda: PWMLED(cfg.led_pin, pin_factory=pin_factory),
                        pwm_fix='set [alerts] led = "plain"',
                    )
                else:
                    self.led = _open("led_pin", cfg.led_pin, lambda: LED(cfg.led_pin, pin_factory=pin_factory))
            if cfg.button_pin >= 0:
                self.button = _open(
                    "button_pin",
                    cfg.button_pin,
                    lambda: Button(cfg.button_pin, pull_up=True, hold_time=cfg.hold_s, pin_factory=pin_factory),
                )
                self.button.when_pressed = self._pressed
                self.button.when_released = self._released
                self.button.when_held = self._button_held
        except BaseException:
            self.close()
            raise

    # -- what the daemon calls ------------------------------------------------

    def same_pins(self, alerts: AlertsConfig) -> bool:
        """Would `alerts` use the same devices on the same pins (so `apply` can take it)?"""
        return all(getattr(alerts, name) == getattr(self.config, name) for name in PIN_SETTINGS)

    def apply(self, alerts: AlertsConfig) -> None:
        """Take settings that need no other pins: buzzer_enabled, hold_s, snooze_min.

        A change of device type or pin needs new devices: close this object
        and build another (the daemon does, see Daemon._apply_alerts).
        """
        if not self.same_pins(alerts):
            raise ValueError("other devices or pins: build a new Alerts")
        with self._lock:
            self.config = alerts
            if self.button is not None:
                self.button.hold_time = alerts.hold_s
            if not alerts.buzzer_enabled:
                self.stop_sound()

    def prompt(self, kind: str, sound: bool = True) -> None:
        """Show a prompt of `kind` ("move", "break_due" or "break_overdue").

        A break prompt turns the LED on whatever `sound` says. The buzzer
        plays the kind's pattern only if `sound` is true (the daemon asks
        ``device.core.quiet`` first), the buzzer is enabled in the config, nobody
        is away, and no more urgent pattern is still sounding. Returns at once.
        """
        if kind not in PATTERNS:
            raise ValueError(f"unknown prompt kind {kind!r}; expected one of {tuple(PATTERNS)}")
        with self._lock:
            if self._closed:
                return
            if kind in BREAK_KINDS:
                self._break_due = True
                self._apply_led()
            if sound and not self._away and self.config.buzzer_enabled and self.buzzer is not None:
                playing = self.sounding
                if playing is None or URGENCY[kind] > URGENCY[playing]:
                    self._play(kind)

    def set_break_due(self, due: bool) -> None:
        """LED steady on while a break is due; False once the break is taken."""
        with self._lock:
            self._break_due = bool(due)
            self._apply_led()

    def set_fault(self, fault: bool) -> None:
        """Slow-blink the LED while a sensor fault lasts (unless a break is due)."""
        with self._lock:
            self._fault = bool(fault)
            self._apply_led()

    def set_away(self, away: bool = True) -> None:
        """Nobody on the cushion: LED dark, buzzer silenced; False when seated again."""
        with self._lock:
            self._away = bool(away)
            if self._away:
                self.stop_sound()
            self._apply_led()

    def stop_sound(self) -> None:
        """Silence the buzzer now, mid-pattern if need be."""
        with self._lock:
            self._sound_kind = None
            self._sound_end = 0.0
            if self.buzzer is None or self._closed:
                return
            if isinstance(self.buzzer, TonalBuzzer):
                self._stop_player()
                self.buzzer.stop()
            else:
                self.buzzer.off()

    # -- state --------------------------------------------------------------

    @property
    def break_due(self) -> bool:
        return self._break_due

    @property
    def fault(self) -> bool:
        return self._fault

    @property
    def away(self) -> bool:
        return self._away

    @property
    def led_mode(self) -> str:
        """What the LED is doing: "off", "on" (break due) or "blink" (fault)."""
        return self._led_mode

    @property
    def sounding(self) -> str | None:
        """The prompt kind whose pattern is playing, or None."""
        if self._sound_kind is not None and monotonic() < self._sound_end:
            return self._sound_kind
        return None

    @property
    def closed(self) -> bool:
        return self._closed

    # -- lifecycle -------------------------------------------------------------

    def close(self) -> None:
        """Silence everything and release the pins. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            try:
                self.stop_sound()
            finally:
                self._closed = True
        # Outside the lock: closing the button joins its hold thread, which
        # may be inside on_mute, which may call back into this object.
        for device in (self.button, self.led, self.buzzer):
            if device is not None:
                device.close()

    def __enter__(self) -> Alerts:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._closed:
            return f"<{type(self).__name__} closed>"
        parts = []
        for name, device in (("buzzer", self.buzzer), ("led", self.led), ("button", self.button)):
            if device is not None:
                pin = getattr(device, "pin", None) or device.pwm_device.pin
                parts.append(f"{name}={type(device).__name__}({pin})")
        return f"<{type(self).__name__} {' '.join(parts) or 'no devices'}, led {self._led_mode}>"

    # -- internals -----------------------------------------------------------

    def _apply_led(self) -> None:
        if self._closed:
            return
        if self._away:
            mode = "off"
        elif self._break_due:
            mode = "on"
        elif self._fault:
            mode = "blink"
        else:
            mode = "off"
        if mode == self._led_mode:
            return  # restarting a blink would reset its phase
        self._led_mode = mode
        led = self.led
        if led is None:
            return
        if mode == "on":
            led.on()
        elif mode == "off":
            led.off()
        elif isinstance(led, PWMLED):
            on_s, off_s = self._fault_blink
            led.blink(on_time=0, off_time=max(off_s - on_s, 0.0), fade_in_time=on_s, fade_out_time=on_s)
        else:
            on_s, off_s = self._fault_blink
            led.blink(on_time=on_s, off_time=off_s)

    def _play(self, kind: str) -> None:
        pattern = PATTERNS[kind]
        self.stop_sound()
        self._sound_kind = kind
        self._sound_end = monotonic() + pattern.duration_s
        if isinstance(self.buzzer, TonalBuzzer):
            self._player_stop = threading.Event()
            self._player = threading.Thread(
                target=self._play_tones,
                args=(self.buzzer, pattern, self._player_stop),
                name=f"cushion-{kind}",
                daemon=True,
            )
            self._player.start()
        elif self.buzzer is not None:
            self.buzzer.beep(on_time=pattern.on_s, off_time=pattern.off_s, n=pattern.beeps)

    @staticmethod
    def _play_tones(buzzer: TonalBuzzer, pattern: Pattern, stopping: threading.Event) -> None:
        try:
            for i, tone in enumerate(pattern.tones):
                if i and stopping.wait(pattern.off_s):
                    return
                buzzer.play(tone)
                if stopping.wait(pattern.on_s):
                    return
                buzzer.stop()
        finally:
            if not stopping.is_set():
                buzzer.stop()

    def _stop_player(self) -> None:
        player = self._player
        if player is not None:
            self._player_stop.set()
            player.join(timeout=2.0)
            self._player = None

    def _pressed(self) -> None:
        self._held = False
        self.stop_sound()

    def _released(self) -> None:
        if not self._held:
            _call(self.on_snooze, "on_snooze")
        self._held = False

    def _button_held(self) -> None:
        self._held = True
        _call(self.on_mute, "on_mute")


def _call(callback: Callable[[], object] | None, name: str) -> None:
    if callback is None:
        return
    try:
        callback()
    except Exception:  # the button must keep working
        log.exception("%s callback failed", name)


def _check_pins(cfg: AlertsConfig) -> None:
    seen: dict[int, str] = {}
    for key in ("buzzer_pin", "led_pin", "button_pin"):
        pin = getattr(cfg, key)
        if key == "buzzer_pin" and cfg.buzzer == "none":
            continue
        if pin < -1:
            raise CushionError(f"[alerts] {key} = {pin}: a BCM pin number, or -1 for none")
        if pin >= 0:
            if pin in seen:
                raise CushionError(f"[alerts] {key} = {pin}: same pin as {seen[pin]}; give each its own pin")
            seen[pin] = key


def _open(key: str, pin: int, make: Callable[[], Device], pwm_fix: str = "") -> Device:
    """Build one gpiozero device, turning a GPIO access problem into a CushionError."""
    try:
        return make()
    except Exception as exc:
        if not _is_gpio_error(exc):
            raise
        raise CushionError(_message(key, pin, exc, pwm_fix)) from exc


def _is_gpio_error(exc: Exception) -> bool:
    if isinstance(exc, (GPIOZeroError, OSError, RuntimeError)):
        return True
    # Backends raise their own types (lgpio.error "GPIO busy", ...).
    return type(exc).__module__.split(".")[0] in ("lgpio", "RPi", "pigpio")


def _message(key: str, pin: int, exc: Exception, pwm_fix: str) -> str:
    where = f"[alerts] {key} = {pin}"
    detail = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, BadPinFactory):
        return (
            f"{where}: no GPIO access for GPIO{pin} ({detail}): on a Raspberry Pi install "
            f"lgpio (pip install 'smart-cushion[pi]') and {_GPIO_GROUP_HINT}"
        )
    if isinstance(exc, GPIOPinInUse):
        return f"{where}: GPIO{pin} is already in use ({detail}): choose a free pin"
    if isinstance(exc, PinInvalidPin):
        return f"{where}: GPIO{pin} does not exist on this board ({detail}): use a BCM pin number"
    if isinstance(exc, PinPWMError):
        return (
            f"{where}: this pin factory cannot drive GPIO{pin} with PWM ({detail}): "
            f"{pwm_fix or 'choose a PWM-free option'}, or use the lgpio pin factory"
        )
    return f"{where}: cannot open GPIO{pin} ({detail}): {_GPIO_GROUP_HINT}"
