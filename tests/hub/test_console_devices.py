"""The console's device list: /api/devices and the device events on the live stream, over real sockets, with the
watchdog's clock in the test's hands. Heartbeats never reach the alert list."""
import time

from hub.bus import Event
from hub.console.sample import record_sample, sample_sms
from hub.console.server import ConsoleServer
from hub.hops import Hops
from hub.inbound.ingest import Ingest
from hub.incidents.liveness import Liveness
from hub.timeline import Timeline
from tests.hub.test_console_api import EventStream, Hub, request

HOUR = 3600.0


class DeviceHub(Hub):
    """The console's test hub with the watchdog and ingest the service wires, started `started_ago_s` ago."""

    def __init__(self, tmp_path, started_ago_s=0.0):
        super().__init__(tmp_path)
        self.console.stop()
        hops = Hops(self.store, self.bus, Timeline())
        self.liveness = Liveness(self.store, hops, self.config, started_at=time.time() - started_ago_s).start()
        self.ingest = Ingest(self.store, hops, self.config, on_heard=self.liveness.heard)
        self.console = ConsoleServer(self.store, self.bus, self.actions, self.config,
                                     liveness=self.liveness).start()

    def send(self, device_id, counter, event="HB", battery=80, received_at=None):
        raw, _ = sample_sms(self.config, device_id, counter, event=event, battery=battery)
        return self.ingest.handle_text(raw, "sms", sender=self.config.devices[device_id].phone,
                                       received_at=received_at)


def by_id(body):
    return {d["id"]: d for d in body["devices"]}


def test_devices_list_every_wearable_worst_first_with_last_heard_and_battery(tmp_path):
    hub = DeviceHub(tmp_path, started_ago_s=3 * HOUR)
    try:
        now = time.time()
        assert hub.send("W1", 1, battery=80, received_at=now - 300) == "new"
        assert hub.send("W2", 1, battery=9, received_at=now - 60) == "new"
        assert hub.liveness.check() == [("device.silent", "W3")]  # never heard, the hub started 3 h ago

        status, body = request(hub, "GET", "/api/devices")
        assert status == 200 and isinstance(body["now"], float)
        assert body["low_battery_pct"] == 15 and body["heartbeat_grace_min"] == 15
        assert [d["id"] for d in body["devices"]] == ["W3", "W2", "W1"]  # silent, low battery, ok
        devices = by_id(body)
        assert devices["W3"]["status"] == "silent" and devices["W3"]["last_heard_at"] is None
        assert devices["W2"]["status"] == "low_battery" and devices["W2"]["battery"] == 9
        w1 = devices["W1"]
        assert w1["status"] == "ok" and w1["wearer"] == "Aminata Traoré" and w1["last_via"] == "sms"
        assert w1["last_heard_at"] == now - 300 and w1["next_heartbeat_at"] == now - 300 + HOUR
        assert w1["last_event"] == "HB" and w1["position"]["lat"] == 12.65283

        status, one = request(hub, "GET", "/api/devices/W2")
        assert status == 200 and one["battery"] == 9 and one["low_battery"] is True
        status, missing = request(hub, "GET", "/api/devices/W9")
        assert status == 404 and "W9" in missing["error"]

        # Heartbeats are not incidents: neither list shows them.
        assert request(hub, "GET", "/api/alerts")[1]["alerts"] == []
        assert request(hub, "GET", "/api/alerts?state=all")[1]["alerts"] == []
    finally:
        hub.close()


def test_device_events_reach_the_live_stream_with_the_device_and_never_an_alert(tmp_path):
    hub = DeviceHub(tmp_path, started_ago_s=3 * HOUR)
    stream = EventStream(hub)
    try:
        stream.until("hello")
        hub.send("W1", 1)
        data = stream.until("device.status")
        assert data["device"]["id"] == "W1" and data["device"]["status"] == "ok"
        assert data["alert"] is None

        hub.liveness.check()
        data = stream.until("device.silent")
        assert data["device"]["id"] in ("W2", "W3") and data["device"]["status"] == "silent"

        hub.send("W3", 1, event="SOS")
        data = stream.until("alert.new")
        assert data["alert"]["device_id"] == "W3"
        data = stream.until("device.back")
        assert data["device"]["id"] == "W3" and data["device"]["status"] == "ok"
        assert data["device"]["back_at"] is not None
    finally:
        stream.close()
        hub.close()


def test_the_receipt_of_a_heartbeat_being_sent_does_not_put_it_on_the_page(tmp_path):
    hub = DeviceHub(tmp_path)
    stream = EventStream(hub)
    try:
        stream.until("hello")
        hub.send("W1", 1)
        stream.until("device.status")
        [rcv] = hub.store.outbox()
        hub.store.mark_sent(rcv["id"], [3])
        hub.bus.publish(Event("outbox.sent", hub.store.get_alert(rcv["alert_id"]), {"outbox_id": rcv["id"]}))
        data = stream.until("outbox.sent")
        assert data["alert"] is None
    finally:
        stream.close()
        hub.close()


def test_a_console_without_a_watchdog_still_lists_devices(tmp_path):
    hub = Hub(tmp_path)  # the console builds a read-only Liveness of its own
    try:
        record_sample(hub.store, hub.bus, hub.config, "W1", 1, event="LOWBAT", battery=11)
        status, body = request(hub, "GET", "/api/devices")
        assert status == 200
        devices = by_id(body)
        assert devices["W1"]["status"] == "low_battery" and devices["W1"]["last_event"] == "LOWBAT"
        assert devices["W2"]["status"] == "unknown"
        # LOWBAT is an incident: it is on the alert list.
        assert [a["event"] for a in request(hub, "GET", "/api/alerts")[1]["alerts"]] == ["LOWBAT"]
    finally:
        hub.close()
