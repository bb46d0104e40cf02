"""Buzzer, LED and button (device.hardware.alerts) on gpiozero's mock pins.

Like gpiozero's own tests: the mock factory is the pin factory, input pins are
driven (drive_low / drive_high) and output pins' state histories are asserted.
Background patterns are waited for with a bounded poll on the pin history.
"""

import threading
import time
from math import isclose

import pytest
from gpiozero import Buzzer, Device
from gpiozero.pins.mock import MockFactory, MockPWMPin
from gpiozero.tones import Tone

from device.config import Alerts as AlertsConfig
from device.errors import CushionError
from device.hardware.alerts import PATTERNS, Alerts

BUZZER, LED_PIN, BUTTON = 17, 27, 22


class TonePin(MockPWMPin):
    """A mock PWM pin that also keeps the history of its frequency (a passive buzzer's tone)."""

    def __init__(self, factory, info):
        self.frequencies = []
        super().__init__(factory, info)

    def _set_frequency(self, value):
        super()._set_frequency(value)
        self.frequencies.append(value)


@pytest.fixture
def pwm(mock_factory):
    mock_factory.pin_class = TonePin


def values(pin):
    return [float(s.state) for s in pin.states]


def wait_states(pin, count, timeout=3.0):
    """Wait (bounded) until `pin` has gone through `count` states; return them."""
    deadline = time.monotonic() + timeout
    while len(pin.states) < count:
        assert time.monotonic() < deadline, f"only {values(pin)} after {timeout} s"
        time.sleep(0.005)
    return values(pin)


def durations(pin):
    """How long each state after the first lasted: [(state, seconds), ...] (the last is still running)."""
    states = pin.states
    return [(float(a.state), b.timestamp) for a, b in zip(states[1:], states[2:])]


def assert_about(seconds, expected):
    # Event.wait never returns early; a busy machine can make it late.
    assert expected - 0.01 <= seconds <= expected + 0.25, (seconds, expected)


def config(**changes):
    """The [alerts] config; without the button unless asked (closing one takes 0.1 s)."""
    changes.setdefault("button_pin", -1)
    return AlertsConfig(**changes)


# -- buzzer patterns ---------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, beeps, on_s, off_s",
    [
        ("move", 1, 0.08, None),
        ("break_due", 2, 0.15, 0.15),
        ("break_overdue", 3, 0.30, 0.15),
    ],
)
def test_each_prompt_kind_has_its_own_beep_pattern(mock_factory, kind, beeps, on_s, off_s):
    buzzer = mock_factory.pin(BUZZER)
    with Alerts(config()) as alerts:
        alerts.prompt(kind)
        assert alerts.sounding == kind
        history = wait_states(buzzer, 1 + 2 * beeps)
        assert history == [0.0] + [1.0, 0.0] * beeps
        for state, seconds in durations(buzzer):
            assert_about(seconds, on_s if state else off_s)


def test_patterns_differ_in_count_and_length():
    counts = [PATTERNS[k].beeps for k in ("move", "break_due", "break_overdue")]
    lengths = [PATTERNS[k].on_s for k in ("move", "break_due", "break_overdue")]
    assert counts == [1, 2, 3]
    assert lengths == sorted(lengths) and len(set(lengths)) == 3
    assert all(p.duration_s < 1.5 for p in PATTERNS.values())


def test_prompt_returns_at_once(mock_factory):
    with Alerts(config()) as alerts:
        start = time.monotonic()
        alerts.prompt("break_overdue")
        assert time.monotonic() - start < PATTERNS["break_overdue"].on_s


@pytest.mark.parametrize("kind", ["move", "break_due", "break_overdue"])
def test_passive_buzzer_plays_the_patterns_tones(mock_factory, pwm, kind):
    buzzer = mock_factory.pin(BUZZER)
    pattern = PATTERNS[kind]
    with Alerts(config(buzzer="passive")) as alerts:
        buzzer.frequencies.clear()
        alerts.prompt(kind)
        history = wait_states(buzzer, 1 + 2 * pattern.beeps)
        assert history == [0.0] + [0.5, 0.0] * pattern.beeps  # square wave, then silence
        tones = [f for f in buzzer.frequencies if f is not None]
        assert len(tones) == pattern.beeps
        for played, name in zip(tones, pattern.tones):
            assert isclose(played, Tone(name).frequency, rel_tol=1e-6)
        for state, seconds in durations(buzzer):
            assert_about(seconds, pattern.on_s if state else pattern.off_s)
    assert buzzer.frequency is None


