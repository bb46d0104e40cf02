import numpy as np
import pytest

from device.errors import CushionError
from device.recording import MISSING, RecordingReader, RecordingWriter

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


@pytest.mark.parametrize("body, fragment", [
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
])
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
