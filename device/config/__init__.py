"""The config (SPEC section 6): one schema, validated once into typed objects.

- schema: every key's type, default, unit, range, label and help;
- validation: a TOML document or dashboard settings into a Config, or a
  ConfigError naming the key (with the rule and value as fields);
- loading: where the file lives and how every command reads it;
- template: the commented file written on first run;
- quiet_hours: quiet-hour ranges parsed once into typed values;
- toml_edit: `cushion tare` / `calibrate` writing [calibration] into the
  user's file, keeping everything else byte for byte.
"""

from device.config.loading import (
    default_config_path,
    default_db_path,
    find_config,
    load_config,
    load_config_file,
    prepare_config,
)
from device.config.quiet_hours import QuietRange, QuietRangeError
from device.config.schema import (
    CHANNELS,
    EDITABLE_SECTIONS,
    GPIO_PINS,
    RAW_MAX,
    RAW_MIN,
    RULES,
    SECTIONS,
    Alerts,
    Breaks,
    Calibration,
    Config,
    Detect,
    Geometry,
    Key,
    Mqtt,
    Rule,
    Sensor,
    Spec,
    key,
    keys,
)
from device.config.template import render_template
from device.config.validation import (
    ConfigError,
    as_plain,
    check_value,
    config_from_dict,
    config_with_settings,
    config_with_valid_settings,
    relation_words,
)

__all__ = [
    "CHANNELS",
    "EDITABLE_SECTIONS",
    "GPIO_PINS",
    "RAW_MAX",
    "RAW_MIN",
    "RULES",
    "SECTIONS",
    "Alerts",
    "Breaks",
    "Calibration",
    "Config",
    "ConfigError",
    "Detect",
    "Geometry",
    "Key",
    "Mqtt",
    "QuietRange",
    "QuietRangeError",
    "Rule",
    "Sensor",
    "Spec",
    "as_plain",
    "check_value",
    "config_from_dict",
    "config_with_settings",
    "config_with_valid_settings",
    "default_config_path",
    "default_db_path",
    "find_config",
    "key",
    "keys",
    "load_config",
    "load_config_file",
    "prepare_config",
    "relation_words",
    "render_template",
]
