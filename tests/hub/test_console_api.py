"""The console's HTTP API and event stream, against a real Store in a temporary directory, over real sockets."""
import json
import threading
import urllib.error
import urllib.request

import pytest

from drivers.alert import CATEGORIES, EVENT_CLASSES, EVENTS, STATUS_EVENTS, STATUSES, URGENT_EVENTS, parse_ack
from hub.bus import Bus, Event
from hub.console.sample import XSS_NAME, record_sample, sample_config
from hub.console.server import RESYNC, ClientFeed, ConsoleServer
from hub.hops import Hops
from hub.incidents.operator import OperatorActions
from hub.store import Store

TIMEOUT = 10  # seconds: the bound of every wait on a socket


class Hub:
    """A store, a bus, operator actions and a started console: what the hub service wires together."""

    def __init__(self, tmp_path, store_class=Store, **console_args):
        self.config = sample_config(tmp_path / "deme.db")
        self.store = store_class(self.config.database).open()
        self.bus = Bus()
        self.actions = OperatorActions(self.store, Hops(self.store, self.bus), self.config)
        self.console = ConsoleServer(self.store, self.bus, self.actions, self.config, **console_args).start()

    def record(self, device_id="W1", counter=1, **kwargs):
        return record_sample(self.store, self.bus, self.config, device_id, counter, **kwargs)

    def close(self):
        self.console.stop()
        self.store.close()


@pytest.fixture
def hub(tmp_path):
    hub = Hub(tmp_path)
    yield hub
    hub.close()


