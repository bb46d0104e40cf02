"""The cushion over TLS ([mqtt] tls, ca_file) to a real Mosquitto that takes TLS connections only.

The certificates are made here with the openssl command (a CA of our own and
a server certificate for 127.0.0.1 signed by it; a second CA that signed
nothing stands for the wrong ca_file).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from device.cli.local_broker import LocalBroker, mosquitto_path
from tests.mqtt.conftest import USERS, write_config
from tests.mqtt.test_cushion_mqtt import BASE, run_args, uids


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _make_ca(folder: Path, name: str) -> tuple[Path, Path]:
    key, cert = folder / f"{name}.key", folder / f"{name}.pem"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
             "-keyout", str(key), "-out", str(cert))  # fmt: skip
    return cert, key


@pytest.fixture()
def tls_broker(tmp_path):
    """A broker on 127.0.0.1 that speaks TLS only, its CA file, and a CA that did not sign it."""
    if mosquitto_path() is None or shutil.which("openssl") is None:
        pytest.skip("MOSQUITTO OR OPENSSL NOT INSTALLED: the TLS tests need a real broker and certificates")
    certs = tmp_path / "certs"
    certs.mkdir()
    ca, ca_key = _make_ca(certs, "cushion-test-ca")
    other_ca, _ = _make_ca(certs, "someone-elses-ca")
    key, request, cert = certs / "server.key", certs / "server.csr", certs / "server.pem"
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(request)
    )
    extensions = certs / "san.ext"
    extensions.write_text("subjectAltName = IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", str(request), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
             "-days", "2", "-extfile", str(extensions), "-out", str(cert))  # fmt: skip
    server = LocalBroker(tmp_path / "broker", USERS, tls=(cert, key))
    server.start()
    yield server, ca, other_ca
    server.stop()


def test_a_cushion_publishes_over_tls_with_the_brokers_ca(tmp_path, tls_broker, watcher_for, processes):
    broker, ca, _ = tls_broker
    config = write_config(tmp_path / "cushion.toml", broker, extra=f'tls = true\nca_file = "{ca}"\n')
    db = tmp_path / "history.db"
    daemon = processes(run_args(config, db, speed=60), tmp_path / "run.log")
    watcher = watcher_for(broker, ca_file=ca)
    watcher.wait_for(lambda ms: (f"{BASE}/availability", "online", False) in ms, says="online over TLS")
    watcher.wait_for(lambda ms: any(t == f"{BASE}/event" for t, _, _ in ms), timeout=60, says="an event over TLS")
    assert daemon.stop() == 0
    assert "WARNING" not in daemon.text(), daemon.text()
    assert set(watcher.on(f"{BASE}/event")) and uids(db)


@pytest.mark.parametrize(
    ("tls_settings", "said"),
    [
        ('tls = true\nca_file = "{other_ca}"\n', "its TLS certificate is not trusted"),
        ("", "TLS needed? see [mqtt] tls"),
    ],
    ids=["a CA that did not sign the broker's certificate", "tls off against a TLS-only broker"],
)
def test_a_tls_mismatch_is_one_line_that_says_what_to_check_and_sampling_goes_on(
    tmp_path, tls_broker, processes, tls_settings, said
):
    broker, _, other_ca = tls_broker
    config = write_config(tmp_path / "cushion.toml", broker, extra=tls_settings.format(other_ca=other_ca))
    db = tmp_path / "history.db"
    daemon = processes(run_args(config, db, speed=120, seconds=1200), tmp_path / "run.log")
    assert daemon.wait(timeout=60) == 0
    log = daemon.text()
    warnings = [line for line in log.splitlines() if "MQTT:" in line and "WARNING" in line]
    assert len(warnings) == 1 and said in warnings[0], log
    frames = int(log.split("stopped: ")[1].split(" frames")[0])
    assert frames >= 1200 * 80 * 0.99  # every frame of the 20 simulated minutes was read
    assert len(uids(db)) > 5  # and the history kept