def test_passive_move_chirp_is_lower_than_break_tones():
    move = Tone(PATTERNS["move"].tones[0]).frequency
    breaks = [Tone(t).frequency for k in ("break_due", "break_overdue") for t in PATTERNS[k].tones]
    assert move < min(breaks)


def test_more_urgent_prompt_cuts_in(mock_factory):
    buzzer = mock_factory.pin(BUZZER)
    with Alerts(config()) as alerts:
        alerts.prompt("move")
        wait_states(buzzer, 2)
        alerts.prompt("break_due")
        assert alerts.sounding == "break_due"
        assert wait_states(buzzer, 7) == [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]


def test_less_urgent_prompt_does_not_cut_in(mock_factory):
    buzzer = mock_factory.pin(BUZZER)
    with Alerts(config()) as alerts:
        alerts.prompt("break_due")
        wait_states(buzzer, 2)
        alerts.prompt("move")
        alerts.prompt("break_due")  # the same one again does not restart it
        assert alerts.sounding == "break_due"
        assert wait_states(buzzer, 5) == [0.0] + [1.0, 0.0] * 2
        assert all(seconds > 0.14 for state, seconds in durations(buzzer) if state)
        time.sleep(PATTERNS["break_due"].off_s + 0.05)
        assert len(buzzer.states) == 5
        assert alerts.sounding is None


def test_sound_false_leaves_the_buzzer_alone_but_the_led_follows(mock_factory):
    buzzer, led = mock_factory.pin(BUZZER), mock_factory.pin(LED_PIN)
    with Alerts(config()) as alerts:
        alerts.prompt("break_overdue", sound=False)
        assert values(led) == [0.0, 1.0]
        time.sleep(0.1)  # long enough for a pattern's first beep
        assert values(buzzer) == [0.0]
        assert alerts.sounding is None


def test_buzzer_disabled_in_config_never_sounds(mock_factory):
    buzzer, led = mock_factory.pin(BUZZER), mock_factory.pin(LED_PIN)
    with Alerts(config(buzzer_enabled=False)) as alerts:
        assert alerts.buzzer is not None  # built, so its pin is held low
        alerts.prompt("break_due")
        time.sleep(0.1)
        assert values(buzzer) == [0.0]
        assert values(led) == [0.0, 1.0]


def test_no_buzzer(mock_factory):
    led = mock_factory.pin(LED_PIN)
    with Alerts(config(buzzer="none")) as alerts:
        assert alerts.buzzer is None
        alerts.prompt("break_due")
        assert values(led) == [0.0, 1.0]
        assert alerts.sounding is None


def test_unknown_kind_is_an_error(mock_factory):
    with Alerts(config()) as alerts:
        with pytest.raises(ValueError, match="twist"):
            alerts.prompt("twist")


# -- LED ---------------------------------------------------------------------------


def test_led_steady_on_while_a_break_is_due_and_off_once_cleared(mock_factory):
    led = mock_factory.pin(LED_PIN)
    with Alerts(config()) as alerts:
        alerts.prompt("move")
        assert values(led) == [0.0]  # a move nudge is sound only
        alerts.prompt("break_due")
        alerts.prompt("break_overdue")
        assert alerts.led_mode == "on" and alerts.break_due
        time.sleep(0.05)
        assert values(led) == [0.0, 1.0]  # steady: no blinking
        alerts.set_break_due(False)
        assert values(led) == [0.0, 1.0, 0.0]
        assert alerts.led_mode == "off"


