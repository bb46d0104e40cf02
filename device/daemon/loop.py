"""`cushion run`: the live loop that samples, detects, prompts and keeps the history.

The loop reads what the frame source produced since the last step (about
0.1 s of frames), feeds the pipeline (the same one replay uses, frame for
frame), acts on its events (buzzer, LED) and writes the history in batches.

Timing uses the frame clock (time.monotonic on the Pi); the wall clock, which
jumps when a Pi without RTC syncs NTP, only labels stored rows.

Writes: the live row once a second, the history (events, sessions, minute
rows, snoozes) once every `flush_s` (5 s) in one transaction. SQLite runs in
WAL mode with synchronous=NORMAL, so a live-row commit costs no fsync; a
history batch is fsynced (synchronous=FULL for that transaction), so a power cut loses at most the
last `flush_s` and a kill -9 nothing committed.

The database never stops the loop (disk read-only or full, the file locked
by another process, damaged, missing, not even openable at start-up):

- a statement waits at most BUSY_TIMEOUT_S (50 ms) for another process's
  lock, then fails like any other write; a frame read meanwhile is late,
  never lost for long;
- a failed write keeps everything in memory and is retried every `retry_s`
  (5 s), reopening the database first (read-write if it can be written
  again); meanwhile the live row is not written and sampling, detection,
  buzzer and LED go on;
- the problem is logged at once and then once a minute, with what is kept;
  the first batch that goes in again is logged too;
- what is kept is bounded: MAX_PENDING_EVENTS events (weeks of sitting),
  MAX_PENDING_MINUTES minute rows (a week; rows of one minute are merged),
  MAX_PENDING_SESSIONS sessions and MAX_PENDING_SNOOZES button presses; past
  that the oldest go, and that is logged;
- at shutdown the last batch may wait FINAL_BUSY_TIMEOUT_S for a lock; if it
  still cannot be written, one line says what is lost and why, and `lost`
  is set (`cushion run` then exits 1).

Settings from the dashboard that do not validate (or are not even JSON) are
logged and ignored one by one: the config file's value applies for those.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from device.hardware.alerts import PIN_SETTINGS
from device.config import Alerts as AlertsConfig
from device.config import Config, config_with_settings
from device.errors import CushionError
from device.core.events import Event, Session
from device.core.pipeline import Pipeline
from device.core.quiet import PromptGate, QuietHours, SnoozeState
from device.core.minutes import Minute, MinuteAccumulator, merge_minutes
from device.storage.store import Snooze, Store, StoreError
from device.daemon import systemd

log = logging.getLogger("cushion")

BUSY_TIMEOUT_S = 0.05          # the loop waits this long at most for another process's lock
FINAL_BUSY_TIMEOUT_S = 3.0     # the last batch at shutdown may wait longer (systemd allows 15 s)
RETRY_S = 5.0                  # after a failed write, retry (reopening the database) this often
ERROR_LOG_S = 60.0             # a lasting disk problem is logged this often
# Kept in memory across failed writes; beyond this the oldest go (logged).
MAX_PENDING_EVENTS = 50_000
MAX_PENDING_MINUTES = 7 * 24 * 60
MAX_PENDING_SESSIONS = 1_000
MAX_PENDING_SNOOZES = 1_000
LOSS_WINDOW_S = 600.0          # dropped frames are judged over this much of the recent past
STALL_S = 1.0                  # frames stopping this long is the daemon stopped or starved: logged
WALL_STEP_S = 2.0              # the wall clock moving this much against the frame clock is logged


@dataclass(slots=True)
class DaemonCounters:
    steps: int = 0
    frames: int = 0
    batches: int = 0
    live_writes: int = 0
    failed_writes: int = 0
    missed_frames: int = 0      # frames the sensor would have given while the daemon was stopped or starved


class Daemon:
    """Wires a frame source, the pipeline, the alerts and the store together.

    file_config: the config file's settings; the database's settings (from the
    dashboard) are applied over it and re-read when they change.
    store: the history database, or None to open it with `open_store`
    (a callable returning a Store), which is also how it is opened again if
    it cannot be opened now.
    source: SensorSource or SimulatedSource (read(), wall_of(t), frames, dropped).
    alerts: device.hardware.alerts.Alerts, or None for no buzzer/LED (replay-like runs).
    open_alerts: builds the buzzer, LED and button for an [alerts] config
    (raising CushionError when a pin cannot be had); with it the daemon opens
    them itself from the merged config, and opens them again when a setting
    moves them to other pins. A change it cannot apply (a pin in use) keeps
    the previous devices and is reported in device_info "settings_problem".
    device_info: facts for the database's device_info, written once it can be.
    retry_s: how often a failed write is tried again.
    """

    def __init__(self, file_config: Config, store: Store | None, source, alerts=None, *,
                 flush_s: float = 5.0, live_s: float = 1.0, settings_poll_s: float = 1.0,
                 open_store: Callable[[], Store] | None = None, device_info: Mapping[str, Any] | None = None,
                 retry_s: float = RETRY_S, open_alerts: Callable[[AlertsConfig], Any] | None = None):
        self.file_config = file_config
        self.store = store
        self.source = source
        self.alerts = alerts
        self._open_alerts = open_alerts
        self.flush_s = flush_s
        self.live_s = live_s
        self.settings_poll_s = settings_poll_s
        self.retry_s = retry_s
        self.counters = DaemonCounters()
        self.lost: str | None = None     # set by finish() when the last history could not be saved
        self._open_store = open_store
        self._device_info = dict(device_info) if device_info else None
        self._device_info_given = self._device_info
        self._trouble: StoreError | None = None   # the last write error, until a batch goes in again
        self._trouble_since: datetime | None = None
        self._next_retry = 0.0
        self._disk_error_logged_at = -1e9
        self._pending_events: list[Event] = []
        self._pending_sessions: dict[float, Session] = {}
        self._pending_snoozes: list[Snooze] = []
        self._pending_minutes: dict[str, Minute] = {}
        if self.store is None and open_store is not None:
            try:
                self.store = open_store()
            except StoreError as exc:
                self._write_failed(exc)
        self._settings_version = self._read_settings_version()
        self.config = self._merged_config() or self.file_config
        self._settings_problem: str | None = None
        self.pipeline = Pipeline(self.config)
        self.minutes = MinuteAccumulator(source.wall_of)
        self.quiet = QuietHours.from_breaks(self.config.breaks)
        self.snooze = SnoozeState()
        self.gate = PromptGate(self.config.breaks)
        self._button: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._sessions_seen = 0
        self._last_flush_t: float | None = None
        self._last_live_t: float | None = None
        self._last_t: float | None = None
        self._next_settings_poll = 0.0
        self._fidget_times: deque[float] = deque()
        self._rate_window: deque[tuple[float, int]] = deque()
        # (frame time, frames read, frames lost) once a live write: the loss over the last LOSS_WINDOW_S.
        self._loss_window: deque[tuple[float, int, int]] = deque()
        self._led = {"away": None, "break_due": None, "fault": None}
        self._last_prompt_kind = "any"
        self._resumed = False
        self._recovered = False
        self._first_t: float | None = None
        self._frame_period = 1.0 / file_config.sensor.rate_hz
        self._wall_anchor: tuple[float, datetime] | None = None
        if self.alerts is None and open_alerts is not None:
            self._open_first_alerts()
        elif self.alerts is not None:
            self._apply_alerts(self.config)
        if self._settings_problem is not None:
            self._report_settings_problem()

    # ---- set-up -------------------------------------------------------------

    def _read_settings_version(self) -> int | None:
        if self.store is None:
            return None
        try:
            return self.store.settings_version()
        except StoreError as exc:
            self._disk_error(exc)
            return None

    def _merged_config(self) -> Config | None:
        """The config file with the dashboard's settings over it; None if they cannot be read.

        Each stored setting that is not JSON or does not validate (alone, or
        with the ones before it in key order) is logged and left out, so the
        file's value applies for it and the rest still do.
        """
        if self.store is None:
            return None
        try:
            settings = self.store.settings(on_invalid=lambda key, problem: log.error(
                "ignoring the setting %s stored by the dashboard: %s; the config file's value applies", key, problem))
        except StoreError as exc:
            self._disk_error(exc)
            return None
        if not settings:
            return self.file_config
        try:
            return config_with_settings(self.file_config, settings)
        except CushionError:
            pass
        accepted: dict[str, Any] = {}
        for key in sorted(settings):
            trial = dict(accepted)
            trial[key] = settings[key]
            try:
                config_with_settings(self.file_config, trial)
            except CushionError as exc:
                log.error("ignoring the setting %s = %s stored by the dashboard: %s; the config file's value applies",
                          key, _short_json(settings[key]), exc)
                continue
            accepted = trial
        return config_with_settings(self.file_config, accepted)

    def recover(self, first_t: float) -> None:
        """Deal with sessions an earlier run left open (crash, power cut, restart).

        The newest is carried on if its last heartbeat is less than break_min_s
        ago: the pipeline resumes it as a session whose person is away since
        that heartbeat, so it goes on if they are (still) seated and otherwise
        ends at the heartbeat. Older ones are closed at their last heartbeat.

        A wall clock that reads earlier than that heartbeat (a Pi without a
        real-time clock, before NTP has set it) cannot say how long the
        cushion was off: the session is not carried on but closed at its
        heartbeat, and a new one starts if someone is seated.

        Called with the first frame, or, if the database could not be read
        then, once it can: by then this run has its own session, so the old
        ones are only closed.
        """
        if self.store is None:
            return
        late = self._last_t is not None and self._last_t > first_t
        try:
            left = self.store.left_open()
            if left and not late:
                newest = left[-1]
                now_wall = self.source.wall_of(first_t)
                heartbeat = _parse_wall(newest["last_heartbeat_wall"] or newest["start_wall"])
                start = _parse_wall(newest["start_wall"])
                gap = (now_wall - heartbeat).total_seconds()
                if gap < 0:
                    log.warning("the clock reads %s, earlier than the last heartbeat %s of the session started %s "
                                "(no real-time clock, and NTP has not set the time yet?): not carrying it on",
                                now_wall.isoformat(timespec="seconds"), newest["last_heartbeat_wall"],
                                newest["start_wall"])
                elif gap < self.config.breaks.break_min_s:
                    start_t = first_t - (now_wall - start).total_seconds()
                    away_t = first_t - gap
                    self.store.continue_session(newest["id"], start_t)
                    self.pipeline.resume_session(start_t, tuple(newest["prompts"] or ()), away_t)
                    self._resumed = True
                    log.info("resuming the session started %s (last heartbeat %s)", newest["start_wall"],
                             newest["last_heartbeat_wall"])
            closed = self.store.close_left_open()
        except StoreError as exc:
            self._write_failed(exc)
            return
        self._recovered = True
        for row in closed:
            log.info("closed the session started %s at its last heartbeat %s", row["start_wall"], row["end_wall"])

    # ---- the loop -----------------------------------------------------------

    def run(self, stop: threading.Event, max_seconds: float | None = None) -> None:
        """Loop until `stop` is set, the source ends, or max_seconds of frame time have passed."""
        systemd.notify("READY=1")
        watchdog = systemd.watchdog_interval_s()
        next_ping = 0.0
        started_t = None
        try:
            while not stop.is_set():
                more = self.step()
                if watchdog is not None and time.monotonic() >= next_ping:
                    systemd.notify("WATCHDOG=1")
                    next_ping = time.monotonic() + watchdog
                if self._last_t is not None:
                    started_t = self._last_t if started_t is None else started_t
                    if max_seconds is not None and self._last_t - started_t >= max_seconds:
                        break
                if not more:
                    break
        finally:
            systemd.notify("STOPPING=1")
            self.finish()

    def step(self) -> bool:
        """One turn of the loop; False once the source has nothing more to give."""
        block = self.source.read()
        self.counters.steps += 1
        self._handle_button()
        if len(block):
            if self._last_t is None:
                self._first_t = float(block.t[0])
                if self._trouble is None:
                    self.recover(self._first_t)
                self._last_flush_t = self._last_live_t = float(block.t[0])
            elif float(block.t[-1]) - self._last_t > len(block) * self._frame_period + STALL_S:
                self._note_stall(block.t)
            events = self.pipeline.feed_block(block.t, block.raw)
            self.counters.frames += len(block)
            self._rate_window.append((float(block.t[-1]), len(block)))
            t = float(block.t[-1])
            previous = self._last_t if self._last_t is not None else float(block.t[0])
            self._account_time(previous, t)
            self._last_t = t
            for event in events:
                self._on_event(event)
            self._collect_sessions()
            self._update_alerts()
            if t - self._last_live_t >= self.live_s:
                self._write_live(t)
            if t - self._last_flush_t >= self.flush_s:
                self.flush(t)
        if time.monotonic() >= self._next_settings_poll:
            self._next_settings_poll = time.monotonic() + self.settings_poll_s
            self._poll_settings()
        return not getattr(self.source, "finished", False)

    def _note_stall(self, t: np.ndarray) -> None:
        """Frames stopped for more than STALL_S somewhere before or inside this
        block: the process was stopped (SIGSTOP, a debugger) or starved of CPU.
        Said once per stall, and the frames it cost are counted as dropped."""
        assert self._last_t is not None
        times = np.concatenate(([self._last_t], t))
        gaps = np.diff(times)
        for index in np.flatnonzero(gaps > STALL_S):
            gap = float(gaps[index])
            missed = max(0, round(gap / self._frame_period) - 1)
            self.counters.missed_frames += missed
            log.warning("no frames for %.1f s from %s (the daemon was stopped or starved of CPU): "
                        "about %d frames missed", gap, self.source.wall_of(float(times[index])).strftime("%H:%M:%S"),
                        missed)

    def finish(self) -> None:
        """Flush everything (the pipeline's open spans included) before exit.

        If that last batch cannot be written, one line says what is lost and
        why, and `lost` holds the same text.
        """
        if self._last_t is not None:
            for event in self.pipeline.finish():
                if event.type != "fault":  # a running fault is not over: only live knows it
                    self._on_event(event)
            self._collect_sessions(final=True)
            self.flush(self._last_t, final=True)
            if self._has_history():
                reason = str(self._trouble) if self._trouble is not None else "the history database is not open"
                self.lost = f"{self._pending_summary()} not saved: {reason}"
                log.error("history NOT saved at shutdown: %s", self.lost)
        if self.alerts is not None:
            self.alerts.set_away(True)

    # ---- events and alerts --------------------------------------------------

    def _account_time(self, t0: float, t1: float) -> None:
        seated = self.pipeline.presence.seated
        self.minutes.add_time(t1, t1 - t0, seated, self.pipeline.lat, self.pipeline.sag)

    def _on_event(self, event: Event) -> None:
        self._pending_events.append(event)
        self.minutes.add_event(event)
        kind = event.type
        if kind == "fidget":
            self._fidget_times.append(event.t)
        elif kind == "prompt":
            self._prompt(event.kind, event.t)
        elif kind in ("sit", "stand"):
            log.info("%s at %s", kind, self.source.wall_of(event.t).strftime("%H:%M:%S"))
        elif kind == "fault":
            log.warning("fault on %s (%s) from %s to %s", event.channel, event.reason,
                        self.source.wall_of(event.start).strftime("%H:%M:%S"),
                        self.source.wall_of(event.end).strftime("%H:%M:%S") if event.end is not None else "now")

    def _prompt(self, kind: str, t: float) -> None:
        wall = self.source.wall_of(t)
        allowed = self.gate.allow(kind, t)
        silenced = self.snooze.silenced_by(wall, self.quiet, self.config.alerts.buzzer_enabled)
        sound = allowed and silenced is None
        self._last_prompt_kind = kind
        log.info("prompt %s%s", kind, "" if sound else f" (silent: {silenced or 'too soon'})")
        if self.alerts is not None and allowed:
            self.alerts.prompt(kind, sound=sound)

    def _collect_sessions(self, final: bool = False) -> None:
        sessions = self.pipeline.sessions
        while self._sessions_seen < len(sessions):
            session = sessions[self._sessions_seen]
            self._sessions_seen += 1
            self._pending_sessions[session.start] = session
            if session.end is not None and not (final and session is sessions[-1]):
                self.gate.new_session()
                log.info("session %s - %s ended (%d prompts)", self.source.wall_of(session.start).strftime("%H:%M"),
                         self.source.wall_of(session.end).strftime("%H:%M"), len(session.prompts))
        tracker = self.pipeline.session_tracker
        if tracker.start is not None and not final:
            self._pending_sessions[tracker.start] = Session(tracker.start, None, tuple(tracker.prompts))

    def _update_alerts(self) -> None:
        if self.alerts is None:
            return
        state = {
            "away": not self.pipeline.presence.seated,
            "break_due": self.pipeline.prompts.break_due_active and self.pipeline.session_tracker.open,
            "fault": self.pipeline.faults.count > 0,
        }
        if state == self._led:
            return
        if state["break_due"] != self._led["break_due"]:
            self.alerts.set_break_due(state["break_due"])
        if state["fault"] != self._led["fault"]:
            self.alerts.set_fault(state["fault"])
        if state["away"] != self._led["away"]:
            self.alerts.set_away(state["away"])
        self._led = state

    def on_snooze(self) -> None:
        """Button pressed (called from gpiozero's thread)."""
        self._button.put("snooze")

    def on_mute(self) -> None:
        """Button held (called from gpiozero's thread)."""
        self._button.put("mute_day")

    def _handle_button(self) -> None:
        while True:
            try:
                action = self._button.get_nowait()
            except queue.Empty:
                return
            t = self._last_t if self._last_t is not None else 0.0
            now = self.source.wall_of(t)
            if action == "snooze":
                until = self.snooze.snooze(now, self.config.alerts.snooze_min)
            else:
                until = self.snooze.mute_day(now)
            self._pending_snoozes.append(Snooze(now, self._last_prompt_kind, until, action))
            if self.alerts is not None:
                self.alerts.stop_sound()
            log.info("%s until %s", action, until.strftime("%H:%M"))

    # ---- settings -----------------------------------------------------------

    def _poll_settings(self) -> None:
        if self.store is None:
            return
        try:
            version = self.store.settings_version()
        except StoreError as exc:
            self._disk_error(exc)
            return
        if version == self._settings_version:
            return
        self._settings_version = version
        config = self._merged_config()
        if config is None or config == self.config:
            return
        self.config = config
        self.pipeline.reconfigure(config)
        self.quiet = QuietHours.from_breaks(config.breaks)
        self.gate = PromptGate(config.breaks)
        self._settings_problem = None
        self._apply_alerts(config)
        self._report_settings_problem()
        log.info("settings changed: now in effect" if self._settings_problem is None
                 else "settings changed: in effect but for the buzzer, light and button")

    # ---- the buzzer, LED and button ------------------------------------------

    def _open_first_alerts(self) -> None:
        """The devices of the merged config; if the dashboard's settings name a
        pin that cannot be had, the config file's (an error there stops the start)."""
        assert self._open_alerts is not None
        try:
            self.alerts = self._open_alerts(self.config.alerts)
            return
        except CushionError as exc:
            if self.config.alerts == self.file_config.alerts:
                raise
            self._alerts_refused(exc, self.file_config.alerts)
        self.alerts = self._open_alerts(self.file_config.alerts)

    def _apply_alerts(self, config: Config) -> None:
        """Bring the buzzer, LED and button to `config`'s [alerts]: in place when
        no pin moves; else release the old pins and claim the new ones, and if
        that fails, take the old ones back and report it."""
        alerts = self.alerts
        if alerts is None or alerts.config == config.alerts:
            return
        if alerts.same_pins(config.alerts):
            alerts.apply(config.alerts)
            return
        if self._open_alerts is None:
            self._alerts_refused(CushionError("the daemon was started without a way to open other pins"),
                                 alerts.config)
            return
        previous = alerts.config
        alerts.close()
        self.alerts = None
        try:
            self.alerts = self._open_alerts(config.alerts)
            log.info("buzzer, light and button now on %s", _pins(config.alerts))
        except CushionError as exc:
            self._alerts_refused(exc, previous)
            try:
                self.alerts = self._open_alerts(previous)
            except CushionError as again:
                log.error("cannot take the previous buzzer, light and button back either: %s; "
                          "prompts are recorded and shown on the dashboard only", again)
        self._led = {"away": None, "break_due": None, "fault": None}    # show the state on the new devices
        self._update_alerts()

    def _alerts_refused(self, exc: CushionError, kept: AlertsConfig) -> None:
        self._settings_problem = (f"the buzzer, light and button settings could not be applied: {exc}; "
                                  f"the cushion keeps {_pins(kept)}")
        log.error("%s", self._settings_problem)
        # The config in effect says what the devices really are.
        self.config = dataclasses.replace(self.config, alerts=dataclasses.replace(
            self.config.alerts, **{name: getattr(kept, name) for name in PIN_SETTINGS}))

    def _report_settings_problem(self) -> None:
        """device_info "settings_problem": what the last settings version could not apply (None: all of it)."""
        if self.store is None:
            return
        problem = None if self._settings_problem is None else {
            "version": self._settings_version, "problem": self._settings_problem,
            "wall": datetime.now().astimezone().isoformat(timespec="seconds")}
        try:
            self.store.set_device_info({"settings_problem": problem})
        except StoreError as exc:
            self._disk_error(exc)

    # ---- writing --------------------------------------------------------------

    def live_status(self, t: float) -> dict:
        p = self.pipeline
        tracker = p.session_tracker
        nxt = p.prompts.next_due() if tracker.open else None
        while self._fidget_times and self._fidget_times[0] < t - 600:
            self._fidget_times.popleft()
        while self._rate_window and self._rate_window[0][0] < t - 5:
            self._rate_window.popleft()
        span = (self._rate_window[-1][0] - self._rate_window[0][0]) if len(self._rate_window) > 1 else 0
        frames = sum(n for _, n in list(self._rate_window)[1:])
        dropped = (int(getattr(self.source, "dropped", 0)) + int(getattr(self.source, "missing", 0))
                   + self.counters.missed_frames)
        window = self._loss_window
        if not window or window[-1][0] < t:
            window.append((t, self.counters.frames, dropped))
        while len(window) > 1 and window[0][0] < t - LOSS_WINDOW_S:
            window.popleft()
        wall = self.source.wall_of(t)
        muted = self.snooze.muted_until if self.snooze.is_muted(wall) else (
            self.snooze.snoozed_until if self.snooze.is_snoozed(wall) else None)
        half_w, half_d = p.config.geometry.width_mm / 2, p.config.geometry.depth_mm / 2
        return {
            "seated": p.presence.seated,
            "sitting_s": round(t - tracker.start, 1) if tracker.start is not None else 0.0,
            "next_prompt_kind": nxt[0] if nxt else None,
            "next_prompt_in_s": round(max(0.0, nxt[1] - t), 1) if nxt else None,
            "cop_x_mm": round(p.lat * half_w, 1) if p.lat is not None else None,
            "cop_y_mm": round(p.sag * half_d, 1) if p.sag is not None else None,
            "lat": round(p.lat, 3) if p.lat is not None else None,
            "sag": round(p.sag, 3) if p.sag is not None else None,
            "total_kg": round(p.total_kg, 2) if p.total_kg is not None else None,
            "fidgets_per_10min": len(self._fidget_times),
            "faults": [f.channel for f in p.faults.running()],
            "sample_rate_hz": round(frames / span, 1) if span > 0 else None,
            "dropped_frames": dropped,
            "recent_s": round(window[-1][0] - window[0][0], 1),
            "frames_recent": window[-1][1] - window[0][1],
            "dropped_recent": window[-1][2] - window[0][2],
            "break_due": bool(p.prompts.break_due_active and tracker.open),
            "muted_until_wall": muted.isoformat() if muted else None,
        }

    def _check_wall_clock(self, t: float) -> None:
        """Log a step of the wall clock (NTP setting a Pi without a real-time
        clock, a person changing it): stored rows are labelled by it, and a
        step back makes wall minutes come round twice (each holds at most 60 s)."""
        wall = self.source.wall_of(t)
        anchor = self._wall_anchor
        self._wall_anchor = (t, wall)
        if anchor is None:
            return
        step = (wall - anchor[1]).total_seconds() - (t - anchor[0])
        if abs(step) >= WALL_STEP_S:
            log.warning("the wall clock stepped %s by %.0f s (now %s); stored times follow it",
                        "back" if step < 0 else "forward", abs(step), wall.isoformat(timespec="seconds"))

    def _write_live(self, t: float) -> None:
        self._last_live_t = t
        self._check_wall_clock(t)
        if self._trouble is not None or self.store is None:
            return          # the batch's retries find out when the database is back
        if self._history_file_replaced():
            return
        try:
            self._write_device_info()
            # Stamped with the real clock, so the dashboard can tell a stopped daemon.
            self.store.set_live(self.live_status(t), wall=datetime.now().astimezone())
            self.counters.live_writes += 1
        except StoreError as exc:
            self._write_failed(exc)

    def flush(self, t: float, final: bool = False) -> None:
        """Write the history gathered since the last flush in one durable transaction.

        After a failed write it is retried here, every retry_s (at once when
        final), together with the live row.
        """
        self._last_flush_t = t
        for row in merge_minutes(list(self._pending_minutes.values()) + self.minutes.take()):
            self._pending_minutes[row.minute] = row
        history = self._has_history()
        if not history and self._trouble is None:
            return
        if self._trouble is None:
            self._history_file_replaced()
        store = self._usable_store(final)
        if store is None:
            self._bound_pending()
            return
        try:
            if final:
                store.set_busy_timeout(FINAL_BUSY_TIMEOUT_S)
            self._write_device_info()
            live = self.live_status(t) if self._trouble is not None else None
            store.write_batch(t, self.source.wall_of(t), events=self._pending_events,
                              sessions=list(self._pending_sessions.values()),
                              minutes=list(self._pending_minutes.values()), snoozes=self._pending_snoozes,
                              live=live, durable=True)
        except StoreError as exc:
            self._write_failed(exc)
            self.counters.failed_writes += 1
            self._bound_pending()
            return
        if history:
            self.counters.batches += 1
        self._pending_events = []
        self._pending_snoozes = []
        self._pending_sessions = {}
        self._pending_minutes = {}
        if self._trouble is not None:
            log.info("history saved again: %s can be written again (writes had failed since %s)",
                     store.path, self._trouble_since.strftime("%Y-%m-%d %H:%M:%S"))
            self._trouble = self._trouble_since = None

    def _history_file_replaced(self) -> bool:
        """The history file was deleted (or another moved to its path) while we
        ran: say so, and carry on in the file now at the path (a new one if
        none), so nothing more goes into a file nobody can see. True if it was."""
        store = self.store
        if store is None or not store.replaced():
            return False
        log.error("the history database %s was deleted or replaced while the daemon ran: what it held is gone; "
                  "carrying on in a new file at that path", store.path)
        try:
            store.start_afresh()
        except StoreError as exc:
            self._write_failed(exc)
            return True
        self._device_info = dict(self._device_info_given) if self._device_info_given else None
        self._settings_version = None           # that file's settings are gone too: re-read
        return True

    def _has_history(self) -> bool:
        return bool(self._pending_events or self._pending_sessions or self._pending_snoozes or self._pending_minutes)

    def _write_device_info(self) -> None:
        if self._device_info is not None and self.store is not None:
            self.store.set_device_info(self._device_info)
            self._device_info = None

    def _usable_store(self, now: bool = False) -> Store | None:
        """The store to write to; while writes fail, only every retry_s (or when
        ``now``), after opening the database again."""
        if self._trouble is None:
            return self.store
        if not now and time.monotonic() < self._next_retry:
            return None
        self._next_retry = time.monotonic() + self.retry_s
        try:
            if self.store is None:
                if self._open_store is None:
                    return None
                self.store = self._open_store()
            else:
                self.store.reconnect()
        except StoreError as exc:
            self._write_failed(exc)
            return None
        if not self._recovered and self._first_t is not None:
            self.recover(self._first_t)
            if not self._recovered:
                return None
        if self._settings_version is None:
            self._poll_settings()
        return self.store

    def _write_failed(self, exc: StoreError) -> None:
        if self._trouble is None:
            self._trouble_since = datetime.now().astimezone()
            self._next_retry = time.monotonic() + self.retry_s
        self._trouble = exc
        self._disk_error(exc)

    def _bound_pending(self) -> None:
        """Keep what waits for the disk within the MAX_PENDING_* bounds, dropping the oldest."""
        dropped = []
        if len(self._pending_events) > MAX_PENDING_EVENTS:
            n = len(self._pending_events) - MAX_PENDING_EVENTS
            del self._pending_events[:n]
            dropped.append(f"{n} events")
        if len(self._pending_minutes) > MAX_PENDING_MINUTES:
            keys = sorted(self._pending_minutes)[:len(self._pending_minutes) - MAX_PENDING_MINUTES]
            for key in keys:
                del self._pending_minutes[key]
            dropped.append(f"{len(keys)} minute rows")
        if len(self._pending_sessions) > MAX_PENDING_SESSIONS:
            keys = sorted(self._pending_sessions)[:len(self._pending_sessions) - MAX_PENDING_SESSIONS]
            for key in keys:
                del self._pending_sessions[key]
            dropped.append(f"{len(keys)} sessions")
        if len(self._pending_snoozes) > MAX_PENDING_SNOOZES:
            n = len(self._pending_snoozes) - MAX_PENDING_SNOOZES
            del self._pending_snoozes[:n]
            dropped.append(f"{n} button presses")
        if dropped:
            log.error("dropped the oldest unsaved history (%s): more than the memory keeps while the disk is "
                      "unavailable", ", ".join(dropped))

    def _pending_summary(self) -> str:
        return (f"{len(self._pending_events)} events, {len(self._pending_sessions)} sessions, "
                f"{len(self._pending_minutes)} minute rows and {len(self._pending_snoozes)} button presses")

    def _disk_error(self, exc: Exception) -> None:
        if time.monotonic() - self._disk_error_logged_at >= ERROR_LOG_S:
            log.error("history not saved (sampling and prompting go on; %s kept in memory, retrying every %g s): %s",
                      self._pending_summary(), self.retry_s, exc)
            self._disk_error_logged_at = time.monotonic()


def _pins(alerts: AlertsConfig) -> str:
    """The devices in words: "an active buzzer on GPIO17, a plain LED on GPIO27, a button on GPIO22"."""
    parts = []
    if alerts.buzzer != "none":
        parts.append(f"an {alerts.buzzer} buzzer on GPIO{alerts.buzzer_pin}")
    parts.append(f"a {alerts.led} LED on GPIO{alerts.led_pin}")
    parts.append(f"a button on GPIO{alerts.button_pin}" if alerts.button_pin != -1 else "no button")
    return ", ".join(parts)


def _short_json(value: Any, limit: int = 60) -> str:
    text = json.dumps(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _parse_wall(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.astimezone()

