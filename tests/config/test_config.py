import pytest

from device.config import Config, config_from_dict, load_config
from device.errors import CushionError
from tests.paths import ROOT


def write(tmp_path, text):
    path = tmp_path / "cushion.toml"
    path.write_text(text)
    return path


def test_empty_and_missing_files_give_defaults(tmp_path):
    assert load_config(write(tmp_path, "")) == Config()
    assert load_config(tmp_path / "absent.toml") == Config()
    assert Config().breaks.break_after_min == 45 and Config().detect.lean_start == 0.20


def test_spec_example_is_read(tmp_path):
    config = load_config(
        write(
            tmp_path,
            """
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
""",
        )
    )
    assert config.calibration.counts_per_kg[1] == -20988.0
    assert config.geometry.depth_mm == 380.0
    assert config.sensor.rate_hz == 10
    assert config.breaks.break_after_min == 30.0
    assert [str(r) for r in config.breaks.quiet_hours] == ["22:00-07:00"]
    assert config.detect.lean_min_s == 12.0


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[detect]\nlean_minimum = 3", "unknown key [detect] lean_minimum"),
        ("[detectors]\nx = 1", "unknown section [detectors]"),
        ("[detect]\nlean_min_s = 'long'", "[detect] lean_min_s: expected a number"),
        ("[sensor]\nclock_pin = 5.5", "[sensor] clock_pin: expected a whole number"),
        ("[calibration]\noffset = [1, 2, 3]", "[calibration] offset: expected 4 values"),
        (
            "[calibration]\ncounts_per_kg = [21000, 0, 1, 1]",
            "counts_per_kg[1]: must be from 100 to 1000000 counts/kg in size",
        ),
        ("[sensor]\nrate_hz = 40", "[sensor] rate_hz: must be 80 or 10"),
        ("[breaks]\nquiet_hours = ['late']", 'quiet_hours[0]: expected "HH:MM-HH:MM"'),
        ("[detect]\nseated_kg = true", "[detect] seated_kg: expected a number"),
        ("[breaks]\nstill_min = -1", "[breaks] still_min: must be from 1 to 240 min, got -1"),
        # Values of the right type that cannot work together or at all.
        (
            "[breaks]\nbreak_after_min = 30\noverdue_after_min = 20",
            "overdue_after_min: must be later than break_after_min",
        ),
        ("[detect]\nseated_kg = -5\naway_kg = -10", "[detect] seated_kg: must be from 5 to 150 kg, got -5"),
        ("[detect]\nlean_start = 1.5", "[detect] lean_start: must be from 0.05 to 0.9, got 1.5"),
        ("[detect]\nlean_end = -0.1", "[detect] lean_end: must be from 0.01 to 0.9, got -0.1"),
        ("[detect]\nlean_end = 0.3", "[detect] lean_end: must not exceed lean_start (0.2), got 0.3"),
        ("[detect]\ntwist_peak = 0.1", "[detect] twist_peak: must not be less than lean_start (0.2), got 0.1"),
        ("[detect]\nperch_sag = -0.3", "[detect] perch_sag: must be from 0.05 to 0.95, got -0.3"),
        ("[detect]\ncorner_max_kg = -100", "[detect] corner_max_kg: must be from 10 to 1000 kg, got -100"),
        ("[detect]\ncorner_max_kg = 12", "[detect] corner_max_kg: must exceed seated_kg (15), got 12"),
        ("[detect]\nspike_kg = 0", "[detect] spike_kg: must be from 0.5 to 100 kg, got 0"),
        ("[detect]\nzero_track_max_kg = -1", "[detect] zero_track_max_kg: must be from 0 to 10 kg, got -1"),
        (
            "[calibration]\ncounts_per_kg = [1e-7, 21000, 21000, 21000]",
            "counts_per_kg[0]: must be from 100 to 1000000 counts/kg in size "
            "(negative for a cell mounted upside down), got 1e-07",
        ),
        ("[breaks]\nquiet_hours = [' 22 : 00 - 07 : 00 ']", 'quiet_hours[0]: expected "HH:MM-HH:MM"'),
        ("[breaks]\nquiet_hours = ['07:00-07:00']", "quiet_hours[0]: '07:00-07:00' starts and ends at the same time"),
        ("[breaks]\nquiet_hours = ['Moon 22:00-07:00']", "quiet_hours[0]: 'Moon 22:00-07:00': days are Mon, Tue"),
        ("[breaks]\nquiet_hours = ['Mon,Wed 22:00-07:00']", "one day or one span such as Mon-Fri"),
        ("[sensor]\ndata_pins = [6, 6, 19, 26]", "[sensor] data_pins[1] = 6: same pin as [sensor] data_pins[0]"),
        ("[sensor]\nclock_pin = 999", "[sensor] clock_pin = 999: must be a BCM GPIO number from 0 to 27"),
        ("[alerts]\nbuzzer_pin = 27", "[alerts] led_pin = 27: same pin as [alerts] buzzer_pin"),
        ("[alerts]\nbutton_pin = -5", "[alerts] button_pin = -5: must be a BCM GPIO number from 0 to 27 (or -1"),
        ("[alerts]\nled_pin = 6", "[alerts] led_pin = 6: same pin as [sensor] data_pins[0]"),
    ],
)
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
        load_config(write(tmp_path, "[alerts]\nbuzzer_enabled = 1\n"))