def test_fault_blinks_the_led_slowly(mock_factory):
    led = mock_factory.pin(LED_PIN)
    with Alerts(config()) as alerts:
        alerts.set_fault(True)
        assert alerts.led_mode == "blink"
        assert wait_states(led, 3) == [0.0, 1.0, 0.0]
        assert_about(led.states[2].timestamp, 0.5)
        alerts.set_fault(True)  # again: the blink keeps its phase
        alerts.set_fault(False)
        assert values(led)[-1] == 0.0 and alerts.led_mode == "off"


def test_fault_blink_toggles(mock_factory):
    led = mock_factory.pin(LED_PIN)
    with Alerts(config(), fault_blink=(0.02, 0.03)) as alerts:
        alerts.set_fault(True)
        assert wait_states(led, 8)[:8] == [0.0] + [1.0, 0.0] * 3 + [1.0]
        alerts.set_fault(False)
        time.sleep(0.05)
        assert values(led)[-1] == 0.0
        count = len(led.states)
        time.sleep(0.1)
        assert len(led.states) == count  # stopped


def test_break_due_wins_over_a_fault(mock_factory):
    led = mock_factory.pin(LED_PIN)
    with Alerts(config(), fault_blink=(0.02, 0.03)) as alerts:
        alerts.prompt("break_due", sound=False)
        alerts.set_fault(True)
        time.sleep(0.1)
        assert values(led) == [0.0, 1.0] and alerts.led_mode == "on"
        alerts.set_break_due(False)  # the break was taken; the fault is still there
        assert alerts.led_mode == "blink"
        assert len(wait_states(led, 6)) >= 6


def test_pwm_led_is_full_on_for_a_break_and_fades_for_a_fault(mock_factory, pwm):
    led = mock_factory.pin(LED_PIN)
    with Alerts(config(led="pwm")) as alerts:
        alerts.prompt("break_due", sound=False)
        assert values(led) == [0.0, 1.0]
        alerts.set_break_due(False)
        alerts.set_fault(True)
        time.sleep(0.3)
        assert any(0.0 < v < 1.0 for v in values(led))  # fading in


def test_no_led(mock_factory):
    with Alerts(config(led_pin=-1)) as alerts:
        assert alerts.led is None
        alerts.prompt("break_due", sound=False)
        assert alerts.led_mode == "on"  # the state is still kept


# -- away ---------------------------------------------------------------------------


def test_away_turns_everything_off(mock_factory):
    buzzer, led = mock_factory.pin(BUZZER), mock_factory.pin(LED_PIN)
    with Alerts(config()) as alerts:
        alerts.prompt("break_overdue")
        wait_states(buzzer, 2)
        alerts.set_fault(True)
        alerts.set_away()
        assert values(buzzer)[-1] == 0.0 and values(led)[-1] == 0.0
        assert alerts.sounding is None and alerts.led_mode == "off"
        heard = len(buzzer.states)
        alerts.prompt("move")
        alerts.prompt("break_overdue")
        time.sleep(0.1)
        assert len(buzzer.states) == heard  # silent while away
        assert values(led)[-1] == 0.0
        alerts.set_away(False)  # back within a short absence: the break is still due
        assert values(led)[-1] == 1.0 and alerts.led_mode == "on"


# -- button --------------------------------------------------------------------------


def test_short_press_snoozes(mock_factory):
    button = mock_factory.pin(BUTTON)
    snoozed, muted = [], []
    with Alerts(config(button_pin=BUTTON), on_snooze=lambda: snoozed.append(1), on_mute=lambda: muted.append(1)):
        button.drive_low()
        button.drive_high()
        assert snoozed == [1] and muted == []


def test_hold_mutes_and_does_not_snooze(mock_factory):
    button = mock_factory.pin(BUTTON)
    snoozed, held = [], threading.Event()
    with Alerts(config(button_pin=BUTTON, hold_s=0.05), on_snooze=lambda: snoozed.append(1), on_mute=held.set):
        button.drive_low()
        assert held.wait(2)
        button.drive_high()
        assert snoozed == []


