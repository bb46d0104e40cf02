"""Recordings (SPEC section 4): a streaming reader and a writer.

A recording is UTF-8 CSV: optional `# key: value` comment lines, the header
`t,fl,fr,bl,br`, then one frame per line. An empty field means that channel
gave no reading. The reader never loads a whole file: it yields blocks of
frames as arrays, and any malformed line is a CushionError naming its number.

What the reader accepts, exactly (the SPEC says "a decimal number" and
"integers"; where it is silent):

- a count is ASCII digits with an optional leading minus (`-120340`), within
  the HX711's 24 bits; no spaces around it, no `+`, no `_`, no other digits;
- `t` is a decimal number in the same ASCII form, optionally with a fraction
  and an exponent (`12.5`, `-0.0125`, `1.2e3`), finite, at most T_LIMIT_S
  (about 317 years) from zero, and never decreasing;
- an empty field is a missing reading; a field of spaces is an error;
- line endings LF or CRLF; a UTF-8 byte order mark at the start is skipped;
- a last frame line without a line ending is left out with a warning: it is
  what a recorder killed while writing leaves, and its last number may be
  cut short ("1234645" read as "1234");
  a carriage return anywhere else (old Mac CR-only files) is an error that
  says so;
- a line is at most MAX_LINE_BYTES (1 KB; a frame line is under 100 bytes):
  a longer one is an error at once, so a file that is not a recording
  (/dev/zero, a binary) costs neither time nor memory;
- metadata the software uses is checked: `rate_hz` must be a number of
  frames per second from 0.1 to 10000.

Errors quote at most 40 characters of what they found.

Parsing has a vectorised fast path for clean blocks (only the bytes
`0-9 - . , LF`); a block with anything else (an empty field, a space, an
exponent, a bad line) is re-read line by line, which either reads it
exactly or names the first bad line. Both paths accept the same lines.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import re
import stat
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from device.config import RAW_MAX, RAW_MIN
from device.core.frames import MISSING, FrameBlock
from device.errors import CushionError

HEADER = "t,fl,fr,bl,br"
MAX_LINE_BYTES = 1024  # a frame line is under 100 bytes
T_LIMIT_S = 1e10  # |t| beyond this is no clock (float64 still resolves 2 us there)
RATE_HZ_RANGE = (0.1, 10000.0)

_CHUNK_BYTES = 1 << 18  # 256 KB: keeps replay's peak memory flat (~40 MB) at full speed
_BOM = b"\xef\xbb\xbf"
_QUOTE_CHARS = 40
_COUNT = re.compile(r"-?[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?", re.ASCII)
_CR_ERROR = (
    "a carriage return inside the line: the file has old Mac (CR-only) or mixed line "
    "endings; save it with LF or CRLF line endings"
)

# The bytes of a clean block: digits, minus, point, comma, LF.
_FAST_BYTES = np.zeros(256, dtype=bool)
_FAST_BYTES[list(b"0123456789-.,\n")] = True


def _quote(text: str) -> str:
    """`text` for an error message: repr'd, cut to _QUOTE_CHARS characters."""
    if len(text) <= _QUOTE_CHARS:
        return repr(text)
    return f"{text[:_QUOTE_CHARS]!r}... ({len(text)} characters)"


@dataclass(slots=True)
class RecordingInfo:
    """The `# key: value` metadata at the top of a recording (rate_hz checked, as a float)."""

    metadata: dict[str, str] = field(default_factory=dict)
    rate_hz: float | None = None


