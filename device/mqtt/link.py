"""The connection to the broker: paho-mqtt in its own thread, so nothing waits for the network.

`BrokerLink` connects in the background (loop_start), with the options of
[mqtt]: TLS, a user name and the password read from `password_file`, a
last will; it reconnects by itself with a growing delay (1 s up to 2 min).
The log says once that the broker cannot be reached (or refused the
password) and once that it is back. Publishing never blocks: paho queues the
message and its thread sends it.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from device.config import Mqtt
from device.errors import CushionError

log = logging.getLogger("cushion")

RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 120
KEEPALIVE_S = 30


def read_password(mqtt: Mqtt) -> str | None:
    """The password from `password_file` (its first line), None without one; CushionError naming the file."""
    if not mqtt.password_file:
        return None
    path = Path(mqtt.password_file).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise CushionError(f"[mqtt] password_file {path}: cannot read: {reason}") from None
    lines = text.splitlines()
    return lines[0] if lines else ""


class BrokerLink:
    """One MQTT client, connected in the background.

    client_id: the broker's name for this client ("" lets paho pick one;
    a persistent session needs a fixed one). clean_session: False keeps
    the subscriptions and the messages for it while it is away (the hub).
    will: (topic, payload) published, retained, by the broker if this
    client vanishes. on_connected(link): after every (re)connect, from
    paho's thread: subscribe and announce there. on_message(topic, payload,
    ack), on_published(mid): from paho's thread too. manual_ack: a QoS 1
    message is acknowledged to the broker only when ack() is called (from
    any thread), so the broker delivers it again if this client dies first;
    otherwise ack does nothing (paho acknowledges on arrival).
    """

    def __init__(
        self,
        mqtt: Mqtt,
        *,
        client_id: str = "",
        clean_session: bool = True,
        will: tuple[str, str] | None = None,
        on_connected: Callable[[BrokerLink], object] | None = None,
        on_message: Callable[[str, bytes, Callable[[], None]], object] | None = None,
        on_published: Callable[[int], object] | None = None,
        manual_ack: bool = False,
    ):
        self.mqtt = mqtt
        self.connected = threading.Event()
        self._on_connected = on_connected
        self._on_message = on_message
        self._on_published = on_published
        self._trouble_said = False
        self._ever_connected = False
        password = read_password(mqtt)
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            protocol=paho.MQTTv311,
            reconnect_on_failure=True,
            manual_ack=manual_ack,
        )
        self._manual_ack = manual_ack
        if mqtt.username or password is not None:
            client.username_pw_set(mqtt.username or None, password)
        if mqtt.tls:
            try:
                client.tls_set(ca_certs=mqtt.ca_file or None, cert_reqs=ssl.CERT_REQUIRED)
            except (OSError, ssl.SSLError, ValueError) as exc:
                raise CushionError(f"[mqtt] ca_file {mqtt.ca_file}: cannot use it for TLS: {exc}") from None
        if will is not None:
            client.will_set(will[0], will[1], qos=1, retain=True)
        client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        client.max_inflight_messages_set(100)
        client.on_connect = self._connected
        client.on_disconnect = self._disconnected
        client.on_connect_fail = self._connect_failed
        client.on_message = self._message
        client.on_publish = self._published
        self.client = client

    def start(self) -> None:
        """Connect in the background; returns at once."""
        self.client.connect_async(self.mqtt.host, self.mqtt.port, keepalive=KEEPALIVE_S)
        self.client.loop_start()

    def stop(self, farewell: tuple[str, str] | None = None, wait_s: float = 2.0) -> None:
        """Disconnect (first publishing `farewell`, retained, if connected) and stop the thread."""
        if farewell is not None and self.connected.is_set():
            info = self.client.publish(farewell[0], farewell[1], qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=wait_s)
            except (RuntimeError, ValueError):
                pass
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: str | bytes, *, qos: int = 1, retain: bool = False) -> int | None:
        """Hand a message to paho (never blocks); its mid, or None if paho refused it."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != paho.MQTT_ERR_SUCCESS and info.rc != paho.MQTT_ERR_NO_CONN:
            return None
        return info.mid

    def subscribe(self, topics: list[str], qos: int = 1) -> None:
        self.client.subscribe([(topic, qos) for topic in topics])

    # ---- paho's thread ---------------------------------------------------------

    def _connected(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self._say_trouble(
                f"the broker {self._where()} refused the connection: {reason}"
                + ("; check [mqtt] username and password_file" if _is_auth(reason) else "")
            )
            return
        if self._trouble_said or not self._ever_connected:
            log.info("MQTT: connected to %s", self._where())
        self._trouble_said = False
        self._ever_connected = True
        self.connected.set()
        if self._on_connected is not None:
            try:
                self._on_connected(self)
            except Exception:  # paho's thread must go on
                log.exception("MQTT: handling the connection failed")

    def _disconnected(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        was_connected = self.connected.is_set()
        self.connected.clear()
        if not reason.is_failure:
            return
        if was_connected:
            self._say_trouble(f"lost the connection to the broker {self._where()} ({reason}); reconnecting")
        elif not self._trouble_said:  # closed before it answered (plain MQTT to a TLS-only port does this)
            self._say_trouble(
                f"the broker {self._where()} closed the connection before accepting it: {self._why_not()}; "
                f"retrying, at most every {RECONNECT_MAX_S} s (sampling and prompting go on)"
            )

    def _connect_failed(self, client: paho.Client, userdata: Any) -> None:
        self.connected.clear()
        if not self._trouble_said:  # paho does not say why: find out once per outage
            self._say_trouble(
                f"cannot reach the broker {self._where()}: {self._why_not()}; retrying, at most every "
                f"{RECONNECT_MAX_S} s (sampling and prompting go on)"
            )

    def _why_not(self) -> str:
        """Why a connection cannot be made: the socket's or the TLS handshake's own words."""
        try:
            sock = socket.create_connection((self.mqtt.host, self.mqtt.port), timeout=3.0)
        except OSError as exc:
            return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        try:
            if not self.mqtt.tls:
                return "it takes connections, but not this client's (TLS needed? see [mqtt] tls)"
            context = ssl.create_default_context(cafile=self.mqtt.ca_file or None)
            with context.wrap_socket(sock, server_hostname=self.mqtt.host):
                return "the TLS handshake works now; it failed a moment ago"
        except ssl.SSLCertVerificationError as exc:
            return f"its TLS certificate is not trusted: {exc.verify_message} (check [mqtt] ca_file and host)"
        except (ssl.SSLError, OSError) as exc:
            return f"TLS failed: {getattr(exc, 'reason', None) or exc} (is port {self.mqtt.port} a TLS port?)"
        finally:
            sock.close()

    def _message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        if self._on_message is not None:
            try:
                if self._manual_ack and message.qos > 0:
                    mid, qos = message.mid, message.qos

                    def ack() -> None:
                        self.client.ack(mid, qos)
                else:
                    ack = _nothing
                self._on_message(message.topic, bytes(message.payload), ack)
            except Exception:
                log.exception("MQTT: handling a message on %s failed", message.topic)

    def _published(self, client: paho.Client, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        if self._on_published is not None:
            self._on_published(mid)

    def _say_trouble(self, text: str) -> None:
        if not self._trouble_said:
            log.warning("MQTT: %s", text)
            self._trouble_said = True

    def _where(self) -> str:
        return f"{self.mqtt.host}:{self.mqtt.port}"


def _nothing() -> None:
    pass


def _is_auth(reason: Any) -> bool:
    return getattr(reason, "value", None) in (4, 5, 134, 135)  # bad user name or password, not authorised
