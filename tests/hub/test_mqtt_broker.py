"""MQTT through a real Mosquitto on a free loopback port: credentials and ACLs, alerts in both directions
committed before they are acknowledged, and a burst that Debian's default broker settings would have cut."""
import asyncio
import json
import threading
import time
from pathlib import Path

import jsonschema
import paho.mqtt.client as mqtt
import pytest

from hub.service import HubService
from sim.broker import MosquittoBroker
from tests.hub.spine_fixtures import alert_text, make_config

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schema"
USERS = {"hub-test": "hubpw", "observer": "obspw", "W1": "w1pw", "W2": "w2pw"}


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    with MosquittoBroker(USERS, hub_users=("hub-test", "observer"),
                         workdir=tmp_path_factory.mktemp("mosquitto")) as b:
        yield b


class Client:
    """A paho client that records what it receives."""

    def __init__(self, broker, user, password, client_id=None, clean=True):
        self.messages = []
        # Whether the broker marked each message a redelivery (DUP): its own retry, not a second publication.
        self.redelivered = []
        self.connected = threading.Event()
        self.refused = None
        self.cond = threading.Condition()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or f"t-{user}-{time.time()}",
                                  clean_session=clean)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)  # back soon after a test restarts the broker
        if user:
            self.client.username_pw_set(user, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def _on_connect(self, client, userdata, flags, reason, props):
        if reason.is_failure:
            self.refused = reason
        self.connected.set()

    def _on_message(self, client, userdata, message):
        with self.cond:
            self.messages.append((message.topic, message.payload))
            self.redelivered.append(bool(message.dup))
            self.cond.notify_all()

    def wait_messages(self, count, timeout=30):
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.messages) < count and time.monotonic() < deadline:
                self.cond.wait(deadline - time.monotonic())
            return list(self.messages)

    def publish(self, topic, payload, timeout=10):
        """Publish QoS 1 and wait for the PUBACK. paho calls on_connect before it marks itself connected, so wait
        for that first: a publish in between is queued but reported as "not connected"."""
        deadline = time.monotonic() + timeout
        while not self.client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.02)
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout)
        return info

    def stop(self):
        self.client.disconnect()
        self.client.loop_stop()


def test_anonymous_and_wrong_password_are_refused(broker):
    for user, password in ((None, None), ("W1", "wrong")):
        client = Client(broker, user, password)
        assert client.connected.wait(10)
        assert client.refused is not None
        client.stop()


def test_a_device_cannot_publish_as_another_device(broker):
    observer = Client(broker, "observer", "obspw")
    assert observer.connected.wait(10)
    observer.client.subscribe("deme/v1/devices/#", qos=1)
    time.sleep(0.3)
    spoofer = Client(broker, "W1", "w1pw")
    assert spoofer.connected.wait(10) and spoofer.refused is None
    # The broker may drop the connection of a client that publishes where it may not: publish, don't insist.
    spoofer.client.publish("deme/v1/devices/W2/alerts", b"spoof", qos=1)
    time.sleep(0.5)
    spoofer.stop()
    w1 = Client(broker, "W1", "w1pw")
    assert w1.connected.wait(10) and w1.refused is None
    w1.publish("deme/v1/devices/W1/alerts", b"mine")
    received = observer.wait_messages(1)
    time.sleep(0.5)
    topics = [t for t, _ in observer.messages]
    assert topics == ["deme/v1/devices/W1/alerts"]
    assert received[0][1] == b"mine"
    w1.stop()
    observer.stop()


def test_a_burst_beyond_debians_default_queue_reaches_a_slow_subscriber(broker):
    # Debian's mosquitto keeps 1000 queued QoS 1 messages per client and drops the rest; ours keeps all.
    burst = 3000
    slow = Client(broker, "observer", "obspw", client_id="slow-subscriber", clean=False)
    assert slow.connected.wait(10)
    slow.client.subscribe("deme/v1/hubs/burst/alerts", qos=1)
    time.sleep(0.3)
    slow.stop()  # offline: everything must be queued for it
    publisher = Client(broker, "hub-test", "hubpw")
    assert publisher.connected.wait(10)
    infos = [publisher.client.publish("deme/v1/hubs/burst/alerts", str(i).encode(), qos=1) for i in range(burst)]
    for info in infos:
        info.wait_for_publish(30)
    publisher.stop()
    back = Client(broker, "observer", "obspw", client_id="slow-subscriber", clean=False)
    received = back.wait_messages(burst, timeout=60)
    back.stop()
    assert sorted(int(p) for _, p in received) == list(range(burst))