class RecordingReader:
    """Reads a recording in blocks: `for block in RecordingReader(path): ...`.

    A last frame line without a line ending is a line the recorder was
    cut off in (killed, power lost): its last number may be short, so it is
    left out, and ``warn`` (default: nothing) is told in one line naming it;
    `cut_line` holds its number.
    """

    def __init__(self, path: str | Path, warn: Callable[[str], object] | None = None):
        self.path = Path(path)
        self.info = RecordingInfo()
        self.frames = 0
        self.cut_line: int | None = None
        self._warn = warn

    def __iter__(self) -> Iterator[FrameBlock]:
        try:
            handle = open(self.path, "rb")
        except OSError as exc:
            raise CushionError(f"{self.path}: cannot open: {exc.strerror or exc}") from None
        with handle:
            try:
                yield from self._blocks(handle)
            except OSError as exc:
                raise CushionError(f"{self.path}: cannot read: {exc.strerror or exc}") from None

    def _error(self, line: int, problem: str) -> CushionError:
        return CushionError(f"{self.path} line {line}: {problem}")

    def _blocks(self, handle: IO[bytes]) -> Iterator[FrameBlock]:
        line_no = 0
        header_seen = False
        last_t = -math.inf
        pending = b""
        started = False
        blank_line_at = 0  # a blank line is fine only if nothing follows it
        tail = b""  # the file's last line when it has no line ending
        while True:
            chunk = handle.read(_CHUNK_BYTES)
            data = pending + chunk if pending else chunk  # pending is under MAX_LINE_BYTES
            if not started:
                if len(data) < len(_BOM) and chunk:
                    pending = data
                    continue
                started = True
                if data.startswith(_BOM):
                    data = data[len(_BOM) :]
            if not chunk:
                if not data:
                    break
                cut = len(data)
                if not data.endswith(b"\n"):
                    # The file ends inside a line: dealt with after the whole lines.
                    cut = data.rfind(b"\n") + 1
                    tail, data = data[cut:], data[:cut]
                    if not data:
                        break
            else:
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    if len(data) > MAX_LINE_BYTES:
                        raise self._long_line(line_no + 1, data)
                    pending = data
                    continue
            body, pending = data[:cut], data[cut:]
            if not header_seen:
                body, line_no, header_seen = self._read_preamble(body, line_no)
                if not body:
                    if len(pending) > MAX_LINE_BYTES:
                        raise self._long_line(line_no + 1, pending)
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
            if len(pending) > MAX_LINE_BYTES:
                raise self._long_line(line_no + 1, pending)
            if not chunk:
                break
        if tail:
            if len(tail) > MAX_LINE_BYTES:
                raise self._long_line(line_no + 1, tail)
            if not header_seen:  # a header (or comment) without a line ending
                _, line_no, header_seen = self._read_preamble(tail, line_no)
            elif tail.strip() and not tail.startswith(b"#"):
                # A frame line the recorder was killed in: its last number may be short.
                self._cut(line_no + 1, tail)
        if line_no == 0:
            raise CushionError(f"{self.path}: the recording is empty")
        if not header_seen:
            raise self._error(line_no, f"no header line (expected exactly {HEADER!r})")

    def _cut(self, line_no: int, tail: bytes) -> None:
        self.cut_line = line_no
        if self._warn is not None:
            shown = _quote(tail.decode("utf-8", "replace").rstrip("\r"))
            self._warn(
                f"{self.path} line {line_no}: the file ends inside this line (no line ending: the "
                f"recorder was stopped while writing it?); left out: {shown}"
            )

    def _long_line(self, line_no: int, start: bytes) -> CushionError:
        if b"\r" in start[:MAX_LINE_BYTES]:
            return self._error(line_no, _CR_ERROR)
        return self._error(
            line_no, f"longer than {MAX_LINE_BYTES} bytes (a frame line is under 100): is this a recording?"
        )

    def _line(self, raw_line: bytes, line_no: int) -> str:
        """One line's text without its line ending, checked for length, CR and UTF-8."""
        if len(raw_line) > MAX_LINE_BYTES:
            raise self._long_line(line_no, raw_line)
        if raw_line.endswith(b"\r"):
            raw_line = raw_line[:-1]
        if b"\r" in raw_line:
            raise self._error(line_no, _CR_ERROR)
        try:
            return raw_line.decode("utf-8")
        except UnicodeDecodeError:
            raise self._error(line_no, "not UTF-8 text") from None

    def _read_preamble(self, body: bytes, line_no: int) -> tuple[bytes, int, bool]:
        """Consume comment lines and the header; return the rest of the body."""
        position = 0
        while position < len(body):
            end = body.find(b"\n", position)
            end = len(body) if end < 0 else end + 1
            raw_line = body[position:end]
            line_no += 1
            line = self._line(raw_line[:-1] if raw_line.endswith(b"\n") else raw_line, line_no)
            position = end
            if line.startswith("#"):
                key, sep, value = line[1:].partition(":")
                if sep:
                    key, value = key.strip(), value.strip()
                    self.info.metadata[key] = value
                    if key == "rate_hz":
                        self.info.rate_hz = self._rate(value, line_no)
                continue
            if line.strip() != HEADER:
                raise self._error(line_no, f"expected the header {HEADER!r}, got {_quote(line)}")
            return body[position:], line_no, True
        return b"", line_no, False

    def _rate(self, text: str, line_no: int) -> float:
        low, high = RATE_HZ_RANGE
        rate = float(text) if _DECIMAL.fullmatch(text) else math.nan
        if not low <= rate <= high:
            raise self._error(
                line_no, f"rate_hz must be a number of frames per second from {low:g} to {high:g}, got {_quote(text)}"
            )
        return rate

    def _parse_body(self, body: bytes, line_no: int, last_t: float) -> tuple[FrameBlock, int, float, int]:
        fast = self._parse_fast(body, last_t)
        if fast is not None:
            block = fast
            return block, line_no + len(block), float(block.t[-1]) if len(block) else last_t, 0
        return self._parse_slow(body, line_no, last_t)

    @staticmethod
    def _parse_fast(body: bytes, last_t: float) -> FrameBlock | None:
        """Vectorised parse of clean lines; None when anything needs a closer look."""
        if b",," in body or b",\n" in body or body[:1] == b"," or body[-1:] != b"\n":
            return None
        data = np.frombuffer(body, dtype=np.uint8)
        if not _FAST_BYTES.take(data).all():
            return None
        newlines = np.flatnonzero(data == 10)
        if len(newlines) == 0 or np.diff(newlines, prepend=-1).max() > MAX_LINE_BYTES + 1:
            return None
        commas = np.cumsum(data == 44, dtype=np.int32)
        commas_at_end = commas[newlines]
        if not np.all(np.diff(commas_at_end, prepend=0) == 4):
            return None
        # A point only in t, the first field: "2." or "2.0" is no count.
        dots = np.flatnonzero(data == 46)
        if len(dots) and np.any(commas[dots] != commas_at_end[np.searchsorted(newlines, dots)] - 4):
            return None
        # Only digits, '-' and '.' are left in the fields, which numpy's
        # parser reads exactly as the line-by-line reader does ("1-2", "-",
        # "." and "1.2.3" stop it; a value count short of 5 a line says so).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # numpy < 2: a short read warns
            try:
                values = np.fromstring(body.replace(b"\n", b","), dtype=np.float64, sep=",")
            except ValueError:
                return None
        if values.size != 5 * len(newlines):
            return None
        values = values.reshape(-1, 5)
        t = values[:, 0].copy()
        counts = values[:, 1:]
        if not np.all(np.abs(t) <= T_LIMIT_S):
            return None
        if (counts < RAW_MIN).any() or (counts > RAW_MAX).any():
            return None
        if t[0] < last_t or (len(t) > 1 and np.any(np.diff(t) < 0)):
            return None
        return FrameBlock(t, counts.astype(np.int64))

    def _parse_slow(self, body: bytes, line_no: int, last_t: float) -> tuple[FrameBlock, int, float, int]:
        times: list[float] = []
        rows: list[list[int]] = []
        blank_line_at = 0
        lines = body.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        for raw_line in lines:
            line_no += 1
            line = self._line(raw_line, line_no)
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
            rows.append(
                [self._parse_count(text, name, line_no) for text, name in zip(fields[1:], ("fl", "fr", "bl", "br"))]
            )
        block = FrameBlock(np.array(times, dtype=np.float64), np.array(rows, dtype=np.int64).reshape(-1, 4))
        return block, line_no, last_t, blank_line_at

    def _parse_time(self, text: str, line_no: int) -> float:
        if not _DECIMAL.fullmatch(text):
            if text.strip().lower().lstrip("+-") in ("nan", "inf", "infinity"):
                raise self._error(line_no, f"t is not a finite number: {_quote(text)}")
            raise self._error(line_no, f"t is not a number (a decimal such as 12.5): {_quote(text)}")
        t = float(text)
        if not abs(t) <= T_LIMIT_S:
            raise self._error(
                line_no, f"t = {_quote(text)} is not a plausible time in seconds (at most {T_LIMIT_S:g} from zero)"
            )
        return t

    def _parse_count(self, text: str, name: str, line_no: int) -> int:
        if not text:
            return MISSING
        if not _COUNT.fullmatch(text):
            raise self._error(
                line_no, f"{name} is not a whole number (ASCII digits, a leading minus at most): {_quote(text)}"
            )
        value = int(text)
        if not RAW_MIN <= value <= RAW_MAX:
            shown = text if len(text) <= 12 else _quote(text)
            raise self._error(line_no, f"{name} = {shown} is outside the 24-bit range {RAW_MIN}..{RAW_MAX}")
        return value