def test_settings_apply_over_the_file_and_are_validated():
    from device.config import config_with_settings

    base = Config()
    changed = config_with_settings(
        base, {"breaks.break_after_min": 30, "alerts.buzzer_enabled": False, "breaks.quiet_hours": ["22:00-07:00"]}
    )
    assert changed.breaks.break_after_min == 30.0 and changed.alerts.buzzer_enabled is False
    assert [str(r) for r in changed.breaks.quiet_hours] == ["22:00-07:00"]
    assert changed.calibration == base.calibration
    with pytest.raises(CushionError, match=r"\[breaks\] break_after_min: expected a number"):
        config_with_settings(base, {"breaks.break_after_min": "soon"})
    with pytest.raises(CushionError, match="calibration.offset: not a setting"):
        config_with_settings(base, {"calibration.offset": [0, 0, 0, 0]})
    with pytest.raises(CushionError, match="unknown key \\[detect\\] nope"):
        config_with_settings(base, {"detect.nope": 1})


# -- every numeric key has a range (what a real cushion can use) ---------------------------------

from device.config import EDITABLE_SECTIONS, ConfigError, keys  # noqa: E402

RANGED = [k for k in keys() if k.spec.low is not None and k.spec.kind in ("float", "int", "floats4", "ints4")]


def _toml(k, value):
    if k.spec.kind in ("floats4", "ints4"):
        default = list(k.default) if k.default is not None else list(k.spec.example)
        return f"[{k.section}]\n{k.name} = [{value!r}, {', '.join(repr(v) for v in default[1:])}]\n"
    return f"[{k.section}]\n{k.name} = {value!r}\n"


def _outside(k):
    low, high = k.spec.low, k.spec.high
    values = [high + max(1, abs(high)), low - max(1, abs(low))]
    if k.spec.kind in ("float", "floats4"):
        values += [1e308, -1e308]
        if low > 0:
            values.append(1e-300)
    return [int(v) if k.spec.kind in ("int", "ints4") else float(v) for v in values]


@pytest.mark.parametrize("k", RANGED, ids=lambda k: k.setting)
def test_every_default_is_inside_its_range(k):
    default = k.spec.example if k.default is None else k.default
    values = default if isinstance(default, tuple) else (default,)
    for value in values:
        size = abs(value) if k.spec.magnitude else value
        assert k.spec.low <= size <= k.spec.high


@pytest.mark.parametrize("k", RANGED, ids=lambda k: k.setting)
def test_a_value_outside_a_keys_range_is_refused_in_the_file_naming_the_key(tmp_path, k):
    for value in _outside(k):
        if k.spec.magnitude and abs(value) <= k.spec.high and abs(value) >= k.spec.low:
            continue
        path = write(tmp_path, _toml(k, value))
        with pytest.raises(ConfigError) as info:
            load_config(path)
        error = info.value
        assert (error.section, error.key, error.rule) == (k.section, k.name, "range"), str(error)
        assert str(error).startswith(f"{path}: [{k.section}] {k.name}")
        assert "\n" not in str(error)


@pytest.mark.parametrize("k", [k for k in RANGED if k.section in EDITABLE_SECTIONS], ids=lambda k: k.setting)
def test_a_setting_outside_its_range_is_refused_the_same_way(k):
    from device.config import config_with_settings

    for value in _outside(k):
        with pytest.raises(ConfigError) as info:
            config_with_settings(Config(), {k.setting: value})
        assert (info.value.section, info.value.key, info.value.rule, info.value.value) == (
            k.section,
            k.name,
            "range",
            value,
        )


from device.config import RULES  # noqa: E402

TIED = {(rule.section, name) for rule in RULES for name in (rule.key, rule.other)}


@pytest.mark.parametrize(
    "k", [k for k in RANGED if (k.section, k.name) not in TIED and k.spec.unit != "BCM GPIO"], ids=lambda k: k.setting
)
def test_both_ends_of_a_range_are_accepted(tmp_path, k):
    for value in (k.spec.low, k.spec.high):
        value = int(value) if k.spec.kind in ("int", "ints4") else float(value)
        load_config(write(tmp_path, _toml(k, value)))


def test_the_testers_values_are_refused():
    """The values that stopped the daemon or flooded it with prompts."""
    from device.config import config_with_settings

    for setting, value in (
        ("alerts.snooze_min", 1e308),
        ("breaks.still_min", 1e-300),
        ("breaks.repeat_min", 1e-300),
        ("breaks.break_min_s", 1e308),
        ("detect.spike_kg", 1e308),
        ("detect.corner_max_kg", 1e308),
        ("alerts.hold_s", 1e308),
    ):
        with pytest.raises(ConfigError, match=rf"settings: \[{setting.replace('.', '] ')}: must be from"):
            config_with_settings(Config(), {setting: value})


def test_the_config_reference_in_docs_is_made_from_the_schema():

    from device.config.template import render_reference

    path = ROOT / "docs" / "config.md"
    assert path.read_text() == render_reference(), "run: python -m device.config > docs/config.md"