def request(hub, method, path, body=None, raw=None, content_type="application/json", headers=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(hub.console.url + path, data=data, method=method)
    if data is not None and content_type:
        req.add_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as response:
            return response.status, _decode(response)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, _decode(exc)


def _decode(response):
    data = response.read()
    if response.headers.get("Content-Type", "").startswith("application/json"):
        return json.loads(data)
    return data


def act(hub, alert_id, action, **body):
    return request(hub, "POST", f"/api/alerts/{alert_id}/{action}", body)


class EventStream:
    """Reads Server-Sent Events from /api/events; every read is bounded by the socket timeout."""

    def __init__(self, hub):
        self.response = urllib.request.urlopen(hub.console.url + "/api/events", timeout=TIMEOUT)
        assert self.response.headers["Content-Type"].startswith("text/event-stream")

    def next(self):
        kind, data = None, None
        while True:
            line = self.response.readline()
            if not line:
                raise EOFError("event stream closed")
            line = line.decode("utf-8").rstrip("\n")
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
            elif line == "" and kind is not None:
                return kind, data

    def until(self, kind, limit=50):
        seen = []
        for _ in range(limit):
            got, data = self.next()
            seen.append(got)
            if got == kind:
                return data
        raise AssertionError(f"no {kind} event among {seen}")

    def close(self):
        self.response.close()


# -- listing and reading ---------------------------------------------------------------------------------------
def test_list_active_then_all_newest_first_with_wearer_hops_and_outbox(hub):
    first = hub.record("W1", 1, received_at=1_795_000_000.0)
    second = hub.record("W2", 1, event="FALL", category="MED", received_at=1_795_000_060.0)
    third = hub.record("W1", 2, received_at=1_795_000_120.0)
    assert act(hub, third["id"], "resolve", operator="Sgt Diallo", note="fausse alerte")[0] == 200

    status, body = request(hub, "GET", "/api/alerts")
    assert status == 200
    assert [a["id"] for a in body["alerts"]] == [second["id"], first["id"]]
    assert isinstance(body["now"], float)
    fall = body["alerts"][0]
    assert fall["wearer"] == "Moussa Keïta" and fall["event"] == "FALL" and fall["category"] == "MED"
    assert [h["hop"] for h in fall["hops"]] == ["hub.stored"]
    assert fall["outbox"] == []

    status, body = request(hub, "GET", "/api/alerts?state=all")
    assert status == 200
    assert [a["id"] for a in body["alerts"]] == [third["id"], second["id"], first["id"]]
    assert body["alerts"][0]["state"] == "resolved"

    status, body = request(hub, "GET", "/api/alerts?state=everything")
    assert status == 400 and "active" in body["error"]


def test_one_alert_carries_its_timeline_and_the_ack_for_the_wearable(hub):
    alert = hub.record("W1", 7, category="AGR")
    status, body = act(hub, alert["id"], "acknowledge", operator="Adjudant Coulibaly")
    assert status == 200 and body["state"] == "acknowledged"

    status, body = request(hub, "GET", f"/api/alerts/{alert['id']}")
    assert status == 200
    assert body["acknowledged_by"] == "Adjudant Coulibaly"
    assert [h["hop"] for h in body["hops"]] == ["hub.stored", "console.acknowledge"]
    assert body["hops"][1]["detail"]["operator"] == "Adjudant Coulibaly"
    (ack,) = body["outbox"]
    assert ack["kind"] == "ack" and ack["status"] == "ACK" and ack["state"] == "pending"
    assert ack["recipient"] == "+22376000001"
    # The queued SMS is one the wearable accepts: signed with its key, for its alert counter.
    parsed = parse_ack(ack["body"], hub.config.key_for)
    assert parsed["counter"] == 7 and parsed["status"] == "ACK"


# -- actions and their state rules -----------------------------------------------------------------------------
def test_acknowledge_twice_is_a_conflict_with_a_message(hub):
    alert = hub.record()
    assert act(hub, alert["id"], "acknowledge", operator="Diallo")[0] == 200
    status, body = act(hub, alert["id"], "acknowledge", operator="Traoré")
    assert status == 409
    assert "acknowledged" in body["error"]
    assert body["alert"]["acknowledged_by"] == "Diallo"
    assert hub.store.get_alert(alert["id"])["acknowledged_by"] == "Diallo"


def test_resolved_alert_cannot_be_acknowledged_or_dispatched(hub):
    alert = hub.record()
    status, body = act(hub, alert["id"], "resolve", operator="Diallo", note="personne retrouvée")
    assert status == 200 and body["state"] == "resolved" and body["note"] == "personne retrouvée"
    assert body["acknowledged_by"] == "Diallo"  # resolving implies it was seen
    for action, extra in (("acknowledge", {}), ("dispatch", {"unit": "P3"}), ("resolve", {"note": "x"})):
        status, body = act(hub, alert["id"], action, operator="Traoré", **extra)
        assert status == 409, action
        assert "resolved" in body["error"]


def test_dispatch_then_resolve_store_unit_note_and_each_operator(hub):
    alert = hub.record()
    status, body = act(hub, alert["id"], "dispatch", operator="Diallo", unit="Patrouille 3")
    assert status == 200 and body["state"] == "dispatched" and body["unit"] == "Patrouille 3"
    status, body = act(hub, alert["id"], "resolve", operator="Keïta", note="Victime raccompagnée")
    assert status == 200
    stored = hub.store.get_alert(alert["id"])
    assert stored["dispatched_by"] == "Diallo" and stored["unit"] == "Patrouille 3"
    assert stored["resolved_by"] == "Keïta" and stored["note"] == "Victime raccompagnée"
    assert [m["status"] for m in body["outbox"]] == ["DSP", "RES"]


@pytest.mark.parametrize("action, body, words", [
    ("acknowledge", {}, "operator"),
    ("acknowledge", {"operator": "   "}, "operator"),
    ("acknowledge", {"operator": 12}, "text"),
    ("acknowledge", {"operator": "x" * 61}, "longer"),
    ("acknowledge", {"operator": "a\x00b"}, "control"),
    ("dispatch", {"operator": "Diallo"}, "unit"),
    ("resolve", {"operator": "Diallo", "note": ""}, "note"),
])
def test_missing_or_malformed_fields_are_refused_and_change_nothing(hub, action, body, words):
    alert = hub.record()
    status, answer = act(hub, alert["id"], action, **body)
    assert status == 400
    assert words in answer["error"]
    assert hub.store.get_alert(alert["id"])["state"] == "new"
    assert hub.store.outbox(alert["id"]) == []


@pytest.mark.parametrize("raw, content_type, status, words", [
    (b"{not json", "application/json", 400, "not valid JSON"),
    (b"\xff\xfe", "application/json", 400, "not valid JSON"),
    (b"[1, 2]", "application/json", 400, "JSON object"),
    (b"null", "application/json", 400, "JSON object"),
    (b'{"operator": "Diallo"}', "text/plain", 415, "application/json"),
    (b'{"operator": "' + b"x" * 20000 + b'"}', "application/json", 413, "larger"),
])
def test_bad_bodies_get_a_clear_error_never_a_crash(hub, raw, content_type, status, words):
    alert = hub.record()
    got, body = request(hub, "POST", f"/api/alerts/{alert['id']}/acknowledge", raw=raw, content_type=content_type)
    assert got == status
    assert words in body["error"]
    assert hub.store.get_alert(alert["id"])["state"] == "new"
    assert request(hub, "GET", "/healthz")[1]["ok"] is True  # and the server still answers


def test_a_cross_site_page_cannot_act(hub):
    alert = hub.record()
    status, body = request(hub, "POST", f"/api/alerts/{alert['id']}/acknowledge", {"operator": "x"},
                           headers={"Origin": "http://evil.example"})
    assert status == 403
    assert hub.store.get_alert(alert["id"])["state"] == "new"


def test_a_page_reaching_the_console_by_another_domain_name_is_refused(tmp_path):
    hub = Hub(tmp_path, allowed_hosts=("deme-hub.local",))
    try:
        hub.record()
        status, body = request(hub, "GET", "/api/alerts", headers={"Host": "rebind.evil.example"})
        assert status == 403 and "Host" in body["error"]
        assert request(hub, "GET", "/api/alerts", headers={"Host": "deme-hub.local:8080"})[0] == 200
        assert request(hub, "GET", "/api/alerts", headers={"Host": "localhost"})[0] == 200
        assert request(hub, "GET", "/api/alerts", headers={"Host": "[::1]:8080"})[0] == 200
    finally:
        hub.close()


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/alerts/999"),
    ("GET", "/api/alerts/abc"),
    ("GET", "/api/alerts/%C2%B2"),
    ("POST", "/api/alerts/999/acknowledge"),
    ("POST", "/api/alerts/1/explode"),
    ("GET", "/static/server.py"),
    ("GET", "/static/../server.py"),
    ("GET", "/nothing"),
])
def test_unknown_things_are_404_with_a_message(hub, method, path):
    hub.record()
    status, body = request(hub, method, path, {"operator": "Diallo"} if method == "POST" else None)
    assert status == 404
    assert body["error"]


