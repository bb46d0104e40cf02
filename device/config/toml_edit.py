"""`cushion tare` and `cushion calibrate` writing [calibration] into the user's config file.

The rest of the file stays as it was, byte for byte: the person's comments,
layout and other keys (tomlkit keeps them; tomllib can only read).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tomlkit.items import Array

_STAMP_PARTS = re.compile(r"^(tared|calibrated) \d{4}-\d\d-\d\d\b")


def stamp_comment(existing: str, *, when: str, weight_kg: float | None = None) -> str:
    """The `[calibration]` header's comment after a tare (``weight_kg`` None)
    or a calibration: the user's own words are kept, our dated notes
    ("calibrated ... with ... kg", "tared ...") replaced."""
    parts = [p.strip() for p in existing.lstrip("#").split(";")]
    keep = [p for p in parts if p and not _STAMP_PARTS.match(p)]
    calibrated = [p for p in parts if p.startswith("calibrated ") and _STAMP_PARTS.match(p)]
    if weight_kg is not None:
        notes = [f"calibrated {when} with {weight_kg:g} kg"]
    else:
        notes = calibrated[-1:] + [f"tared {when}"]
    return "# " + "; ".join(keep + notes)


def _toml_array(values: Sequence[float], integers: bool) -> Array:
    """Offsets as whole counts, counts_per_kg to 0.1 count/kg."""
    import tomlkit

    array = tomlkit.array()
    array.extend(int(round(v)) if integers else round(float(v), 1) for v in values)
    return array


def update_calibration_toml(
    text: str,
    *,
    offset: Sequence[float] | None = None,
    counts_per_kg: Sequence[float] | None = None,
    when: str | None = None,
    weight_kg: float | None = None,
) -> str:
    """``text`` (a config file) with `[calibration]` offset and/or
    counts_per_kg set; everything else stays as it was, comments included.

    Offsets are written as whole counts, counts_per_kg to 0.1 count/kg. A
    missing table is appended at the end; a missing key goes right after its
    sibling (or the table's last key, or its header), not after comments that
    introduce the next table. With ``when`` (a date and time), the table
    header's comment notes the tare or, with ``weight_kg``, the calibration
    (stamp_comment).

    Only tomlkit's public API is used. tomlkit appends a new key after
    everything in the table's body, the next table's comments included, so a
    missing key is placed in the text instead (_insert_line_after), which
    keeps the rest byte for byte whatever tomlkit's version.
    """
    import tomlkit
    from tomlkit.items import Table

    values = {}
    if offset is not None:
        values["offset"] = _toml_array(offset, integers=True)
    if counts_per_kg is not None:
        values["counts_per_kg"] = _toml_array(counts_per_kg, integers=False)
    doc = tomlkit.parse(text)
    if "calibration" not in doc:
        header = "[calibration]"
        if when:
            header += "  " + stamp_comment("", when=when, weight_kg=weight_kg)
        lines = [header] + [f"{key} = {item.as_string()}" for key, item in values.items()]
        if text and not text.endswith("\n"):
            text += "\n"
        if text.strip() and not text.endswith("\n\n"):
            text += "\n"
        return text + "\n".join(lines) + "\n"
    table = doc["calibration"]
    if not isinstance(table, Table) or table.is_super_table():
        # An inline table, or only [calibration.x] sub-tables: no header or
        # body of its own to place a line in; tomlkit appends.
        for key, item in values.items():
            table[key] = item
        return tomlkit.dumps(doc)
    missing = {key: item for key, item in values.items() if key not in table}
    for key, item in values.items():
        if key not in missing:
            table[key] = item  # replaced where it stands, its comment kept
    if when:
        table.trivia.comment_ws = table.trivia.comment_ws or "  "
        table.trivia.comment = stamp_comment(table.trivia.comment or "", when=when, weight_kg=weight_kg)
    text = tomlkit.dumps(doc)
    for key, item in missing.items():
        present = list(tomlkit.parse(text)["calibration"])
        sibling = "counts_per_kg" if key == "offset" else "offset"
        anchor = sibling if sibling in present else (present[-1] if present else None)
        text = _insert_line_after(text, anchor, f"{key} = {item.as_string()}")
    return text


_MARK = "cushion-insertion-point-7f3c"


def _insert_line_after(text: str, anchor: str | None, line: str) -> str:
    """``text`` with ``line`` added to `[calibration]` after the key
    ``anchor`` (None: after the table's header line).

    Where the anchor ends is found by rendering the document once more with
    a marker in place of its value (or in the header's comment): the text
    after the marked line is the same in both renderings, so its length says
    where the anchor ends in ``text``, a value over several lines included.
    The new line takes the anchor's indentation.
    """
    import tomlkit

    marked = tomlkit.parse(text)
    table = marked["calibration"]
    if anchor is None:
        table.trivia.comment = "# " + _MARK
    else:
        table[anchor] = _MARK
    rendered = tomlkit.dumps(marked)
    at = rendered.index(_MARK)
    line_end = rendered.find("\n", at)
    if line_end < 0:  # the file's last line, without a newline
        return text + "\n" + line + "\n"
    head = rendered[rendered.rfind("\n", 0, at) + 1 : at]
    indent = head[: len(head) - len(head.lstrip())] if anchor is not None else ""
    cut = len(text) - (len(rendered) - (line_end + 1))
    return text[:cut] + indent + line + "\n" + text[cut:]
