"""What one hub takes from many cushions, through a real Mosquitto on a loopback port.

Like bench.bench_mqtt (device.cli.local_broker), this says so on a
`# bench_hub: skipped` line and exits 0 where Debian's mosquitto is missing;
Mosquitto's own CPU is never counted.

- hub_messages_per_s, hub_cpu_percent: `cushion hub` (device.mqtt.hub.Hub,
  in a process of its own) fed flat out by 500 simulated cushions: 4
  publisher processes, each a raw paho client publishing QoS 1 messages
  shaped as a cushion's (SPEC section 8: the section 5 keys, `id`, `wall`),
  each cushion's every fifth message its retained state, the others events
  (sit, fidget, lean, twist, slump, prompt, stand, in turn). Flat out is
  closed-loop: the publishers stay BACKLOG events ahead of what the hub has
  taken, so the hub never waits for work, yet they do not take the cores it
  needs (this machine may have two) for messages that would only pile up in
  the broker. Messages (events and states) the hub stored per second, and
  the CPU of its process over wall time, from the end of the first batch it
  stores in the window to the end of the last (whole batches: the hub counts
  a batch's messages all at once), the window WINDOW_S long after WARMUP_S
  of warm-up (BENCH_MQTT_HUB_S sets the window; the warm-up is no longer).
- hub_event_latency_p99_ms: detected -> stored, the hub's own measure (the
  event's wall plus detected_at - t, which the publishers stamp from the
  real clock as they publish, to the commit of its batch), p99 over the
  events of such a window with the publishers paced at the goal load, HUB_GOAL
  messages/s in all, open loop as cushions are: they never wait for the hub.
  The window starts once the hub has caught up with what piled up while it
  made the 500 databases (at most 1 s of messages waiting), or after
  CATCH_UP_S more. Under the flat-out load the latency is the backlog the
  publishers keep, by construction: a comment gives it. If the hub does not
  keep up with the goal load the figure grows with the window; a comment
  then gives the latency paced at 80 % of its flat-out rate.

A fresh broker and hub database for each hub run. BENCH_MQTT_PROFILE=FILE
writes a cProfile of the hub's thread in the flat-out run to FILE.
"""

from __future__ import annotations

import json
import logging
import math
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.bench_mqtt import USERS
from device.config import Config, Mqtt
from device.mqtt.hub import BATCH_MAX, Hub
from device.sim.sitter import DEMO_CALIBRATION

PREFIX = "smart-cushion"
CUSHIONS = 500
PUBLISHERS = 4
STATE_EVERY = 5  # every fifth message of a cushion is its state
BACKLOG = 2 * BATCH_MAX  # flat out: events published and not yet taken by the hub
MAX_UNACKED = 1000  # a publisher's messages handed to paho and not yet acknowledged by the broker
WARMUP_S = 10.0
CATCH_UP_S = 60.0  # paced: at most this long after the warm-up for the hub to have < 1 s of messages waiting
WINDOW_S = 30.0
HUB_GOAL = 2000.0
EVENT_CYCLE = ("sit", "fidget", "lean", "fidget", "twist", "fidget", "slump", "fidget", "prompt", "stand")


# ---- the hub under many cushions ----------------------------------------------------


class _TimedHub(Hub):
    """The hub, noting the end of each batch: (monotonic, CPU of the process, messages, events) then."""

    def __init__(self, config: Config, db_path: Path, taken: Any):
        super().__init__(config, db_path)
        self.taken = taken
        self.ends: list[tuple[float, float, int, int]] = []

    def _store(self, fleet: Any, batch: list) -> None:
        super()._store(fleet, batch)
        c = self.counters
        events = c.events_new + c.events_twice
        self.taken.value = events
        self.ends.append((time.monotonic(), time.process_time(), c.messages, events))


