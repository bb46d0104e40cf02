import pytest

from device.config import Config, config_from_dict, load_config
from device.errors import CushionError


def write(tmp_path, text):
    path = tmp_path / "cushion.toml"
    path.write_text(text)
    return path


def test_empty_and_missing_files_give_defaults(tmp_path):
    assert load_config(write(tmp_path, "")) == Config()
    assert load_config(tmp_path / "absent.toml") == Config()
    assert Config().breaks.break_after_min == 45 and Config().detect.lean_start == 0.20


def test_spec_example_is_read(tmp_path):
    config = load_config(write(tmp_path, """
[calibration]
offset = [-120340, 88012, 4410, -301777]
counts_per_kg = [21430.5, -20988.0, 22010.2, 21775.9]
[geometry]
width_mm = 420.0
depth_mm = 380
[sensor]
clock_pin = 5
data_pins = [6, 13, 19, 26]
rate_hz = 10
[breaks]
break_after_min = 30
quiet_hours = ["22:00-07:00"]
[detect]
lean_min_s = 12
"""))
    assert config.calibration.counts_per_kg[1] == -20988.0
    assert config.geometry.depth_mm == 380.0
    assert config.sensor.rate_hz == 10
    assert config.breaks.break_after_min == 30.0
    assert config.breaks.quiet_hours == ("22:00-07:00",)
    assert config.detect.lean_min_s == 12.0


@pytest.mark.parametrize("text, fragment", [
    ("[detect]\nlean_minimum = 3", "unknown key [detect] lean_minimum"),
    ("[detectors]\nx = 1", "unknown section [detectors]"),
    ("[detect]\nlean_min_s = 'long'", "[detect] lean_min_s: expected a number"),
    ("[sensor]\nclock_pin = 5.5", "[sensor] clock_pin: expected a whole number"),
    ("[calibration]\noffset = [1, 2, 3]", "[calibration] offset: expected 4 values"),
    ("[calibration]\ncounts_per_kg = [1, 0, 1, 1]", "counts_per_kg[1]: must not be zero"),
    ("[sensor]\nrate_hz = 40", "[sensor] rate_hz: must be 80 or 10"),
    ("[breaks]\nquiet_hours = ['late']", "quiet_hours[0]: expected \"HH:MM-HH:MM\""),
    ("[detect]\nseated_kg = true", "[detect] seated_kg: expected a number"),
    ("[breaks]\nstill_min = -1", "[breaks] still_min: must be positive"),
    # Values of the right type that cannot work together or at all.
    ("[breaks]\nbreak_after_min = 30\noverdue_after_min = 20", "overdue_after_min: must be later than break_after_min"),
    ("[detect]\nseated_kg = -5\naway_kg = -10", "[detect] seated_kg: must be positive"),
    ("[detect]\nlean_start = 1.5", "[detect] lean_start: must be between 0 and 1"),
    ("[detect]\nlean_end = -0.1", "[detect] lean_end: must be above 0"),
    ("[detect]\ntwist_peak = 0.1", "[detect] twist_peak: must be from lean_start"),
    ("[detect]\nperch_sag = -0.3", "[detect] perch_sag: must be between 0 and 1"),
    ("[detect]\ncorner_max_kg = -100", "[detect] corner_max_kg: must exceed seated_kg"),
    ("[detect]\nspike_kg = 0", "[detect] spike_kg: must be positive"),
    ("[detect]\nzero_track_max_kg = -1", "[detect] zero_track_max_kg: must not be negative"),
    ("[calibration]\ncounts_per_kg = [1e-7, 1, 1, 1]", "counts_per_kg[0]: 1e-07 counts a kilogram is no load cell"),
    ("[breaks]\nquiet_hours = [' 22 : 00 - 07 : 00 ']", "quiet_hours[0]: expected \"HH:MM-HH:MM\""),
    ("[breaks]\nquiet_hours = ['07:00-07:00']", "quiet_hours[0]: '07:00-07:00' starts and ends at the same time"),
    ("[sensor]\ndata_pins = [6, 6, 19, 26]", "[sensor] data_pins[1] = 6: same pin as [sensor] data_pins[0]"),
    ("[sensor]\nclock_pin = 999", "[sensor] clock_pin = 999: must be a BCM GPIO number from 0 to 27"),
    ("[alerts]\nbuzzer_pin = 27", "[alerts] led_pin = 27: same pin as [alerts] buzzer_pin"),
    ("[alerts]\nbutton_pin = -5", "[alerts] button_pin = -5: must be a BCM GPIO number from 0 to 27 (or -1"),
    ("[alerts]\nled_pin = 6", "[alerts] led_pin = 6: same pin as [sensor] data_pins[0]"),
])
def test_bad_values_name_the_key(tmp_path, text, fragment):
    path = write(tmp_path, text)
    with pytest.raises(CushionError) as info:
        load_config(path)
    assert fragment in str(info.value)
    assert str(path) in str(info.value)


def test_pins_of_an_unfitted_buzzer_or_button_are_not_checked(tmp_path):
    config = load_config(write(tmp_path, '[alerts]\nbuzzer = "none"\nbuzzer_pin = 27\nbutton_pin = -1\n'))
    assert config.alerts.buzzer == "none" and config.alerts.button_pin == -1


def test_a_folder_or_a_fifo_is_refused_without_blocking(tmp_path):
    import os

    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    for path in (tmp_path, fifo):
        with pytest.raises(CushionError, match="not a regular file"):
            load_config(path)


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "cushion.toml"
    path.write_bytes("\ufeff[breaks]\nbreak_after_min = 30\n".encode("utf-8"))
    assert load_config(path).breaks.break_after_min == 30.0


def test_toml_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path, "[detect]\nlean_min_s = = 3\n")
    with pytest.raises(CushionError, match=r"TOML syntax error.*line 2"):
        load_config(path)


def test_config_from_dict_accepts_ints_for_floats():
    assert config_from_dict({"geometry": {"width_mm": 400}}).geometry.width_mm == 400.0


def test_alerts_section(tmp_path):
    config = load_config(write(tmp_path, '[alerts]\nbuzzer = "passive"\nbuzzer_enabled = false\nbutton_pin = -1\n'))
    assert config.alerts.buzzer == "passive" and config.alerts.buzzer_enabled is False
    assert config.alerts.button_pin == -1
    with pytest.raises(CushionError, match=r"\[alerts\] buzzer: must be"):
        load_config(write(tmp_path, '[alerts]\nbuzzer = "loud"\n'))
    with pytest.raises(CushionError, match=r"\[alerts\] buzzer_enabled: expected true or false"):
        load_config(write(tmp_path, '[alerts]\nbuzzer_enabled = 1\n'))


def test_settings_apply_over_the_file_and_are_validated():
    from device.config import config_with_settings

    base = Config()
    changed = config_with_settings(base, {"breaks.break_after_min": 30, "alerts.buzzer_enabled": False,
                                          "breaks.quiet_hours": ["22:00-07:00"]})
    assert changed.breaks.break_after_min == 30.0 and changed.alerts.buzzer_enabled is False
    assert changed.breaks.quiet_hours == ("22:00-07:00",)
    assert changed.calibration == base.calibration
    with pytest.raises(CushionError, match=r"\[breaks\] break_after_min: expected a number"):
        config_with_settings(base, {"breaks.break_after_min": "soon"})
    with pytest.raises(CushionError, match="calibration.offset: not a setting"):
        config_with_settings(base, {"calibration.offset": [0, 0, 0, 0]})
    with pytest.raises(CushionError, match="unknown key \\[detect\\] nope"):
        config_with_settings(base, {"detect.nope": 1})
