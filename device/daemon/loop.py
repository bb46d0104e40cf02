"""`cushion run`: the live loop that samples, detects, prompts and keeps the history.

The loop reads what the frame source produced since the last step (about
0.1 s of frames), feeds the pipeline (the same one replay uses, frame for
frame), acts on its events (buzzer, LED) and hands the history to its
HistoryWriter (device.daemon.history_writer: batches, retries, bounds),
which never stops the loop whatever the disk does.

Timing uses the frame clock (time.monotonic on the Pi); the wall clock, which
jumps when a Pi without RTC syncs NTP, only labels stored rows.

Settings from the dashboard that do not validate (or are not even JSON) are
logged and ignored one by one (device.daemon.settings_watch). Snooze, mute and
resume come from the button, the dashboard and MQTT alike
(device.daemon.silence); sessions a crash left open are dealt with by
device.daemon.recovery; stalls and wall-clock steps are logged by
device.daemon.clock_watch.

With MQTT on (device.mqtt.publisher), the loop offers its live values to the
publisher once a second, writes a history batch within MQTT_FLUSH_S of an
event (the batch is the publisher's outbox) and takes the broker's commands
between frames; the network itself is the publisher's threads' business.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from device.config import Alerts as AlertsConfig
from device.config import Config
from device.core.events import Event, Fault, Fidget, Prompt, Session, Sit, Stand
from device.core.minutes import MinuteAccumulator
from device.core.pipeline import Pipeline
from device.core.quiet import PromptGate, SnoozeState
from device.daemon import systemd
from device.daemon.alert_devices import AlertDevices
from device.daemon.clock_watch import ClockWatch
from device.daemon.history_writer import BUSY_TIMEOUT_S, RETRY_S, HistoryWriter, WriteCounters
from device.daemon.live_row import LiveRow, mqtt_state
from device.daemon.recovery import recover_left_open
from device.daemon.settings_watch import SettingsWatch
from device.daemon.silence import BuzzerSilence
from device.storage.store import Snooze, Store, StoreError

__all__ = ["BUSY_TIMEOUT_S", "Daemon", "DaemonCounters"]

log = logging.getLogger("cushion")

MQTT_FLUSH_S = 0.5  # with MQTT on, events are stored (and so published) this soon


@dataclass(slots=True)
class DaemonCounters(WriteCounters):
    """The writer's counts (batches, live writes, failed writes) and the loop's."""

    steps: int = 0
    frames: int = 0
    missed_frames: int = 0  # frames the sensor would have given while the daemon was stopped or starved


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
    mqtt: a device.mqtt.publisher.Publisher (started and stopped by the
    caller), or None: MQTT off. Its commands come in through `on_command`.
    """

    def __init__(
        self,
        file_config: Config,
        store: Store | None,
        source,
        alerts=None,
        *,
        flush_s: float = 5.0,
        live_s: float = 1.0,
        settings_poll_s: float = 1.0,
        open_store: Callable[[], Store] | None = None,
        device_info: Mapping[str, Any] | None = None,
        retry_s: float = RETRY_S,
        open_alerts: Callable[[AlertsConfig], Any] | None = None,
        mqtt: Any = None,
    ):
        self.file_config = file_config
        self.source = source
        self.devices = AlertDevices(alerts, open_alerts)
        self.flush_s = flush_s
        self.live_s = live_s
        self.settings_poll_s = settings_poll_s
        self.counters = DaemonCounters()
        self.lost: str | None = None  # set by finish() when the last history could not be saved
        self.history = HistoryWriter(
            store,
            open_store=open_store,
            device_info=device_info,
            retry_s=retry_s,
            on_reopened=self._reopened,
            on_new_file=self._new_history_file,
            counters=self.counters,
        )
        self.settings = SettingsWatch(self.history, file_config)
        self.config = self.settings.merged() or self.file_config
        self.pipeline = Pipeline(self.config)
        self.minutes = MinuteAccumulator(source.wall_of)
        self.silence = BuzzerSilence(self.config.breaks)
        self.gate = PromptGate(self.config.breaks)
        self._button: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.mqtt = mqtt
        self._commands: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._sessions_seen = 0
        self._last_flush_t: float | None = None
        self._last_live_t: float | None = None
        self._last_t: float | None = None
        self._next_settings_poll = 0.0
        self.live = LiveRow()
        self._last_prompt_kind = "any"
        self._stood_at: float | None = None  # frame time of the last stand-up while away
        self._recovered = False
        self._first_t: float | None = None
        self.clocks = ClockWatch(1.0 / file_config.sensor.rate_hz, source.wall_of)
        if alerts is None and open_alerts is not None:
            effective = self.devices.open_first(self.config.alerts, self.file_config.alerts)
        else:
            effective, _ = self.devices.apply(self.config.alerts)
        self.config = dataclasses.replace(self.config, alerts=effective)
        if self.devices.problem is not None:
            self.settings.report_problem(self.devices.problem)

    @property
    def alerts(self) -> Any:
        """The buzzer, LED and button (device.hardware.alerts.Alerts), or None."""
        return self.devices.alerts

    @property
    def snooze(self) -> SnoozeState:
        """The snooze and mute state, whoever set it."""
        return self.silence.snooze

    @property
    def store(self) -> Store | None:
        """The history database (None while it cannot be opened)."""
        return self.history.store

    # ---- set-up -------------------------------------------------------------

    def recover(self, first_t: float) -> None:
        """Deal with sessions an earlier run left open (device.daemon.recovery).

        Called with the first frame, or, if the database could not be read
        then, once it can: by then this run has its own session, so the old
        ones are only closed.
        """
        if self.store is None:
            return
        late = self._last_t is not None and self._last_t > first_t
        try:
            recover_left_open(
                self.store,
                self.pipeline,
                first_t,
                self.source.wall_of(first_t),
                self.config.breaks.break_min_s,
                carry_on=not late,
            )
        except StoreError as exc:
            self.history.write_failed(exc)
            return
        self._recovered = True

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
        self._handle_commands()
        if len(block):
            if self._last_t is None:
                self._first_t = float(block.t[0])
                if self.history.trouble is None:
                    self.recover(self._first_t)
                self._last_flush_t = self._last_live_t = float(block.t[0])
            elif self.clocks.stalled(self._last_t, block.t):
                self.counters.missed_frames += self.clocks.missed_frames(self._last_t, block.t)
            events = self.pipeline.feed_block(block.t, block.raw)
            self.counters.frames += len(block)
            self.live.frames_read(float(block.t[-1]), len(block))
            t = float(block.t[-1])
            previous = self._last_t if self._last_t is not None else float(block.t[0])
            self._account_time(previous, t)
            self._last_t = t
            for event in events:
                self._on_event(event)
            self._collect_sessions()
            self._update_alerts()
            assert self._last_live_t is not None and self._last_flush_t is not None
            if t - self._last_live_t >= self.live_s:
                self._write_live(t)
            if t - self._last_flush_t >= self.flush_s or (
                self.mqtt is not None and self.history.has_events() and t - self._last_flush_t >= MQTT_FLUSH_S
            ):
                self.flush(t)
        if time.monotonic() >= self._next_settings_poll:
            self._next_settings_poll = time.monotonic() + self.settings_poll_s
            self._poll_settings()
            self._take_silence_requests()
        return not getattr(self.source, "finished", False)

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
            self.lost = self.history.lost()
            if self.lost is not None:
                log.error("history NOT saved at shutdown: %s", self.lost)
        if self.alerts is not None:
            self.alerts.set_away(True)

    # ---- events and alerts --------------------------------------------------

    def _account_time(self, t0: float, t1: float) -> None:
        seated = self.pipeline.presence.seated
        self.minutes.add_time(t1, t1 - t0, seated, self.pipeline.lat, self.pipeline.sag)

    def _on_event(self, event: Event) -> None:
        self.history.add_event(event)
        self.minutes.add_event(event)
        if isinstance(event, Fidget):
            self.live.fidget(event.t)
        elif isinstance(event, Prompt):
            self._prompt(event.kind, event.t)
        elif isinstance(event, Sit | Stand):
            self._stood_at = event.t if isinstance(event, Stand) else None
            log.info("%s at %s", event.type, self.source.wall_of(event.t).strftime("%H:%M:%S"))
        elif isinstance(event, Fault):
            log.warning(
                "fault on %s (%s) from %s to %s",
                event.channel,
                event.reason,
                self.source.wall_of(event.start).strftime("%H:%M:%S"),
                self.source.wall_of(event.end).strftime("%H:%M:%S") if event.end is not None else "now",
            )

    def _prompt(self, kind: str, t: float) -> None:
        wall = self.source.wall_of(t)
        allowed = self.gate.allow(kind, t)
        silenced = self.silence.silenced_by(wall, self.config.alerts.buzzer_enabled)
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
            self.history.add_session(session)
            if session.end is not None and not (final and session is sessions[-1]):
                self.gate.new_session()
                log.info(
                    "session %s - %s ended (%d prompts)",
                    self.source.wall_of(session.start).strftime("%H:%M"),
                    self.source.wall_of(session.end).strftime("%H:%M"),
                    len(session.prompts),
                )
        tracker = self.pipeline.session_tracker
        if tracker.start is not None and not final:
            self.history.add_session(Session(tracker.start, None, tuple(tracker.prompts)))

    def _update_alerts(self) -> None:
        pipeline = self.pipeline
        self.devices.show(
            away=not pipeline.presence.seated,
            break_due=bool(pipeline.prompts.break_due_active and pipeline.session_tracker.open),
            fault=pipeline.faults.count > 0,
        )

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
            self._silence(action, self.config.alerts.snooze_min, "")

    def _silence(self, action: str, minutes: float, asked_by: str) -> datetime | None:
        """Snooze, mute for the day or resume (device.daemon.silence.ACTIONS) as asked by the button
        (asked_by ""), the dashboard or MQTT: the snooze is stored and a sounding buzzer stops."""
        now = self.source.wall_of(self._last_t if self._last_t is not None else 0.0)
        until = self.silence.ask(action, now, minutes)
        if until is not None:
            self.history.add_snooze(Snooze(now, self._last_prompt_kind, until, action))
            if self.alerts is not None:
                self.alerts.stop_sound()
        log.info("%s%s%s", action, asked_by and f" {asked_by}", f" until {until:%H:%M}" if until is not None else "")
        return until

    # ---- requests from the dashboard and MQTT ----------------------------------

    def on_command(self, command: Any) -> None:
        """A device.mqtt.publisher.Command (called from paho's thread)."""
        self._commands.put(command)

    def _handle_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            if command.kind == "snooze":
                self._snooze_command(command.minutes)
            else:
                self._set_command(command.settings)

    def _take_silence_requests(self) -> None:
        """Snooze / Mute / Resume asked for on the dashboard: the same state the button sets,
        taken here once a second; the live row shows it at once."""
        if self.store is None or self._last_t is None:
            return
        try:
            requests = self.store.pending_silence_requests()
        except StoreError as exc:
            self.history.disk_error(exc)
            return
        if not requests:
            return
        for request in requests:
            minutes = float(request["minutes"] or self.config.alerts.snooze_min)
            until = self._silence(request["action"], minutes, "from the dashboard")
            try:
                self.store.silence_request_taken(request["id"], until)
            except StoreError as exc:
                self.history.disk_error(exc)
                return
        self._write_live(self._last_t)

    def silenced(self, wall: datetime) -> tuple[str | None, datetime | None]:
        """Why the buzzer stays silent at `wall` (quiet_hours, snoozed, muted, disabled) and until when."""
        return self.silence.why(wall, self.config.alerts.buzzer_enabled)

    def _snooze_command(self, minutes: float | None) -> None:
        if minutes == 0:
            self._silence("end_snooze", 0, "by MQTT")
            self.mqtt.result("snooze", True, "snooze ended", snoozed_until=None)
            return
        until = self._silence("snooze", self.config.alerts.snooze_min if minutes is None else minutes, "by MQTT")
        assert until is not None
        self.mqtt.result(
            "snooze",
            True,
            f"snoozed until {until.strftime('%H:%M')}",
            snoozed_until=until.isoformat(timespec="seconds"),
        )

    def _set_command(self, wanted: dict[str, Any]) -> None:
        """Settings from MQTT, stored as the dashboard's are: the settings poll applies them."""
        saved, answer = self.settings.store_wanted(wanted)
        self.mqtt.result("set", saved, answer, **({"settings": wanted} if saved else {}))

    # ---- settings -----------------------------------------------------------

    def _poll_settings(self) -> None:
        config = self.settings.changed(self.config)
        if config is None:
            return
        self.pipeline.reconfigure(config)
        self.silence.reconfigure(config.breaks)
        self.gate = PromptGate(config.breaks)
        effective, replaced = self.devices.apply(config.alerts)
        self.config = dataclasses.replace(config, alerts=effective)
        if replaced:
            self._update_alerts()
        self.settings.report_problem(self.devices.problem)
        log.info(
            "settings changed: now in effect"
            if self.devices.problem is None
            else "settings changed: in effect but for the buzzer, light and button"
        )

    # ---- writing --------------------------------------------------------------

    def live_status(self, t: float) -> dict:
        """The live row at frame time t (device.daemon.live_row)."""
        dropped = (
            int(getattr(self.source, "dropped", 0))
            + int(getattr(self.source, "missing", 0))
            + self.counters.missed_frames
        )
        wall = self.source.wall_of(t)
        values = self.live.values(t, self.pipeline, self.snooze, wall, self.counters.frames, dropped)
        reason, until = self.silenced(wall)
        values["silenced"] = reason
        values["silenced_until_wall"] = until
        seated = self.pipeline.presence.seated
        values["away_s"] = round(t - self._stood_at, 1) if not seated and self._stood_at is not None else None
        return values

    def _write_live(self, t: float) -> None:
        self._last_live_t = t
        self.clocks.check_wall_clock(t)
        # Stamped with the real clock, so the dashboard can tell a stopped daemon.
        if self.mqtt is None:
            self.history.write_live(lambda: self.live_status(t), datetime.now().astimezone())
            return
        values = self.live_status(t)
        self.history.write_live(lambda: values, datetime.now().astimezone())
        self.mqtt.offer(mqtt_state(values, self.pipeline, self.config))

    def flush(self, t: float, final: bool = False) -> None:
        """Hand the history since the last flush to the writer, which writes it in one durable
        transaction (or keeps it, and retries every retry_s, while the disk will not take it)."""
        self._last_flush_t = t
        self.history.add_minutes(self.minutes.take())
        self.history.flush(t, self.source.wall_of(t), lambda: self.live_status(t), final=final)
        if self.mqtt is not None:
            self.mqtt.history_written()

    def _reopened(self, store: Store) -> bool:
        """The database is open again after a failure: do what could not be done without it."""
        if not self._recovered and self._first_t is not None:
            self.recover(self._first_t)
            if not self._recovered:
                return False
        if self.settings.version is None:
            self._poll_settings()
        return True

    def _new_history_file(self) -> None:
        self.settings.version = None  # that file's settings are gone too: re-read