# -- what the page receives is data, never markup ---------------------------------------------------------------
def test_names_and_notes_that_look_like_html_come_back_as_plain_data(hub):
    alert = hub.record("W3", 1)
    status, body = act(hub, alert["id"], "resolve", operator=XSS_NAME, note="</script><script>alert(2)</script>")
    assert status == 200
    status, body = request(hub, "GET", f"/api/alerts/{alert['id']}")
    assert body["wearer"] == XSS_NAME
    assert body["resolved_by"] == XSS_NAME
    assert body["note"] == "</script><script>alert(2)</script>"


def test_page_and_static_files_are_served_with_a_strict_content_policy(hub):
    for path, kind in (("/", "text/html"), ("/static/console.js", "text/javascript"),
                       ("/static/i18n.js", "text/javascript"), ("/static/console.css", "text/css")):
        with urllib.request.urlopen(hub.console.url + path, timeout=TIMEOUT) as response:
            assert response.headers["Content-Type"].startswith(kind), path
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
            assert response.read()
    page = urllib.request.urlopen(hub.console.url + "/", timeout=TIMEOUT).read().decode()
    assert "http://" not in page and "https://" not in page  # nothing fetched from the internet


def test_meta_serves_the_tables_the_page_would_otherwise_keep_a_copy_of(hub):
    status, meta = request(hub, "GET", "/api/meta")
    assert status == 200
    assert meta["events"]["SOS"] == ["urgent", "contacts"]
    assert meta["events"]["HB"] == ["silent", "status"]
    assert meta["events"] == {event: list(classes) for event, classes in EVENT_CLASSES.items()}
    assert list(meta["events"]) == list(EVENTS)
    assert meta["categories"] == list(CATEGORIES) and meta["statuses"] == list(STATUSES)
    assert meta["device_statuses"] == ["silent", "low_battery", "unknown", "ok"]  # worst first
    assert meta["states"] == ["new", "acknowledged", "dispatched", "resolved"]
    assert meta["actions"] == {"acknowledge": ["new"], "dispatch": ["new", "acknowledged"],
                               "resolve": ["new", "acknowledged", "dispatched"]}
    # What the page derives from it: its urgent, low-priority and not-an-incident sets.
    assert [e for e, classes in meta["events"].items() if "urgent" in classes] == list(URGENT_EVENTS)
    assert [e for e, classes in meta["events"].items() if "low" in classes] == ["LOWBAT"]
    assert [e for e, classes in meta["events"].items() if "status" in classes] == list(STATUS_EVENTS)