def _hub_process(port: int, password_file: str, db_path: str, profile: str, taken: Any, pipe: Any) -> None:
    """The hub in a process of its own; `taken` says how many events it has taken (for the publishers).

    Answers ("stop", t0, t1) with its figures over the batches that ended between t0 and t1
    (monotonic): from the end of the first to the end of the last, so a window holds whole batches.
    """
    logging.getLogger("cushion").setLevel(logging.ERROR)
    mqtt = Mqtt(host="127.0.0.1", port=port, username="hub", password_file=password_file)
    hub = _TimedHub(Config(calibration=DEMO_CALIBRATION, mqtt=mqtt), Path(db_path), taken)
    stop = threading.Event()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        target: Any = lambda: profiler.runcall(hub.run, stop)  # noqa: E731
    else:
        target = lambda: hub.run(stop)  # noqa: E731
    thread = threading.Thread(target=target, name="hub")
    thread.start()
    if not hub.link.connected.wait(10.0):
        pipe.send("the hub did not connect to the local broker within 10 s")
        stop.set()
        thread.join()
        return
    time.sleep(0.5)  # its subscriptions reach the broker
    pipe.send("ready")
    _, t0, t1 = pipe.recv()
    stop.set()
    thread.join()
    if profiler is not None:
        profiler.dump_stats(profile)
    c = hub.counters
    later = [end for end in hub.ends if end[0] >= t0]
    inside = [end for end in later if end[0] <= t1]
    if len(inside) < 2:  # batches longer than the window: take the next one too
        inside = later[:2]
    if len(inside) < 2:
        pipe.send({"batches": 0, "refused": c.refused})
        return
    first, last = inside[0], inside[-1]
    span = last[0] - first[0]
    latencies = list(c.latencies_s)
    base = c.events_new + c.events_twice - len(latencies)  # the number of the first one kept
    pipe.send(
        {
            "messages_per_s": (last[2] - first[2]) / span,
            "events_per_s": (last[3] - first[3]) / span,
            "cpu_percent": 100.0 * (last[1] - first[1]) / span,
            "batches": len(inside) - 1,
            "batch_size": (last[2] - first[2]) / (len(inside) - 1),
            "span_s": span,
            "latencies": sorted(latencies[max(0, first[3] - base) : max(0, last[3] - base)]),
            "refused": c.refused,
        }
    )


