"""Recordings (SPEC section 4): a streaming reader and a writer.

A recording is UTF-8 CSV: optional `# key: value` comment lines, the header
`t,fl,fr,bl,br`, then one frame per line. An empty field means that channel
gave no reading. The reader never loads a whole file: it yields blocks of
frames as arrays, and any malformed line is a CushionError naming its number.

Parsing has a vectorised fast path for clean blocks; a block with anything
unusual (an empty field, a bad line) is re-read line by line, which either
reads it exactly or names the first bad line.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from device.errors import CushionError

HEADER = "t,fl,fr,bl,br"
RAW_MIN = -8388608
RAW_MAX = 8388607
# Stands in a raw array for "this channel gave no reading for this frame".
MISSING = -(1 << 40)

_CHUNK_BYTES = 1 << 18  # 256 KB: keeps replay's peak memory flat (~40 MB) at full speed


@dataclass(slots=True)
class FrameBlock:
    """Consecutive frames: t (float64, seconds) and raw (int64, shape (n, 4), MISSING for no reading)."""

    t: np.ndarray
    raw: np.ndarray

    def __len__(self) -> int:
        return len(self.t)


@dataclass(slots=True)
class RecordingInfo:
    """The `# key: value` metadata at the top of a recording."""

    metadata: dict[str, str] = field(default_factory=dict)


class RecordingReader:
    """Reads a recording in blocks: `for block in RecordingReader(path): ...`."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.info = RecordingInfo()
        self.frames = 0

    def __iter__(self) -> Iterator[FrameBlock]:
        try:
            handle = open(self.path, "rb")
        except OSError as exc:
            raise CushionError(f"{self.path}: cannot open: {exc.strerror}") from None
        with handle:
            yield from self._blocks(handle)

    def _error(self, line: int, problem: str) -> CushionError:
        return CushionError(f"{self.path} line {line}: {problem}")

    def _blocks(self, handle: IO[bytes]) -> Iterator[FrameBlock]:
        line_no = 0
        header_seen = False
        last_t = -math.inf
        pending = b""
        blank_line_at = 0  # a blank line is fine only if nothing follows it
        while True:
            chunk = handle.read(_CHUNK_BYTES)
            data = pending + chunk
            if not chunk:
                if not data:
                    break
                cut = len(data)
            else:
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    pending = data
                    continue
            body, pending = data[:cut], data[cut:]
            if not header_seen:
                body, line_no, header_seen = self._read_preamble(body, line_no)
                if not body:
                    if not chunk:
                        break
                    continue
            if blank_line_at and body.strip():
                raise self._error(blank_line_at, "empty line")
            block, line_no, last_t, blank = self._parse_body(body, line_no, last_t)
            if blank and not blank_line_at:
                blank_line_at = blank
            if len(block):
                self.frames += len(block)
                yield block
            if not chunk:
                break
        if line_no == 0:
            raise CushionError(f"{self.path}: the recording is empty")
        if not header_seen:
            raise self._error(line_no, f"no header line (expected exactly {HEADER!r})")

    def _read_preamble(self, body: bytes, line_no: int) -> tuple[bytes, int, bool]:
        """Consume comment lines and the header; return the rest of the body."""
        position = 0
        while position < len(body):
            end = body.find(b"\n", position)
            end = len(body) if end < 0 else end + 1
            line = self._decode(body[position:end], line_no + 1).rstrip("\r\n")
            line_no += 1
            position = end
            if line.startswith("#"):
                key, sep, value = line[1:].partition(":")
                if sep:
                    self.info.metadata[key.strip()] = value.strip()
                continue
            if line.strip() != HEADER:
                raise self._error(line_no, f"expected the header {HEADER!r}, got {line[:60]!r}")
            return body[position:], line_no, True
        return b"", line_no, False

    def _decode(self, raw_line: bytes, line_no: int) -> str:
        try:
            return raw_line.decode("utf-8")
        except UnicodeDecodeError:
            raise self._error(line_no, "not UTF-8 text") from None

    def _parse_body(self, body: bytes, line_no: int, last_t: float) -> tuple[FrameBlock, int, float, int]:
        fast = self._parse_fast(body, last_t)
        if fast is not None:
            block = fast
            return block, line_no + len(block), float(block.t[-1]) if len(block) else last_t, 0
        return self._parse_slow(body, line_no, last_t)

    @staticmethod
    def _parse_fast(body: bytes, last_t: float) -> FrameBlock | None:
        """Vectorised parse of clean lines; None when anything needs a closer look."""
        if b"\r" in body or b",," in body or b",\n" in body:
            return None
        data = np.frombuffer(body, dtype=np.uint8)
        newlines = np.flatnonzero(data == 10)
        if len(newlines) == 0:
            return None
        commas_before = np.cumsum(data == 44)[newlines]
        per_line = np.diff(commas_before, prepend=0)
        if not np.all(per_line == 4) or body[-1:] != b"\n" or body[:1] == b",":
            return None
        fields = body[:-1].replace(b"\n", b",").split(b",")
        try:
            t = np.array(fields[0::5]).astype(np.float64)
            raw = np.empty((len(t), 4), dtype=np.int64)
            for channel in range(4):
                column = np.array(fields[1 + channel :: 5])
                if column.dtype.kind != "S" or np.any(np.char.find(column, b".") >= 0):
                    return None
                raw[:, channel] = column.astype(np.int64)
        except (ValueError, OverflowError):
            return None
        if not np.all(np.isfinite(t)):
            return None
        if (raw < RAW_MIN).any() or (raw > RAW_MAX).any():
            return None
        if t[0] < last_t or (len(t) > 1 and np.any(np.diff(t) < 0)):
            return None
        return FrameBlock(t, raw)

    def _parse_slow(self, body: bytes, line_no: int, last_t: float) -> tuple[FrameBlock, int, float, int]:
        times: list[float] = []
        rows: list[list[int]] = []
        blank_line_at = 0
        for raw_line in body.splitlines():
            line_no += 1
            line = self._decode(raw_line, line_no).rstrip("\r")
            if not line.strip():
                blank_line_at = blank_line_at or line_no
                continue
            if blank_line_at:
                raise self._error(blank_line_at, "empty line")
            fields = line.split(",")
            if len(fields) != 5:
                raise self._error(line_no, f"expected 5 fields (t,fl,fr,bl,br), got {len(fields)}")
            t = self._parse_time(fields[0], line_no)
            if t < last_t:
                raise self._error(line_no, f"t goes backwards ({t} after {last_t})")
            last_t = t
            times.append(t)
            rows.append([self._parse_count(text, name, line_no) for text, name in zip(fields[1:], ("fl", "fr", "bl", "br"))])
        block = FrameBlock(np.array(times, dtype=np.float64), np.array(rows, dtype=np.int64).reshape(-1, 4))
        return block, line_no, last_t, blank_line_at

    def _parse_time(self, text: str, line_no: int) -> float:
        try:
            t = float(text)
        except ValueError:
            raise self._error(line_no, f"t is not a number: {text!r}") from None
        if not math.isfinite(t):
            raise self._error(line_no, f"t is not a finite number: {text!r}")
        return t

    def _parse_count(self, text: str, name: str, line_no: int) -> int:
        text = text.strip()
        if not text:
            return MISSING
        try:
            value = int(text)
        except ValueError:
            raise self._error(line_no, f"{name} is not a whole number: {text!r}") from None
        if not RAW_MIN <= value <= RAW_MAX:
            raise self._error(line_no, f"{name} = {value} is outside the 24-bit range {RAW_MIN}..{RAW_MAX}")
        return value


class RecordingWriter:
    """Writes frames in the SPEC format. Use as a context manager; `close()` flushes."""

    def __init__(self, path: str | Path, metadata: dict[str, str] | None = None):
        self.path = Path(path)
        self._file = open(self.path, "w", encoding="utf-8", newline="\n")
        for key, value in (metadata or {}).items():
            self._file.write(f"# {key}: {value}\n")
        self._file.write(HEADER + "\n")
        self.frames = 0

    def write_frame(self, t: float, raw: tuple[int | None, ...] | list[int | None]) -> None:
        """Write one frame; None for a channel that gave no reading."""
        fields = ["" if value is None else str(int(value)) for value in raw]
        self._file.write(f"{t:.4f},{fields[0]},{fields[1]},{fields[2]},{fields[3]}\n")
        self.frames += 1

    def write_block(self, t: np.ndarray, raw: np.ndarray) -> None:
        """Write many frames at once (raw uses MISSING for no reading)."""
        lines = []
        for time, row in zip(t.tolist(), raw.tolist()):
            lines.append(f"{time:.4f}," + ",".join("" if v == MISSING else str(v) for v in row))
        if lines:
            self._file.write("\n".join(lines) + "\n")
        self.frames += len(lines)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> "RecordingWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