def test_the_page_keeps_no_copy_of_the_event_classes(hub):
    script = urllib.request.urlopen(hub.console.url + "/static/console.js", timeout=TIMEOUT).read().decode()
    assert "/api/meta" in script
    for code in EVENTS:
        if code != "DUR":  # duress has words of its own on the page (its banner), by its code
            assert f'"{code}"' not in script, code


def test_binds_to_loopback_by_default(hub):
    assert hub.console.url.startswith("http://127.0.0.1:")


# -- the event stream --------------------------------------------------------------------------------------------
def test_event_stream_delivers_a_new_alert_published_on_the_bus(hub):
    stream = EventStream(hub)
    try:
        hello = stream.until("hello")
        assert hello["heartbeat_s"] == 15.0
        alert = hub.record("W2", 3, event="SOS", category="HAR")
        data = stream.until("alert.new")
        assert data["alert_id"] == alert["id"]
        assert data["alert"]["wearer"] == "Moussa Keïta"
        assert data["alert"]["category"] == "HAR"
        assert [h["hop"] for h in data["alert"]["hops"]] == ["hub.stored"]

        act(hub, alert["id"], "acknowledge", operator="Diallo")
        data = stream.until("alert.updated")
        assert data["alert"]["state"] == "acknowledged"
        assert data["alert"]["outbox"][0]["status"] == "ACK"
    finally:
        stream.close()


def test_events_about_an_alert_by_id_carry_the_alert_and_others_their_detail(hub):
    alert = hub.record()
    stream = EventStream(hub)
    try:
        stream.until("hello")
        hub.bus.publish(Event("outbox.sent", None, {"alert_id": alert["id"], "message_id": 1}))
        data = stream.until("outbox.sent")
        assert data["alert"]["id"] == alert["id"]
        hub.bus.publish(Event("modem.link", None, {"up": False, "reason": "no answer to AT"}))
        data = stream.until("modem.link")
        assert data["alert"] is None and data["detail"] == {"up": False, "reason": "no answer to AT"}
    finally:
        stream.close()


def test_heartbeats_keep_an_idle_stream_alive(tmp_path):
    hub = Hub(tmp_path, heartbeat_s=0.1)
    stream = EventStream(hub)
    try:
        stream.until("hello")
        assert isinstance(stream.until("heartbeat")["now"], float)
    finally:
        stream.close()
        hub.close()


class SlowStore(Store):
    """A store whose reads wait at a gate: a slow disk, so a client's queue fills while its stream is busy."""

    def __init__(self, path):
        super().__init__(path)
        self.gate = threading.Event()
        self.gate.set()

    def get_alert(self, alert_id):
        assert self.gate.wait(TIMEOUT), "gate never opened"
        return super().get_alert(alert_id)


def test_a_client_that_falls_behind_is_told_to_resync_instead_of_losing_updates(tmp_path):
    hub = Hub(tmp_path, store_class=SlowStore, queue_size=2)
    stream = EventStream(hub)
    try:
        stream.until("hello")
        alert = hub.record()
        stream.until("alert.new")
        hub.store.gate.clear()
        for _ in range(10):  # far more than the queue holds, while the stream is stuck reading the store
            hub.bus.publish(Event("alert.updated", alert))
        hub.store.gate.set()
        resync = stream.until("resync", limit=5)
        assert "reload" in resync["reason"]
        # After the resync the stream carries on normally.
        hub.record("W2", 1)
        assert stream.until("alert.new")["alert"]["device_id"] == "W2"
    finally:
        stream.close()
        hub.close()


def test_client_feed_drops_into_a_single_resync_marker():
    feed = ClientFeed(2)
    events = [Event("alert.updated", {"id": n}) for n in range(5)]
    for event in events:
        feed.offer(event)
    assert feed.next(timeout=0) is RESYNC
    assert feed.next(timeout=0) is None  # the queue was emptied: the reload covers it
    feed.offer(events[0])
    assert feed.next(timeout=0) is events[0]


def test_stop_ends_open_event_streams(tmp_path):
    hub = Hub(tmp_path)
    stream = EventStream(hub)
    stream.until("hello")
    assert request(hub, "GET", "/healthz")[1]["clients"] == 1
    hub.close()
    with pytest.raises(EOFError):
        stream.until("never")
    stream.close()