class WriteError(CushionError):
    """A recording could not be written; `reason` says why (the OS's words)."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def check_output(path: Path, *, force: bool = False) -> bool:
    """Refuse what a new recording must not be written to: an existing file
    (unless ``force``: stored recordings are not replaced without asking), a
    folder, a path whose folder does not exist. Returns whether ``path``
    exists (a file to replace, or a device or pipe such as /dev/stdout)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if not path.parent.is_dir():
            raise CushionError(f"{path}: cannot write: no such folder {path.parent}") from None
        return False
    except OSError as exc:
        raise CushionError(f"{path}: cannot write: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise CushionError(f"{path}: is a folder; give the name of the file to write")
    if stat.S_ISREG(info.st_mode) and not force:
        raise CushionError(f"{path}: already exists; nothing written (--force replaces it)")
    return True


class RecordingWriter:
    """Writes frames in the SPEC format. Use as a context manager; `close()` flushes.

    Frames are buffered and handed to the OS in whole lines (`flush()`, and
    whenever the buffer passes 64 KB), so a killed writer leaves a file that
    ends with a complete line. A failed write (disk full, I/O error) raises
    CushionError naming the file; the file is cut back to the last whole line
    written (a file this writer created and could write nothing to is
    removed), and `frames_written` says how many frames it keeps.

    overwrite: False refuses a path that already exists (CushionError),
    atomically (the file is created with O_EXCL).
    """

    _BUFFER_CHARS = 1 << 16

    def __init__(self, path: str | Path, metadata: dict[str, str] | None = None, *, overwrite: bool = True):
        self.path = Path(path)
        self.frames = 0  # frames handed in
        self.frames_written = 0  # ... of which the OS has them
        self._parts: list[str] = [f"# {key}: {value}\n" for key, value in (metadata or {}).items()]
        self._parts.append(HEADER + "\n")
        self._chars = 0
        self._unflushed = 0
        self._size = 0
        self._failed = False
        try:
            self._created = not self.path.exists()
            self._file = open(self.path, "wb" if overwrite else "xb", buffering=0)
        except FileExistsError:
            raise CushionError(f"{self.path}: already exists") from None
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise WriteError(f"{self.path}: cannot write: {reason}", reason) from None

    def write_frame(self, t: float, raw: tuple[int | None, ...] | list[int | None]) -> None:
        """Write one frame; None for a channel that gave no reading."""
        fields = ["" if value is None else str(int(value)) for value in raw]
        line = f"{t:.4f},{fields[0]},{fields[1]},{fields[2]},{fields[3]}\n"
        self._parts.append(line)
        self._chars += len(line)
        self.frames += 1
        self._unflushed += 1
        if self._chars >= self._BUFFER_CHARS:
            self.flush()

    def write_block(self, t: np.ndarray, raw: np.ndarray) -> None:
        """Write many frames at once (raw uses MISSING for no reading)."""
        lines = []
        for time, row in zip(t.tolist(), raw.tolist()):
            lines.append(f"{time:.4f}," + ",".join("" if v == MISSING else str(v) for v in row))
        if lines:
            text = "\n".join(lines) + "\n"
            self._parts.append(text)
            self._chars += len(text)
        self.frames += len(lines)
        self._unflushed += len(lines)
        if self._chars >= self._BUFFER_CHARS:
            self.flush()

    def flush(self) -> None:
        """Hand every buffered line to the OS."""
        if self._failed or self._file.closed or not self._parts:
            return
        data = memoryview("".join(self._parts).encode("utf-8"))
        self._parts, self._chars = [], 0
        try:
            done = 0
            while done < len(data):
                done += self._file.write(data[done:])
        except OSError as exc:
            self._fail(exc)
        self._size += len(data)
        self.frames_written += self._unflushed
        self._unflushed = 0

    def close(self) -> None:
        """Flush, sync to disk (a regular file) and close."""
        if self._file.closed:
            return
        try:
            self.flush()
            try:
                os.fsync(self._file.fileno())
            except OSError as exc:
                if exc.errno not in (errno.EINVAL, errno.EROFS, errno.ENOTSUP):  # a pipe, a terminal...
                    self._fail(exc)
        finally:
            self._file.close()

    def _fail(self, exc: OSError) -> None:
        self._failed = True
        with contextlib.suppress(OSError):
            os.ftruncate(self._file.fileno(), self._size)  # back to the last whole line
        self._file.close()
        kept = ""
        if self._created and self._size == 0:
            with contextlib.suppress(OSError):
                self.path.unlink()
        elif self.frames_written:
            kept = f"; the file keeps the first {self.frames_written} frames"
        reason = exc.strerror or str(exc)
        raise WriteError(f"{self.path}: cannot write: {reason}{kept}", reason) from None

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None and self._failed:
            return
        self.close()