class RunningHub:
    def __init__(self, config):
        self.service = HubService(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.stop_event = asyncio.Event()
        self.loop.run_until_complete(self.service.run(self.stop_event))

    def start(self):
        self.thread.start()
        deadline = time.monotonic() + 10
        while not (hasattr(self, "stop_event") and self.service.ready.is_set()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def stop(self):
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(15)


def test_hub_stores_a_device_mqtt_alert_and_publishes_it_with_the_schema(broker, tmp_path):
    config = make_config(tmp_path)
    config = config.__class__(**{**config.__dict__, "mqtt_host": "127.0.0.1", "mqtt_port": broker.port,
                                 "mqtt_username": "hub-test", "mqtt_password": "hubpw", "console_port": 0})
    observer = Client(broker, "observer", "obspw")
    assert observer.connected.wait(10)
    observer.client.subscribe("deme/v1/hubs/test/alerts", qos=1)
    hub = RunningHub(config).start()
    try:
        assert hub.service.mqtt.connected.wait(10)
        w1 = Client(broker, "W1", "w1pw")
        assert w1.connected.wait(10)
        w1.client.publish("deme/v1/devices/W1/alerts", json.dumps({"v": 1, "msg": alert_text(7)}), qos=1)
        w1.client.publish("deme/v1/devices/W1/alerts", b"{not json", qos=1)
        [(topic, payload)] = observer.wait_messages(1)
        w1.stop()
        message = json.loads(payload)
        jsonschema.validate(message, json.loads((SCHEMAS / "hub-alert.schema.json").read_text()))
        assert message["alert"]["device_id"] == "W1" and message["alert"]["counter"] == 7
        assert message["alert"]["via"] == "mqtt"
        store = hub.service.store
        deadline = time.monotonic() + 10
        while len(store.rejected()) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "not JSON" in store.rejected()[0]["reason"]
        [alert] = store.list_alerts()
        deadline = time.monotonic() + 10
        while "mqtt.published" not in [h["hop"] for h in store.hops(alert["id"])] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "mqtt.published" in [h["hop"] for h in store.hops(alert["id"])]
    finally:
        hub.stop()
        observer.stop()


def test_device_message_schema_accepts_the_sms_text():
    schema = json.loads((SCHEMAS / "device-message.schema.json").read_text())
    jsonschema.validate({"v": 1, "msg": alert_text(1)}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"v": 1, "msg": "hello"}, schema)


def test_alerts_stored_while_mqtt_was_away_are_published_when_it_comes_back(broker, tmp_path):
    offline = make_config(tmp_path)
    offline = offline.__class__(**{**offline.__dict__, "console_port": 0})
    hub = RunningHub(offline).start()
    try:
        assert hub.service.ingest.handle_text(alert_text(11), "sms", sender="+22376000001") == "new"
    finally:
        hub.stop()
    observer = Client(broker, "observer", "obspw")
    assert observer.connected.wait(10)
    observer.client.subscribe("deme/v1/hubs/test/alerts", qos=1)
    time.sleep(0.3)
    online = offline.__class__(**{**offline.__dict__, "mqtt_host": "127.0.0.1", "mqtt_port": broker.port,
                                  "mqtt_username": "hub-test", "mqtt_password": "hubpw"})
    hub = RunningHub(online).start()
    try:
        [(_topic, payload)] = observer.wait_messages(1)
        assert json.loads(payload)["alert"]["counter"] == 11
        deadline = time.monotonic() + 10
        while hub.service.store.alerts_missing_hop("mqtt.published") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert hub.service.store.alerts_missing_hop("mqtt.published") == []
    finally:
        hub.stop()
        observer.stop()
