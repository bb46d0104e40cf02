"""The sensor commands: `cushion check`, `tare`, `calibrate` and `record`.

Thin edges around device.core.calibration: open the HX711s (or, for --sim, the
simulated cushion of device.sim.rig), read frames for a while, print what was
found, and write the config file or a recording. hardware/calibration.md is
the user's description of these commands.

Each command function returns the exit status: 0 done, 1 refused (the
readings did not allow it: not steady, a channel not answering, placements
too alike), and raises CushionError for what the user must fix first (a
bad config, GPIO pins that cannot be opened, a file that cannot be
written), which the CLI prints on one line with status 2. A refused step
writes nothing.

What they will not overwrite: `record` refuses an existing file unless
--force (before the sensor is opened); `tare` and `calibrate` refuse a
config file the user may not write (chmod a-w), before they start reading,
since the atomic rename would replace it anyway.

How long they read (module constants; the CLI's --seconds overrides them):
`check` and `tare` 3 s, each step of `calibrate` a steady 2 s.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tomllib
from datetime import datetime
from pathlib import Path
from time import monotonic

import numpy as np

from device.config import CHANNELS, Calibration, Config, config_from_dict
from device.config.toml_edit import update_calibration_toml
from device.core.calibration import (
    CORNER_NAMES,
    Readings,
    Refused,
    assess,
    calibration_warnings,
    channel_health,
    is_tared,
    load_kg,
    placement_loads,
    solve_counts_per_kg,
    zero_at,
)
from device.errors import CushionError
from device.storage.files import replaced_atomically

CHECK_S = 3.0  # `check` reads this long
TARE_S = 3.0  # `tare` averages this long
STEP_S = 2.0  # each step of `calibrate` averages a steady window this long
SETTLE_TIMEOUT_S = 30.0  # ... and gives up when none comes within this time
MAX_TARE_LOAD_KG = 2.0  # an empty cushion this much heavier than at the last tare has something on it
MAX_CALIBRATION_DRIFT_KG = 0.5  # the empty readings before and after calibrating differ this much: refuse
PRESS_KG = 1.0  # `check`: a corner loaded this much shows which way its cell counts
NOISY_G = 100.0  # hardware/troubleshooting.md: above this, look for a wiring problem

_DROP_REASONS = {
    "power_down": "clock pulse over 60 us, chips resynchronised",
    "sck_high": "clock pulse over 50 us",
    "dout_not_high": "DOUT low after the 25th pulse",
    "slow_read": "read took over half a conversion period",
    "settling": "read while the chips settled after a reset (4 conversions each)",
}


# ---------------------------------------------------------------------------
# Where the frames come from


class Hardware:
    """The HX711s on the configured pins (the default, without --sim)."""

    moves_weight = False  # a person puts the weight on

    def __init__(self):
        self.description = "HX711 x4"

    def open(self, config: Config):
        from device.hardware.gpio import open_hx711

        array = open_hx711(config, warn=lambda text: print(f"cushion: warning: {text}", file=sys.stderr))
        sensor = config.sensor
        clocks = sensor.clock_pins or (sensor.clock_pin,)
        self.description = (
            f"HX711 x4, clock GPIO{'/'.join(map(str, clocks))}, data GPIO"
            f"{'/'.join(map(str, sensor.data_pins))}, via {array.path}"
        )
        return array

    def put_weight(self, corner: str, kg: float) -> None:
        pass

    def take_weight(self) -> None:
        pass

    def close(self) -> None:
        pass


@contextlib.contextmanager
def _sensor(bench, config: Config):
    try:
        array = bench.open(config)
    except BaseException:
        bench.close()
        raise
    try:
        yield array
    finally:
        try:
            array.close()
        finally:
            bench.close()


def _bench(bench, sim: bool, **sim_kwargs):
    if bench is not None:
        return bench
    if sim:
        from device.sim.rig import SimulatedCushion

        return SimulatedCushion(**sim_kwargs)
    return Hardware()


def _config(config_path, *, written: bool = False) -> tuple[Path, Config]:
    """The config file and its Config. written: `tare` and `calibrate`, which
    write it, so a missing file is fine but a read-only one is refused up
    front (before any reading); otherwise a missing file given by name is
    the defaults, with a warning."""
    from device.config import find_config

    if written:
        path, config = find_config(config_path)
        _check_writable(path)
        return path, config
    return find_config(config_path, warn=lambda text: print(f"cushion: warning: {text}", file=sys.stderr))


def _check_writable(path: Path) -> None:
    """Refuse a config file the user may not write (the atomic rename of
    write_calibration would replace it anyway, where the folder is writable).
    For root, who may write anything, a file without any write permission
    (chmod a-w) counts as read-only all the same."""
    target = path.resolve() if path.is_symlink() else path
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise CushionError(f"{path}: cannot read: {exc.strerror or exc}") from None
    writable = bool(mode & 0o222) if os.geteuid() == 0 else os.access(target, os.W_OK)
    if not writable:
        raise CushionError(
            f"{path}: the file is read-only; nothing written (make it writable first, e.g. chmod u+w {path})"
        )


def _read(array, seconds: float, readings: Readings | None = None) -> tuple[Readings, float]:
    """Frames for ``seconds``; returns them and the time it took."""
    readings = readings if readings is not None else Readings()
    start = monotonic()
    while monotonic() - start < seconds:
        frame = array.read_frame()
        readings.add(frame.t, frame.raw)
    return readings, monotonic() - start


def _drops(stats) -> str:
    if not stats.frames_dropped:
        return "none dropped"
    parts = [f"{count} {_DROP_REASONS.get(reason, reason)}" for reason, count in stats.dropped.most_common()]
    return f"{stats.frames_dropped} dropped ({'; '.join(parts)})"


def _now() -> str:
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")


def _counts(values) -> str:
    return "[" + ", ".join(f"{v:.0f}" for v in values) + "]"


# ---------------------------------------------------------------------------
# The config file


def write_calibration(path: Path, *, offset=None, counts_per_kg=None, weight_kg: float | None = None) -> None:
    """Set `[calibration]` offset and/or counts_per_kg in the config file at
    ``path`` and note the date on the table's header line; every other byte
    of the file stays as it was. A missing file is created (the default
    config from its commented template). The file is replaced atomically,
    so an interrupted write never leaves half a config."""
    from device.config import default_config_path, render_template

    target = path.resolve() if path.is_symlink() else path
    _check_writable(path)
    try:
        if target.exists():
            text = target.read_bytes().decode("utf-8")
        else:
            text = render_template() if path == default_config_path() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise CushionError(f"{path}: cannot read: {exc}") from None
    new = update_calibration_toml(text, offset=offset, counts_per_kg=counts_per_kg, when=_now(), weight_kg=weight_kg)
    config_from_dict(tomllib.loads(new), str(path))  # what we write must load
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with replaced_atomically(path) as temporary:
            temporary.write_text(new, encoding="utf-8", newline="")
    except OSError as exc:
        raise CushionError(f"{path}: cannot write: {exc.strerror or exc}") from None


# ---------------------------------------------------------------------------
# cushion check


def check(config_path=None, *, sim: bool = False, seconds: float = CHECK_S, bench=None, out=None) -> int:
    """`cushion check`: read ``seconds`` and report each channel: does it
    answer, at what rate, how noisy, which way it counts under load; plus
    the frames the driver dropped and why. 0 if all four answer, else 1."""
    out = out or sys.stdout
    path, config = _config(config_path)
    # With --sim a hand presses each corner in turn, as the user is asked to.
    bench = _bench(bench, sim, presses_s=seconds / 4.5)
    with _sensor(bench, config) as array:
        readings, elapsed = _read(array, seconds)
        stats = array.stats
    calibration = config.calibration
    calibrated = tuple(calibration.counts_per_kg) != Calibration().counts_per_kg
    health = channel_health(readings, elapsed, calibration, press_kg=PRESS_KG)
    rate = config.sensor.rate_hz
    print(f"cushion check: {elapsed:.1f} s from {bench.description}; config {path}", file=out)
    for h in health:
        print(f"{h.name}  " + _health_line(h, len(readings), elapsed, rate, calibrated), file=out)
    if is_tared(calibration) and len(readings):
        with np.errstate(all="ignore"):
            kg = load_kg(np.nanmedian(readings.raw, axis=0), calibration)
        corners = ", ".join(f"{name} {value:.2f}" for name, value in zip(CHANNELS, kg))
        print(f"load now: {corners} kg, total {np.nansum(kg):.2f} kg (median over the check)", file=out)
    print(
        f"frames: {len(readings)} in {elapsed:.1f} s ({len(readings) / max(elapsed, 1e-9):.1f}/s), "
        f"{_drops(stats)}; {stats.resyncs} resyncs, {stats.glitches} glitched readings rejected",
        file=out,
    )
    bad = [h.name for h in health if not h.answers]
    if bad:
        print(f"not all channels answer: {', '.join(bad)} (hardware/troubleshooting.md)", file=out)
        return 1
    print("all 4 channels answer", file=out)
    return 0


def _health_line(h, frames: int, seconds: float, rate_hz: int, calibrated: bool) -> str:
    if h.status == "silent":
        return (
            f"NO ANSWER: no reading in {seconds:.1f} s (DOUT wire, HX711 power or SCK; "
            'hardware/troubleshooting.md, "A channel never answers")'
        )
    parts = []
    if h.status == "ok":
        parts.append("answers")
    elif h.status == "intermittent":
        parts.append(f"ANSWERS SOMETIMES ({h.readings} of {frames} frames)")
    elif h.status == "rail":
        parts.append("RAIL VALUES (input saturated or a cell lead broken; hardware/troubleshooting.md)")
    elif h.status == "frozen":
        parts.append("FROZEN (the same value throughout; hardware/troubleshooting.md)")
    parts.append(f"{h.rate_hz:5.1f}/s")
    if h.rate_hz < 0.75 * rate_hz:
        parts[-1] += f' SLOW (expected about {rate_hz}; hardware/troubleshooting.md, "Slow reads")'
    noisy = ' NOISY (hardware/troubleshooting.md, "Noise")' if h.noise_g > NOISY_G else ""
    parts.append(f"noise {h.noise_g:4.0f} g{noisy}")
    parts.append(_direction(h, calibrated))
    return "  ".join(parts)


def _direction(h, calibrated: bool) -> str:
    if h.direction is None:
        if h.sign < 0:
            return "counts down (negative counts_per_kg: mounted upside down): fine once calibrated"
        return "not pressed: press each corner during the check to see which way it counts"
    if h.direction > 0:
        if h.sign > 0:
            return f"counts up under load (pressed {h.press_kg:.1f} kg)"
        return (
            "counts UP under load but its counts_per_kg is negative: the cell was turned over or "
            "rewired since calibration; calibrate again"
        )
    if h.sign < 0:
        return f"counts down under load, as its negative counts_per_kg says: fine (pressed {h.press_kg:.1f} kg)"
    if calibrated:
        return (
            "counts DOWN under load but its counts_per_kg is positive: the cell was turned over or "
            "rewired since calibration; calibrate again"
        )
    return (
        "counts DOWN under load (mounted upside down or A+/A- swapped): fine once calibrated, "
        "its counts_per_kg comes out negative"
    )


# ---------------------------------------------------------------------------
# cushion tare


def tare(
    config_path=None, *, sim: bool = False, seconds: float = TARE_S, force: bool = False, bench=None, out=None, err=None
) -> int:
    """`cushion tare`: average ``seconds`` of an empty, untouched cushion and
    write the means to `[calibration] offset`. Refuses (1, nothing written)
    while the readings are not steady, or when the cushion reads over
    MAX_TARE_LOAD_KG heavier than at the last tare (unless ``force``)."""
    out, err = out or sys.stdout, err or sys.stderr
    path, config = _config(config_path, written=True)
    bench = _bench(bench, sim, scene_name="empty")
    with _sensor(bench, config) as array:
        readings, _ = _read(array, seconds)
    calibration = config.calibration
    verdict = assess(readings, calibration.counts_per_kg)
    if not verdict.stable:
        print("cushion tare: the readings are not steady; nothing written:", file=err)
        for problem in verdict.problems:
            print(f"  {problem}", file=err)
        print("Take everything off the cushion, don't touch it or the chair, and run it again.", file=err)
        return 1
    means = verdict.means
    change = ""
    if is_tared(calibration):
        kg = load_kg(means, calibration)
        total = float(kg.sum())
        corners = ", ".join(f"{name} {value:+.2f}" for name, value in zip(CHANNELS, kg))
        if total > MAX_TARE_LOAD_KG and not force:
            print(
                f"cushion tare: the cushion reads {total:.1f} kg more than at the last tare ({corners} kg); "
                "nothing written. Is something on it? Take it off and run it again. If the setup has "
                "changed (another cushion, something fixed to the board), run `cushion tare --force`.",
                file=err,
            )
            return 1
        change = f" ({total:+.2f} kg against the last tare: {corners})"
    write_calibration(path, offset=means)
    noise = ", ".join(f"{c.name} {c.noise_kg * 1000:.0f}" for c in verdict.channels)
    print(f"tare: steady for {verdict.duration_s:.1f} s (noise {noise} g){change}", file=out)
    print(f"wrote [calibration] offset = {_counts(means)} to {path}", file=out)
    return 0


# ---------------------------------------------------------------------------
# cushion calibrate


def calibrate(
    config_path=None,
    *,
    weight_kg: float,
    sim: bool = False,
    yes: bool = False,
    seconds: float = STEP_S,
    bench=None,
    out=None,
    err=None,
    ask=input,
) -> int:
    """`cushion calibrate --weight KG`: the guided procedure.

    An empty cushion first (the offsets), then the weight on each corner in
    turn (fl, fr, bl, br): after each prompt (Enter on stdin; with ``yes``
    the simulated rig moves the weight itself) it waits for a steady window
    of ``seconds`` and averages it. The four placements give counts_per_kg
    (device.core.calibration.solve_counts_per_kg); offset and counts_per_kg are
    written to the config file with the date. 1 if a step is refused.
    """
    out, err = out or sys.stdout, err or sys.stderr
    if not weight_kg > 0:
        raise CushionError(f"calibrate: --weight must be a positive mass in kg, got {weight_kg:g}")
    path, config = _config(config_path, written=True)
    bench = _bench(bench, sim, scene_name="empty")
    if yes and not bench.moves_weight:
        raise CushionError(
            "calibrate: --yes needs --sim (the simulated rig moves the weight itself); "
            "with real hardware, press Enter once the weight is in place"
        )
    cpk_guess = config.calibration.counts_per_kg

    def step(number: int, text: str) -> None:
        print(f"\nStep {number} of 6: {text}", file=out)
        if yes:
            print("  (the simulated rig does it)", file=out)
            return
        print("  Press Enter when ready.", file=out, end="", flush=True)
        try:
            ask("")
            if not sys.stdin.isatty():
                print(file=out)  # the Enter a terminal would have echoed
        except EOFError:
            print(file=out)
            raise CushionError(
                "calibrate: standard input closed before the procedure ended; nothing written "
                "(with --sim, --yes runs it unattended)"
            ) from None

    print(f"Calibrating with a weight of {weight_kg:g} kg: {bench.description}; config {path}", file=out)
    try:
        with _sensor(bench, config) as array:
            step(1, "take everything off the cushion and don't touch it or the chair.")
            bench.take_weight()
            empty = _steady(array, cpk_guess, seconds, out)
            print(f"  empty: {_counts(empty.means)}", file=out)
            windows = []
            for j, corner in enumerate(CHANNELS):
                while True:
                    step(
                        j + 2,
                        f"put the weight on the {CORNER_NAMES[corner]} corner ({corner}), as close to "
                        "its cell as it will sit. Let go and step back.",
                    )
                    bench.put_weight(corner, weight_kg)
                    window = _steady(array, cpk_guess, seconds, out)
                    seen = float(np.sum(np.abs(window.means - empty.means) / np.abs(cpk_guess)))
                    if seen >= 0.3 * weight_kg or yes:
                        break
                    print(f"  no weight seen on the cushion yet ({seen:.1f} kg at most)", file=out)
                print(f"  {corner}: change from empty {_counts(window.means - empty.means)}", file=out)
                windows.append(window)
            step(6, "take the weight off the cushion (an empty reading once more, for drift).")
            bench.take_weight()
            again = _steady(array, cpk_guess, seconds, out)
        drift = again.means - empty.means
        drift_kg = float(np.sum(np.abs(drift) / np.abs(cpk_guess)))
        if drift_kg > MAX_CALIBRATION_DRIFT_KG:
            raise Refused(
                f"the empty cushion reads {drift_kg:.2f} kg differently than at the start "
                f"(at most {MAX_CALIBRATION_DRIFT_KG:g} kg): is the weight still on it, or did "
                "something move? Start again"
            )
        print(f"  empty again: {_counts(again.means)} (drift {_counts(drift)})", file=out)
        deltas = np.array([w.means - zero_at(w.t_mid, empty, again) for w in windows])
        counts_per_kg = solve_counts_per_kg(deltas, weight_kg, noise=empty.noise)
    except Refused as refusal:
        print(f"cushion calibrate: {refusal}; nothing written.", file=err)
        return 1
    loads = placement_loads(deltas, counts_per_kg)
    print(f"\ncounts_per_kg = [{', '.join(f'{v:.1f}' for v in counts_per_kg)}]", file=out)
    for name, value in zip(CHANNELS, counts_per_kg):
        if value < 0:
            print(
                f"  {name} is negative: that cell counts down under load (mounted the other way up, or "
                "A+/A- swapped); the software handles it",
                file=out,
            )
    for corner, row in zip(CHANNELS, loads):
        print(f"  weight on {corner}: " + ", ".join(f"{n} {v:.2f}" for n, v in zip(CHANNELS, row)) + " kg", file=out)
    for warning in calibration_warnings(deltas, counts_per_kg, weight_kg):
        print(f"  check: {warning}", file=out)
    write_calibration(path, offset=again.means, counts_per_kg=counts_per_kg, weight_kg=weight_kg)
    print(
        f"wrote [calibration] offset and counts_per_kg to {path} (calibrated {_now()}); "
        "restart `cushion run` (sudo systemctl restart cushion) to use them",
        file=out,
    )
    return 0


def _steady(array, counts_per_kg, seconds: float, out):
    """Read until the last ``seconds`` are steady and return their assessment;
    Refused after SETTLE_TIMEOUT_S."""
    readings = Readings()
    start = monotonic()
    told = False
    while True:
        _read(array, min(0.1, seconds), readings)
        window = readings.last(seconds)
        if window.duration_s >= 0.95 * seconds:
            verdict = assess(window, counts_per_kg)
            if verdict.stable:
                return verdict
            if monotonic() - start > SETTLE_TIMEOUT_S:
                raise Refused(
                    f"the readings did not settle within {SETTLE_TIMEOUT_S:g} s (" + "; ".join(verdict.problems) + ")"
                )
            if not told and monotonic() - start > seconds + 3.0:
                print("  waiting for the readings to settle ...", file=out, flush=True)
                told = True