def _cushions_process(
    index: int,
    port: int,
    ids: list[str],
    rate: float | None,
    taken: Any,
    published: Any,
    sent: Any,
    go: Any,
    stop: Any,
    said: Any,
) -> None:
    """Raw paho publishing for `ids`: paced at `rate` messages/s, or flat out (BACKLOG events ahead of the hub)."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-cushions-{index}", protocol=paho.MQTTv311)
    client.username_pw_set("cushion", USERS["cushion"])
    client.max_inflight_messages_set(100)
    acked = [0]
    connected = threading.Event()

    def on_publish(client: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        acked[0] += 1

    client.on_publish = on_publish
    client.on_connect = lambda client, userdata, flags, reason, properties: connected.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    if not connected.wait(10.0):
        said.put((index, "did not connect"))
        return
    said.put((index, "ready"))
    go.wait()

    zone = datetime.now().astimezone().tzinfo
    origin = time.time() - 1000.0  # the cushions' frame clock: seconds since then
    counts = [0] * len(ids)
    events = messages = serial = 0
    turn = 0
    started = time.monotonic()
    while not stop.is_set():
        if rate is not None:
            due = int(rate * (time.monotonic() - started)) - messages
        else:
            due = min(200, BACKLOG - (sum(published) - taken.value))
        due = min(due, MAX_UNACKED - (messages - acked[0]))
        if due <= 0:
            time.sleep(0.002)
            continue
        for _ in range(due):
            which = turn % len(ids)
            turn += 1
            cushion, n = ids[which], counts[which]
            counts[which] += 1
            now = time.time()
            if n % STATE_EVERY == STATE_EVERY - 1:
                state = {
                    "seated": True,
                    "sitting_s": round(n * 0.3, 1),
                    "seated_today_s": round(3600 + n * 0.3, 1),
                    "sessions_today": 3,
                    "breaks_today": 2,
                    "break_due": False,
                    "next_prompt": {"kind": "move", "in_s": 600.0},
                    "lean": None,
                    "posture": None,
                    "fidgets_per_10min": 4,
                    "silenced": None,
                    "faults": [],
                    "reminders": True,
                    "break_after_min": 45,
                    "wall": datetime.fromtimestamp(now, zone).isoformat(timespec="seconds"),
                }
                client.publish(f"{PREFIX}/{cushion}/state", json.dumps(state), qos=1, retain=True)
            else:
                serial += 1
                kind = EVENT_CYCLE[(n - n // STATE_EVERY) % len(EVENT_CYCLE)]
                payload = _event(kind, now, origin, zone)
                payload["id"] = f"{index:02x}{serial:014x}"
                client.publish(f"{PREFIX}/{cushion}/event", json.dumps(payload), qos=1)
                events += 1
            messages += 1
        published[index] = events
        sent[index] = messages
    client.disconnect()
    client.loop_stop()


def _event(kind: str, detected: float, origin: float, zone: Any) -> dict[str, Any]:
    """A SPEC section 5 event detected now, its wall label as a cushion makes it (milliseconds, offset)."""
    lag = {"sit": 1.5, "stand": 1.5, "fidget": 0.6, "lean": 10.0, "twist": 3.1, "slump": 30.0, "prompt": 0.0}[kind]
    happened = math.floor((detected - lag) * 1000) / 1000
    t, at = round(happened - origin, 4), round(detected - origin, 4)
    event: dict[str, Any]
    if kind == "prompt":
        event = {"type": "prompt", "kind": "move", "t": t}
    elif kind in ("sit", "stand"):
        event = {"type": kind, "t": t, "detected_at": at}
    elif kind == "fidget":
        event = {"type": "fidget", "t": t, "size_mm": 28.0, "detected_at": at}
    elif kind in ("lean", "twist"):
        event = {"type": kind, "side": "left", "start": t, "end": at, "peak": 0.31, "detected_at": at}
    else:
        event = {"type": kind, "start": t, "end": at, "detected_at": at}
    event["wall"] = datetime.fromtimestamp(happened, zone).isoformat(timespec="milliseconds")
    return event


def hub_run(folder: Path, rate: float | None, warmup_s: float, window_s: float, profile: str = "") -> dict[str, Any]:
    """One hub under 500 cushions: flat out (rate None) or paced at `rate` messages/s in all."""
    from device.cli.local_broker import LocalBroker

    ctx = multiprocessing.get_context("spawn")
    folder.mkdir(parents=True, exist_ok=True)
    secret = folder / "hub.password"
    secret.write_text(USERS["hub"] + "\n")
    with LocalBroker(folder / "broker", USERS) as broker:
        taken = ctx.RawValue("q", 0)
        published = ctx.RawArray("q", PUBLISHERS)
        sent = ctx.RawArray("q", PUBLISHERS)
        go, stop, said = ctx.Event(), ctx.Event(), ctx.Queue()
        pipe, child_pipe = ctx.Pipe()
        hub = ctx.Process(
            target=_hub_process,
            args=(broker.port, str(secret), str(folder / "hub.db"), profile, taken, child_pipe),
            daemon=True,
        )
        hub.start()
        deadline = time.monotonic() + 60.0
        while not pipe.poll(0.2):
            if not hub.is_alive() or time.monotonic() > deadline:
                why = "no answer in 60 s" if hub.is_alive() else f"it exited with code {hub.exitcode}"
                raise SystemExit(f"bench_hub: the hub did not start: {why}")
        if (answer := pipe.recv()) != "ready":
            raise SystemExit(f"bench_hub: the hub did not start: {answer}")
        ids = [f"cushion-{i:04d}" for i in range(CUSHIONS)]
        per = None if rate is None else rate / PUBLISHERS
        publishers = [
            ctx.Process(
                target=_cushions_process,
                args=(i, broker.port, ids[i::PUBLISHERS], per, taken, published, sent, go, stop, said),
                daemon=True,
            )
            for i in range(PUBLISHERS)
        ]
        for p in publishers:
            p.start()
        for _ in publishers:
            index, what = said.get(timeout=60.0)
            if what != "ready":
                raise SystemExit(f"bench_hub: cushion publisher {index} {what}")
        go.set()
        time.sleep(warmup_s)
        caught_up: float | None = 0.0
        if rate is not None:  # the hub made 500 databases meanwhile: the window starts once it has caught up
            waited = time.monotonic()
            while sum(published) - taken.value > rate:
                if time.monotonic() - waited > CATCH_UP_S:
                    caught_up = None
                    break
                time.sleep(0.2)
            else:
                caught_up = time.monotonic() - waited
        t0, sent0 = time.monotonic(), sum(sent)
        time.sleep(window_s)
        t1, sent1, behind = time.monotonic(), sum(sent), sum(published) - taken.value
        stop.set()
        for p in publishers:
            p.join(timeout=30.0)
        pipe.send(("stop", t0, t1))
        result = pipe.recv() if pipe.poll(120.0) else {"batches": 0, "refused": 0}
        hub.join(timeout=30.0)
    if not result["batches"]:
        raise SystemExit(f"bench_hub: the hub stored fewer than two batches in {window_s:g} s")
    result["offered_per_s"] = (sent1 - sent0) / (t1 - t0)
    result["behind"] = behind  # events published and not yet taken, at the window's end
    result["caught_up"] = caught_up  # seconds waited after the warm-up; None: it did not catch up
    return result


def _p99_ms(latencies: list[float]) -> float:
    if not latencies:
        return math.nan
    return 1000.0 * latencies[min(len(latencies) - 1, math.ceil(0.99 * len(latencies)) - 1)]


def _kept_up(run: dict[str, Any]) -> bool:
    """Paced: the hub caught up after the warm-up and had at most 2 s of messages waiting at the end."""
    return run["caught_up"] is not None and run["behind"] <= 2 * run["offered_per_s"]


def _about(run: dict[str, Any]) -> str:
    lat = run["latencies"]
    median = 1000.0 * statistics.median(lat) if lat else math.nan
    return (
        f"{run['offered_per_s']:,.0f} messages/s offered, the hub took {run['messages_per_s']:,.0f} "
        f"({run['events_per_s']:,.0f} events/s, the rest states) at {run['cpu_percent']:.0f} % CPU "
        f"({run['messages_per_s'] / max(run['cpu_percent'], 1e-9) * 100:,.0f} per CPU-second) in "
        f"{run['batches']} batches of {run['batch_size']:,.0f} messages over {run['span_s']:.1f} s; "
        f"latency median {median:,.0f} ms, p99 {_p99_ms(lat):,.0f} ms over {len(lat):,} events; "
        f"{run['behind']:,} events waiting at the end"
        + (f"; {run['refused']} refused" if run["refused"] else "")
        + (
            ""
            if run["caught_up"] == 0.0
            else "; it never caught up with the warm-up's backlog"
            if run["caught_up"] is None
            else f"; it caught up {run['caught_up']:.1f} s after the warm-up"
        )
    )


def hub_figures(folder: Path, warmup_s: float, window_s: float) -> None:
    profile = os.environ.get("BENCH_MQTT_PROFILE", "")
    flat = hub_run(folder / "flat-out", None, warmup_s, window_s, profile)
    print(f"hub_messages_per_s: {flat['messages_per_s']:,.0f} messages/s")
    print(f"hub_cpu_percent: {flat['cpu_percent']:.0f} %")
    print(
        f"# flat out ({BACKLOG} events kept waiting), {CUSHIONS} cushions from {PUBLISHERS} processes: {_about(flat)}"
    )
    if profile:
        print(f"# the hub's thread profiled into {profile}")
    sys.stdout.flush()
    paced = hub_run(folder / "paced", HUB_GOAL, warmup_s, window_s)
    print(f"hub_event_latency_p99_ms: {_p99_ms(paced['latencies']):,.0f} ms")
    print(f"# paced at {HUB_GOAL:,.0f} messages/s: {_about(paced)}")
    if not _kept_up(paced):
        rate = 0.8 * flat["messages_per_s"]
        lower = hub_run(folder / "paced-lower", rate, warmup_s, window_s)
        print(f"# the hub fell behind the goal load; paced at 80 % of flat out instead: {_about(lower)}")


def main() -> None:
    from device.cli.local_broker import INSTALL_HINT, mosquitto_path

    logging.getLogger("cushion").setLevel(logging.ERROR)
    if mosquitto_path() is None:
        print(f"# bench_hub: skipped: mosquitto is not installed; {INSTALL_HINT}")
        return
    window_s = float(os.environ.get("BENCH_MQTT_HUB_S", str(WINDOW_S)))
    with tempfile.TemporaryDirectory() as folder:
        hub_figures(Path(folder), min(WARMUP_S, window_s), window_s)


if __name__ == "__main__":
    main()