def test_press_silences_a_sounding_pattern(mock_factory):
    buzzer, button = mock_factory.pin(BUZZER), mock_factory.pin(BUTTON)
    with Alerts(config(button_pin=BUTTON)) as alerts:
        alerts.prompt("break_overdue")
        wait_states(buzzer, 2)
        button.drive_low()
        assert values(buzzer) == [0.0, 1.0, 0.0] and alerts.sounding is None
        button.drive_high()
        time.sleep(0.4)
        assert values(buzzer) == [0.0, 1.0, 0.0]


def test_button_is_pulled_up(mock_factory):
    button = mock_factory.pin(BUTTON)
    with Alerts(config(button_pin=BUTTON)):
        assert button.pull == "up" and button.state


def test_a_failing_callback_does_not_break_the_button(mock_factory, caplog):
    button = mock_factory.pin(BUTTON)
    calls = []

    def broken():
        calls.append(1)
        raise RuntimeError("dashboard gone")

    with Alerts(config(button_pin=BUTTON), on_snooze=broken):
        for _ in range(2):
            button.drive_low()
            button.drive_high()
    assert calls == [1, 1]
    assert "on_snooze" in caplog.text


def test_no_button(mock_factory):
    with Alerts(config(button_pin=-1)) as alerts:
        assert alerts.button is None
        assert "button" not in repr(alerts)


# -- pins, factories, errors ------------------------------------------------------------


def test_close_releases_the_pins(mock_factory):
    alerts = Alerts(AlertsConfig())
    alerts.prompt("break_due")
    alerts.close()
    alerts.close()
    assert alerts.closed and repr(alerts) == "<Alerts closed>"
    alerts.prompt("break_overdue")  # ignored after close
    alerts.set_fault(True)
    with Alerts(AlertsConfig()):  # the same pins again
        pass


def test_an_explicit_pin_factory_is_used(mock_factory):
    other = MockFactory()
    with Alerts(config(), pin_factory=other) as alerts:
        alerts.prompt("break_due", sound=False)
        assert values(other.pin(LED_PIN)) == [0.0, 1.0]
        assert values(mock_factory.pin(LED_PIN)) == [0.0]


def test_gpiozero_pin_factory_env_is_honoured(mock_factory, monkeypatch):
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    Device.pin_factory = None
    with Alerts(AlertsConfig()):
        assert isinstance(Device.pin_factory, MockFactory)


def test_no_gpio_access_is_a_one_line_error_naming_the_pin(mock_factory, monkeypatch):
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-factory")
    Device.pin_factory = None
    with pytest.raises(CushionError) as info:
        Alerts(config())
    message = str(info.value)
    assert "\n" not in message
    assert "buzzer_pin" in message and "GPIO17" in message and "gpio group" in message


class DeniedFactory(MockFactory):
    """A factory whose LED pin cannot be opened, as without /dev/gpiochip access."""

    def pin(self, name, pin_class=None, **kwargs):
        if name == LED_PIN:
            raise PermissionError(13, "Permission denied", "/dev/gpiochip0")
        return super().pin(name, pin_class, **kwargs)


def test_permission_denied_names_the_pin_and_the_fix_and_releases_the_rest(mock_factory):
    factory = DeniedFactory()
    with pytest.raises(CushionError) as info:
        Alerts(config(), pin_factory=factory)
    message = str(info.value)
    assert message.startswith("[alerts] led_pin = 27: cannot open GPIO27")
    assert "usermod -aG gpio" in message and "\n" not in message
    Buzzer(BUZZER, pin_factory=factory).close()  # the buzzer pin was given back


def test_pin_in_use_is_an_error(mock_factory):
    with Buzzer(LED_PIN):
        with pytest.raises(CushionError, match=r"led_pin = 27: GPIO27 is already in use"):
            Alerts(config())


def test_passive_buzzer_without_pwm_is_an_error(mock_factory):
    with pytest.raises(CushionError, match=r'buzzer_pin = 17: .*PWM.*buzzer = "active"'):
        Alerts(config(buzzer="passive"))


def test_same_pin_twice_is_an_error(mock_factory):
    with pytest.raises(CushionError, match=r"button_pin = 17: same pin as buzzer_pin"):
        Alerts(config(button_pin=17))
    with Alerts(config(buzzer="none", led_pin=17)):  # no buzzer: its pin is free
        pass
