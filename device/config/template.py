"""The commented config file written on first run, made from the schema.

Every key is listed with its default, commented out, with its unit and range,
so a person can see what there is and uncomment what they change; an
uncommented template gives the defaults (a test checks it).
"""

from __future__ import annotations

from typing import Any

from device.config.schema import RULES, SECTION_NOTES, SECTIONS, keys

HEADER = """\
# smart-cushion configuration (docs/config.md describes every key).
# Every key has a default (shown); uncomment what you need to change.
# Mistakes are reported on one line naming the key, and nothing starts.
"""
_COMMENT_COLUMN = 32


def toml_value(value: Any) -> str:
    """A default as TOML writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value)


def render_template() -> str:
    """The whole template (TOML, every line a comment)."""
    lines = [HEADER]
    for section in SECTIONS:
        header = f"# [{section}]"
        if section in SECTION_NOTES:
            header = f"{header:<{_COMMENT_COLUMN}}# {SECTION_NOTES[section]}"
        lines.append(header)
        for k in keys(section):
            spec = k.spec
            default = spec.example if k.default is None else k.default
            line = f"# {k.name} = {toml_value(default)}"
            note = spec.note or spec.label[:1].lower() + spec.label[1:]
            bounds = spec.range_text() if spec.low is not None and spec.unit != "BCM GPIO" else ""
            if bounds and spec.kind != "quiet_hours":
                note = f"{note} ({bounds})"
            lines.append(f"{line:<{_COMMENT_COLUMN - 1}} # {note}")
        lines.append("")
    return "\n".join(lines)


def render_reference() -> str:
    """docs/config.md: every key with its default, unit, range and meaning (Markdown).

    Made from the schema like the template; a test keeps the file in step
    (`python -m device.config > docs/config.md` writes it).
    """
    out = [
        "# Config",
        "",
        "<!-- Made from device/config/schema.py by `python -m device.config > docs/config.md`; do not edit. -->",
        "",
        "A TOML file ([SPEC section 6](SPEC.md#6-config)), by default",
        "`~/.config/smart-cushion/config.toml`; `cushion run` writes a commented template",
        "there on first run. Every key has a default and an empty file is valid. A value",
        "outside its range, of the wrong type, or that does not fit with another key is",
        "refused before anything starts, on one line naming the file and the key. The",
        "dashboard's Settings page changes the `[detect]`, `[breaks]` and `[alerts]` keys",
        "(stored in the history database, applied over the file within a second) and",
        "checks them with the same rules.",
        "",
    ]
    for section in SECTIONS:
        out += [f"## [{section}]", ""]
        if section in SECTION_NOTES:
            out += [SECTION_NOTES[section][:1].upper() + SECTION_NOTES[section][1:] + ".", ""]
        out += ["| key | default | range | what it is |", "|---|---|---|---|"]
        for k in keys(section):
            spec = k.spec
            default = "none" if k.default is None else f"`{toml_value(k.default)}`"
            if spec.unit == "BCM GPIO":
                bounds = "BCM GPIO 0 to 27" + (", or -1 for none" if spec.low == -1 else "")
            elif spec.kind == "quiet_hours":
                bounds = 'at most 24 ranges "HH:MM-HH:MM"'
            else:
                bounds = spec.range_text()
            what = spec.label[:1].upper() + spec.label[1:]
            if spec.help:
                what += ": " + spec.help[:1].lower() + spec.help[1:]
            elif spec.note:
                what += " (" + spec.note + ")"
            out.append(f"| `{k.name}` | {default} | {bounds} | {what} |")
        out.append("")
    out += [
        "Rules between keys: " + "; ".join(f"`{r.key}` {relation_text(r.relation)} `{r.other}`" for r in RULES) + ".",
        "No GPIO pin may be used twice (`[sensor]` and `[alerts]` together).",
        "",
    ]
    return "\n".join(out)


def relation_text(relation: str) -> str:
    return {">": "above", ">=": "at least", "<=": "at most", "<": "below"}[relation]
