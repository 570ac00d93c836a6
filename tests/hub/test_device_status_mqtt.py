"""The retained device status on a real Mosquitto: a heartbeat over MQTT is receipted, is not published as an
alert, and updates deme/v1/devices/<id>/status; the watchdog's "silent" reaches the same topic."""
import json
import time
from pathlib import Path

import jsonschema
import pytest

from sim.broker import MosquittoBroker
from tests.hub.spine_fixtures import alert_text, make_config
from tests.hub.test_mqtt_broker import USERS, Client, RunningHub

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "schema" / "device-status.schema.json")
                    .read_text())


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    with MosquittoBroker(USERS, hub_users=("hub-test", "observer"),
                         workdir=tmp_path_factory.mktemp("mosquitto")) as b:
        yield b


def statuses(client):
    return [json.loads(p) for t, p in client.messages if t == "deme/v1/devices/W1/status"]


def wait_for(predicate, what, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def test_a_heartbeat_updates_the_retained_status_and_is_not_an_alert(broker, tmp_path):
    config = make_config(tmp_path)
    config = config.__class__(**{**config.__dict__, "mqtt_host": "127.0.0.1", "mqtt_port": broker.port,
                                 "mqtt_username": "hub-test", "mqtt_password": "hubpw", "console_port": 0})
    observer = Client(broker, "observer", "obspw")
    assert observer.connected.wait(10)
    observer.client.subscribe("deme/v1/#", qos=1)
    hub = RunningHub(config).start()
    try:
        assert hub.service.mqtt.connected.wait(10)
        # On connection the hub publishes every device's status: W1 was never heard.
        first = wait_for(lambda: statuses(observer), "the status on connection")[0]
        jsonschema.validate(first, SCHEMA)
        assert first["device"]["status"] == "unknown"

        w1 = Client(broker, "W1", "w1pw")
        assert w1.connected.wait(10)
        w1.publish("deme/v1/devices/W1/alerts", json.dumps({"v": 1, "msg": alert_text(21, event="HB")}))
        w1.stop()
        heard = wait_for(lambda: [s for s in statuses(observer) if s["device"]["last_event"] == "HB"],
                         "the status after the heartbeat")[0]
        jsonschema.validate(heard, SCHEMA)
        assert heard["device"]["status"] == "ok" and heard["device"]["battery"] == 80
        assert heard["device"]["last_via"] == "mqtt"
        store = hub.service.store
        [hb] = store.list_alerts(status_events=True)
        assert hb["event"] == "HB" and hb["state"] == "resolved"
        assert [m["kind"] for m in store.outbox()] == ["ack"]  # the receipt, no SMS to the contacts

        # The watchdog, asked about a time past the limit, publishes "silent" once.
        assert hub.service.liveness.check(time.time() + 3 * 3600) == [("device.silent", "W1")]
        silent = wait_for(lambda: [s for s in statuses(observer) if s["device"]["status"] == "silent"],
                          "the silent status")[0]
        jsonschema.validate(silent, SCHEMA)
        assert silent["hub"] == "test" and silent["device"]["silent_at"] is not None
    finally:
        hub.stop()
    # Retained: a subscriber that comes later gets the last status at once.
    late = Client(broker, "observer", "obspw")
    assert late.connected.wait(10)
    late.client.subscribe("deme/v1/devices/W1/status", qos=1)
    retained = wait_for(lambda: statuses(late), "the retained status")
    assert retained[-1]["device"]["status"] == "silent"
    # No heartbeat was ever published as an alert to integrators.
    assert [t for t, _ in observer.messages if t.startswith("deme/v1/hubs/test/alerts")] == []
    late.stop()
    observer.stop()
