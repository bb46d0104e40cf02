import errno
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.core.frames import MISSING
from device.errors import CushionError
from device.storage.recording import MAX_LINE_BYTES, RecordingReader, RecordingWriter, WriteError, check_output

GOOD = "# rate_hz: 80\n# device: test\nt,fl,fr,bl,br\n0.0,1,2,3,4\n0.0125,-8388608,8388607,0,-1\n"


def read_all(path):
    reader = RecordingReader(path)
    blocks = list(reader)
    t = np.concatenate([b.t for b in blocks]) if blocks else np.empty(0)
    raw = np.concatenate([b.raw for b in blocks]) if blocks else np.empty((0, 4))
    return reader, t, raw


def test_reads_metadata_and_frames(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(GOOD)
    reader, t, raw = read_all(path)
    assert reader.info.metadata == {"rate_hz": "80", "device": "test"}
    assert t.tolist() == [0.0, 0.0125]
    assert raw.tolist() == [[1, 2, 3, 4], [-8388608, 8388607, 0, -1]]


def test_empty_field_is_a_missing_reading(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("t,fl,fr,bl,br\n0.0,1,,3,4\n0.1,,,,\n")
    _, t, raw = read_all(path)
    assert raw[0].tolist() == [1, MISSING, 3, 4]
    assert (raw[1] == MISSING).all()


def test_writer_round_trip(tmp_path):
    path = tmp_path / "w.csv"
    with RecordingWriter(path, {"rate_hz": "10"}) as writer:
        writer.write_frame(0.0, (5, None, -7, 8388607))
        writer.write_block(np.array([0.1, 0.2]), np.array([[1, 2, 3, 4], [MISSING, 0, 0, 0]]))
    reader, t, raw = read_all(path)
    assert reader.info.metadata == {"rate_hz": "10"}
    assert t.tolist() == [0.0, 0.1, 0.2]
    assert raw.tolist() == [[5, MISSING, -7, 8388607], [1, 2, 3, 4], [MISSING, 0, 0, 0]]


def test_large_file_streams_in_blocks(tmp_path):
    path = tmp_path / "big.csv"
    n = 120_000
    t = np.arange(n) / 80
    raw = np.tile(np.arange(4), (n, 1)) + np.arange(n)[:, None]
    with RecordingWriter(path) as writer:
        writer.write_block(t, raw)
    reader, t2, raw2 = read_all(path)
    assert len(list(RecordingReader(path))) > 1  # not one load
    assert reader.frames == n
    assert np.array_equal(raw2, raw) and np.allclose(t2, t)


@pytest.mark.parametrize(
    "body, fragment",
    [
        ("t,fl,fr,bl\n0,1,2,3\n", "line 1: expected the header"),
        ("# c\nt,fl,fr,bl,br\n0,1,2,3,4\n0.1,1,2,3\n", "line 4: expected 5 fields"),
        ("t,fl,fr,bl,br\n0,1,2,3,4\n0.1,1,2,x,4\n", "line 3: bl is not a whole number"),
        ("t,fl,fr,bl,br\n0,1,2,3,4\n0.1,1,2.5,3,4\n", "line 3: fr is not a whole number"),
        ("t,fl,fr,bl,br\nnan,1,2,3,4\n", "line 2: t is not a finite number"),
        ("t,fl,fr,bl,br\nabc,1,2,3,4\n", "line 2: t is not a number"),
        ("t,fl,fr,bl,br\n1.0,1,2,3,4\n0.5,1,2,3,4\n", "line 3: t goes backwards"),
        ("t,fl,fr,bl,br\n0,1,2,3,8388608\n", "line 2: br = 8388608 is outside the 24-bit range"),
        ("t,fl,fr,bl,br\n0,-8388609,2,3,4\n", "line 2: fl = -8388609 is outside"),
        ("t,fl,fr,bl,br\n0,1,2,3,4\n\n0.2,1,2,3,4\n", "line 3: empty line"),
        ("t,fl,fr,bl,br\n0,1,2,3,4\n# late comment\n", "line 3: expected 5 fields"),
        ("# only a comment\n", "no header line"),
    ],
)
def test_malformed_lines_are_named(tmp_path, body, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(body)
    with pytest.raises(CushionError) as info:
        read_all(path)
    assert fragment in str(info.value)
    assert str(path) in str(info.value)


def test_error_deep_in_a_large_file_names_its_line(tmp_path):
    path = tmp_path / "deep.csv"
    lines = ["t,fl,fr,bl,br"] + [f"{i / 80:.4f},1,2,3,4" for i in range(50_000)]
    lines[40_001] = "500.0000,1,2,3"  # line 40002 of the file
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CushionError, match="line 40002: expected 5 fields"):
        read_all(path)


def test_empty_file_says_so(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(CushionError, match="empty"):
        read_all(path)


def test_trailing_blank_lines_and_crlf_are_accepted(tmp_path):
    path = tmp_path / "crlf.csv"
    path.write_bytes(b"t,fl,fr,bl,br\r\n0,1,2,3,4\r\n0.1,1,2,3,4\r\n\r\n")
    _, t, raw = read_all(path)
    assert t.tolist() == [0.0, 0.1]


def test_missing_file(tmp_path):
    with pytest.raises(CushionError, match="cannot open"):
        read_all(tmp_path / "nope.csv")


# -- what the reader accepts, and how it refuses the rest --------------------------

HEAD = "t,fl,fr,bl,br\n"


def error_of(tmp_path, data: bytes) -> str:
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    with pytest.raises(CushionError) as info:
        read_all(path)
    return str(info.value)


@pytest.mark.parametrize(
    "count",
    [
        " 1",
        "1 ",
        " 1 ",
        "+1",
        "1_000",
        "\u0661",
        "1\x00",
        "\x001",
        " ",
        "0x10",
        "1e3",
        "1.",
        "1.0",
        "--1",
        "-",
        "1-2",
        "\uff11",
    ],
)
def test_a_count_is_ascii_digits_with_an_optional_minus(tmp_path, count):
    # Each on both paths: a clean block first (the vectorised parse), then
    # the bad line, which the line-by-line parse names.
    message = error_of(tmp_path, (HEAD + "0,1,2,3,4\n" * 3 + f"0.1,{count},2,3,4\n").encode())
    assert "line 5: fl is not a whole number" in message


@pytest.mark.parametrize(
    "t, problem",
    [
        ("nan", "not a finite number"),
        ("inf", "not a finite number"),
        ("-Infinity", "not a finite number"),
        ("1e308", "not a plausible time"),
        ("1e400", "not a plausible time"),
        ("2e10", "not a plausible time"),
        ("-2e10", "not a plausible time"),
        (" 1", "not a number"),
        ("+1", "not a number"),
        ("1_0", "not a number"),
        ("1\x00", "not a number"),
        ("0x1", "not a number"),
        (".", "not a number"),
        ("1.2.3", "not a number"),
    ],
)
def test_t_must_be_a_plausible_decimal_number(tmp_path, t, problem):
    message = error_of(tmp_path, (HEAD + f"0,1,2,3,4\n{t},1,2,3,4\n").encode())
    assert "line 3: t" in message and problem in message


def test_t_may_be_any_decimal_form(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(HEAD + "-1.5,1,2,3,4\n.5,1,2,3,4\n5.,1,2,3,4\n1.25e1,1,2,3,4\n9999999999,1,2,3,4\n")
    _, t, _ = read_all(path)
    assert t.tolist() == [-1.5, 0.5, 5.0, 12.5, 9999999999.0]


def test_a_trailing_nul_is_refused_on_both_paths(tmp_path):
    for body in ("0,1,2,3,4\x00\n", "0,1,,3,4\x00\n"):  # a clean line, and one with an empty field
        assert "line 2: br is not a whole number" in error_of(tmp_path, (HEAD + body).encode())


_VALID_COUNT = st.from_regex(r"-?[0-9]{1,8}", fullmatch=True)
_COUNT = st.one_of(_VALID_COUNT, _VALID_COUNT, _VALID_COUNT, st.text(alphabet="0123456789-.e+ _\x00", max_size=5))
_T_END = st.one_of(
    st.just(""), st.just(".25"), st.just("."), st.just("e1"), st.text(alphabet="0123456789-.e+ ", max_size=3)
)
_FOUR = st.lists(_COUNT, min_size=4, max_size=4)
_LINE = st.tuples(_T_END, st.one_of(_FOUR, _FOUR, _FOUR, st.lists(_COUNT, min_size=3, max_size=5)))


@settings(max_examples=1000, deadline=None)
@given(st.lists(_LINE, min_size=1, max_size=4))
def test_the_fast_and_the_slow_parse_agree(lines):
    body = "".join(f"{i}{end}," + ",".join(counts) + "\n" for i, (end, counts) in enumerate(lines)).encode()
    reader = RecordingReader("x.csv")
    fast = reader._parse_fast(body, -np.inf)
    try:
        slow, _, _, _ = reader._parse_slow(body, 1, -np.inf)
    except CushionError:
        assert fast is None
        return
    if fast is not None:
        assert fast.t.tobytes() == slow.t.tobytes() and np.array_equal(fast.raw, slow.raw)


@pytest.mark.parametrize("value", ["nan", "0", "-80", "fast", "1e9", "inf", ""])
def test_rate_hz_metadata_is_checked(tmp_path, value):
    message = error_of(tmp_path, f"# device: x\n# rate_hz: {value}\n{HEAD}0,1,2,3,4\n".encode())
    assert "line 2: rate_hz must be a number of frames per second from 0.1 to 10000" in message


def test_a_utf8_byte_order_mark_is_skipped(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf# rate_hz: 80\n" + HEAD.encode() + b"0,1,2,3,4\n")
    reader, t, raw = read_all(path)
    assert reader.info.metadata == {"rate_hz": "80"} and reader.info.rate_hz == 80.0
    assert raw.tolist() == [[1, 2, 3, 4]]


@pytest.mark.parametrize("frames", [2, 5000])
def test_cr_only_line_endings_are_named(tmp_path, frames):
    data = (HEAD + "0,1,2,3,4\n" * frames).replace("\n", "\r").encode()
    assert "line 1: a carriage return inside the line" in error_of(tmp_path, data)


def test_a_lone_cr_mid_file_is_an_error_not_a_new_line(tmp_path):
    message = error_of(tmp_path, (HEAD + "0,1,2,3,4\n0.1,1,2,3\r4\n").encode())
    assert "line 3: a carriage return inside the line" in message


def test_a_line_without_end_is_refused_at_once_in_flat_memory(tmp_path):
    path = tmp_path / "long.csv"
    with open(path, "wb") as handle:
        handle.write(HEAD.encode())
        handle.write(b"1" * (50 << 20))  # 50 MB and no newline
    started = time.monotonic()
    with pytest.raises(CushionError, match=f"line 2: longer than {MAX_LINE_BYTES} bytes"):
        read_all(path)
    assert time.monotonic() - started < 1.0
    with pytest.raises(CushionError, match="line 1: longer than"):
        read_all("/dev/zero")  # endless: memory would grow without a bound


def test_a_long_line_inside_a_block_is_refused(tmp_path):
    message = error_of(tmp_path, (HEAD + "0,1,2,3,4\n" + "0" * 2000 + ".5,1,2,3,4\n").encode())
    assert "line 3: longer than 1024 bytes" in message


def test_what_an_error_quotes_is_cut_short(tmp_path):
    message = error_of(tmp_path, (HEAD + "0,1,2,3," + "x" * 900 + "\n").encode())
    assert "line 2: br is not a whole number" in message and "(900 characters)" in message
    assert len(message) < 250


# -- the writer ---------------------------------------------------------------------


def test_writer_refuses_an_existing_file_unless_told(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("precious\n")
    with pytest.raises(CushionError, match="already exists"):
        RecordingWriter(path, overwrite=False)
    with pytest.raises(CushionError, match=r"already exists; nothing written \(--force replaces it\)"):
        check_output(path)
    assert path.read_text() == "precious\n"
    assert check_output(path, force=True) is True and check_output(tmp_path / "new.csv") is False
    with pytest.raises(CushionError, match="is a folder"):
        check_output(tmp_path)
    with pytest.raises(CushionError, match="no such folder"):
        check_output(tmp_path / "nope" / "r.csv")


def test_a_full_disk_keeps_the_whole_lines_written_before(tmp_path):
    path = tmp_path / "r.csv"
    writer = RecordingWriter(path, {"rate_hz": "80"})
    for i in range(10):
        writer.write_frame(i / 80, (1, 2, 3, 4))
    writer.flush()

    class FullDisk:  # takes half of what it is given, then the disk is full
        def __init__(self, file):
            self.file = file
            self.closed = False

        def write(self, data):
            if len(data) > 8:
                return self.file.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

        def fileno(self):
            return self.file.fileno()

        def close(self):
            self.closed = True
            self.file.close()

    writer._file = FullDisk(writer._file)
    for i in range(10, 20):
        writer.write_frame(i / 80, (1, 2, 3, 4))
    with pytest.raises(WriteError, match="No space left on device; the file keeps the first 10 frames"):
        writer.flush()
    writer.close()
    _, t, _ = read_all(path)
    assert len(t) == 10 and path.read_bytes().endswith(b"\n")


def test_a_write_to_a_full_device_is_one_error(tmp_path):
    with pytest.raises(WriteError, match="/dev/full: cannot write: No space left on device"):
        with RecordingWriter("/dev/full") as writer:
            writer.write_frame(0.0, (1, 2, 3, 4))


# -- a last line without a line ending: a recorder killed while writing --------------------------

CUT = "# rate_hz: 80\nt,fl,fr,bl,br\n6.1809,8387078,-8387922,,1234645\n6.3108,8388607,-7988000,,1634"


@pytest.mark.parametrize("big", [False, True], ids=["one chunk", "many chunks"])
def test_a_last_line_cut_short_is_left_out_with_a_warning_naming_it(tmp_path, big):
    path = tmp_path / "r.csv"
    whole = "".join(f"{i / 8000:.4f},1,2,3,4\n" for i in range(40000)) if big else ""
    path.write_text(CUT.replace("t,fl,fr,bl,br\n", "t,fl,fr,bl,br\n" + whole))
    told = []
    reader = RecordingReader(path, warn=told.append)
    frames = np.concatenate([b.raw for b in reader])
    assert frames[-1].tolist() == [8387078, -8387922, MISSING, 1234645]  # not 1634 for br
    assert len(frames) == 40001 if big else len(frames) == 1
    line = 3 + (40000 if big else 0) + 1
    assert reader.cut_line == line
    assert told == [
        f"{path} line {line}: the file ends inside this line (no line ending: the recorder was "
        "stopped while writing it?); left out: '6.3108,8388607,-7988000,,1634'"
    ]


def test_a_header_or_comment_without_a_line_ending_is_no_cut_line(tmp_path):
    for text in ("t,fl,fr,bl,br", "t,fl,fr,bl,br\n0,1,2,3,4\n# end"):
        path = tmp_path / "r.csv"
        path.write_text(text)
        told = []
        reader = RecordingReader(path, warn=told.append)
        list(reader)
        assert told == [] and reader.cut_line is None


def test_replay_of_a_cut_recording_warns_once_and_reports_the_whole_frames(tmp_path, capsys, calibrated_home):
    from device.cli.cushion import main

    path = tmp_path / "r.csv"
    path.write_text(CUT)
    assert main(["replay", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert line.startswith(f"cushion: warning: {path} line 4: the file ends inside this line")
    assert '"frames":1,' in captured.out
