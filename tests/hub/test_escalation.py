"""The escalation engine on a real store and a real response plan, with an injected clock: the ladder's timing by
steps and repeats, what stops it, a restart, the rota, "unanswered", the incident codes and the outbox's order."""
import json

import pytest

from hub.bus import Bus
from hub.hops import Hops
from hub.incidents.escalation import Escalation
from hub.incidents.plan import parse_plan
from hub.outputs import mqtt_out
from hub.service import HubService
from hub.store import Store
from hub.store import incidents as incident_store
from hub.store.incidents import CodesExhausted, assign_code, open_by_code
from tests.hub.spine_fixtures import make_config

MONDAY_10H = 1772445600.0  # 2026-03-02 10:00 in Bamako (UTC all year)
SATURDAY_10H = MONDAY_10H + 5 * 86400
OFFICER, DEPUTY, CHIEF = "+22376100001", "+22376100002", "+22376100004"

PLAN = {
    "supervisors": "supervisors",
    "responders": [{"name": "Adjudant Diarra", "phone": OFFICER},
                   {"name": "Sergent Keita", "phone": DEPUTY, "lang": "en"},
                   {"name": "Commissaire Traore", "phone": CHIEF}],
    "teams": [{"name": "police", "members": ["Adjudant Diarra"],
               "rota": [{"days": "mon-fri", "from": "07:00", "to": "19:00"}]},
              {"name": "weekend", "members": ["Sergent Keita"], "rota": [{"days": "sat,sun", "from": "00:00",
                                                                          "to": "23:59"}]},
              {"name": "supervisors", "members": ["Commissaire Traore"], "rota": "always"}],
    # Sends at 0 and 30 s (police, weekend), 60 and 90 s (supervisors); unanswered at 120 s.
    "routes": [{"name": "default", "steps": [
        {"teams": ["police", "weekend"], "repeats": 2, "every_s": 30},
        {"teams": ["supervisors"], "after_s": 60, "repeats": 2, "every_s": 30}]}],
}


class Clock:
    def __init__(self, t):
        self.t = t

    def __call__(self):
        return self.t


class Hub:
    """A store, a bus and the engine, as hub/service.py wires them, with what reached the bus."""

    def __init__(self, tmp_path, t=MONDAY_10H, plan=PLAN):
        self.config = make_config(tmp_path)
        self.store = Store(self.config.database).open()
        self.bus = Bus()
        self.events = []
        self.bus.subscribe(self.events.append)
        self.hops = Hops(self.store, self.bus)
        self.plan = parse_plan(plan, "ML")
        self.clock = Clock(t)
        self.woken = []
        self.engine = self.new_engine()
        self.counter = 0

    def new_engine(self):
        engine = Escalation(self.store, self.plan, self.hops, lambda: self.woken.append(self.clock()),
                            devices=self.config.devices, clock=self.clock)
        self.bus.subscribe(engine._on_bus_event)
        return engine

    def alert(self, event="SOS", category="AGR", position=True):
        self.counter += 1
        alert = {"device_id": "W1", "counter": self.counter, "event": event, "category": category,
                 "lat": 13.4317 if position else None, "lon": -6.2157 if position else None,
                 "acc_m": 12 if position else None, "fix_age_s": 2 if position else None,
                 "cell": {"mcc": 610, "mnc": 1, "lac": 500, "cell_id": 10811}, "battery": 80}
        status, stored = self.store.record_alert(alert, f"raw {self.counter}", "sms", received_at=self.clock())
        assert status == "new"
        return stored

    def at(self, offset_s, start=MONDAY_10H):
        self.clock.t = start + offset_s
        self.engine.handle_events()
        self.engine.process_due()

    def texts(self, alert_id):
        return [(m["recipient"], m["body"]) for m in self.store.outbox(alert_id) if m["kind"] == "responder"]

    def recipients(self, alert_id):
        return [to for to, _ in self.texts(alert_id)]

    def hop_names(self, alert_id):
        return [h["hop"] for h in self.store.hops(alert_id)]


@pytest.fixture
def hub(tmp_path):
    hub = Hub(tmp_path)
    yield hub
    hub.store.close()


def test_step_one_texts_the_officer_on_duty_at_once_with_the_incident_code(hub):
    alert = hub.alert()
    code = hub.engine.begin(alert)
    [(to, body)] = hub.texts(alert["id"])
    assert to == OFFICER
    assert body.startswith(f"DEME {code} AGRESSION: Awa Traoré.") and body.endswith(f"Repondez OK {code}")
    assert "osm.org/?mlat=13.4317&mlon=-6.2157" in body
    [message] = [m for m in hub.store.outbox(alert["id"]) if m["kind"] == "responder"]
    assert message["priority"] == 0
    assert hub.store.get_alert(alert["id"])["code"] == code
    texted = incident_store.hop_details(hub.store, alert["id"], "responder.texted")
    assert texted == [{"responder": "Adjudant Diarra", "to": OFFICER, "outbox_id": message["id"], "step": 1,
                       "repeat": 1}]
    assert hub.woken == [MONDAY_10H]


def test_the_ladder_repeats_each_step_then_climbs_at_the_configured_times(hub):
    alert = hub.alert()
    hub.engine.begin(alert)
    hub.at(29.9)
    assert hub.recipients(alert["id"]) == [OFFICER]
    hub.at(30)
    assert hub.recipients(alert["id"]) == [OFFICER, OFFICER]
    hub.at(59.9)
    assert hub.recipients(alert["id"]) == [OFFICER, OFFICER]
    hub.at(60)
    assert hub.recipients(alert["id"]) == [OFFICER, OFFICER, CHIEF]
    hub.at(90)
    assert hub.recipients(alert["id"]) == [OFFICER, OFFICER, CHIEF, CHIEF]
    steps = incident_store.hop_details(hub.store, alert["id"], "incident.step")
    assert [(s["step"], s["repeat"]) for s in steps] == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert incident_store.get_escalation(hub.store, alert["id"])["state"] == "active"


def test_nobody_answering_makes_the_incident_unanswered_on_the_bus_and_by_sms_to_the_supervisors(hub):
    alert = hub.alert()
    code = hub.engine.begin(alert)
    for offset in (30, 60, 90, 119.9):
        hub.at(offset)
    assert not [e for e in hub.events if e.kind == "incident.unanswered"]
    hub.at(120)
    [event] = [e for e in hub.events if e.kind == "incident.unanswered"]
    assert event.alert["id"] == alert["id"] and event.detail["supervisors"] == ["Commissaire Traore"]
    assert event.detail["code"] == code
    to, body = hub.texts(alert["id"])[-1]
    assert to == CHIEF and body.startswith(f"DEME {code} SANS REPONSE AGRESSION")
    assert incident_store.get_escalation(hub.store, alert["id"])["state"] == "unanswered"
    assert "incident.unanswered" in hub.hop_names(alert["id"])
    hub.at(3600)
    assert len(hub.texts(alert["id"])) == 5  # nothing after "unanswered"


def test_the_unanswered_event_reaches_the_hubs_mqtt_events_topic(hub, tmp_path):
    alert = hub.alert()
    code = hub.engine.begin(alert)
    for offset in (30, 60, 90, 120):
        hub.at(offset)
    [event] = [e for e in hub.events if e.kind == "incident.unanswered"]
    service = HubService(hub.config)
    published = []

    class Broker:  # the MQTTLink's publish, as the service calls it
        def publish(self, topic, payload, qos=0, token=None, retain=False):
            published.append((topic, json.loads(payload), qos))

    service.mqtt = Broker()
    service._on_bus_event(event)
    [(topic, payload, qos)] = published
    assert topic == mqtt_out.event_topic("test") and qos == 1
    assert payload["incident"]["event"] == "unanswered" and payload["incident"]["code"] == code
    assert payload["incident"]["alert_id"] == alert["id"] and payload["incident"]["route"] == "default"
    assert "lat" not in json.dumps(payload)


def test_an_acknowledgement_stops_the_ladder(hub):
    alert = hub.alert()
    hub.engine.begin(alert)
    hub.clock.t = MONDAY_10H + 10
    acknowledged = hub.store.transition(alert["id"], "acknowledge", "Sgt. Diallo", t=hub.clock())
    hub.hops.record("console.acknowledge", alert=acknowledged, action="acknowledge", operator="Sgt. Diallo")
    hub.at(30)
    hub.at(200)
    assert hub.recipients(alert["id"]) == [OFFICER]
    assert incident_store.get_escalation(hub.store, alert["id"])["state"] == "acknowledged"
    assert not [e for e in hub.events if e.kind == "incident.unanswered"]


def test_an_acknowledgement_the_engine_never_heard_of_still_stops_the_ladder(hub):
    alert = hub.alert()
    hub.engine.begin(alert)
    hub.store.transition(alert["id"], "resolve", "Sgt. Diallo", t=MONDAY_10H + 5)  # no bus event
    hub.at(30)
    assert hub.recipients(alert["id"]) == [OFFICER]
    assert incident_store.get_escalation(hub.store, alert["id"])["state"] == "closed"


def test_a_restarted_hub_resumes_the_ladder_from_the_table_without_sending_twice(hub):
    alert = hub.alert()
    hub.engine.begin(alert)
    hub.at(30)
    hub.engine = hub.new_engine()  # the hub restarted: a new engine on the same database
    hub.engine.catch_up()
    assert hub.recipients(alert["id"]) == [OFFICER, OFFICER]
    hub.at(60)
    assert hub.recipients(alert["id"]) == [OFFICER, OFFICER, CHIEF]


def test_an_alert_stored_just_before_a_stop_gets_its_ladder_when_the_hub_comes_back(hub):
    alert = hub.alert()  # stored, then the hub stopped before the engine heard of it
    hub.engine = hub.new_engine()
    hub.engine.catch_up()
    assert hub.recipients(alert["id"]) == [OFFICER]


def test_off_duty_responders_are_not_texted(tmp_path):
    hub = Hub(tmp_path, t=SATURDAY_10H)
    try:
        alert = hub.alert()
        hub.engine.begin(alert)
        [(to, body)] = hub.texts(alert["id"])
        assert to == DEPUTY  # the weekday officer is off duty; the weekend team's member reads English
        assert "ASSAULT" in body and "Reply OK" in body
    finally:
        hub.store.close()


def test_a_new_urgent_alert_on_the_bus_starts_a_ladder_once_and_others_do_not(hub):
    sos = hub.alert()
    hub.hops.record("hub.stored", alert=sos, alert_id=sos["id"], via="sms")
    hub.hops.record("hub.stored", alert=sos, alert_id=sos["id"], via="sms")  # told twice: one ladder
    low = hub.alert(event="LOWBAT", category="GEN")
    hub.hops.record("hub.stored", alert=low, alert_id=low["id"], via="sms")
    hub.at(0)
    assert hub.recipients(sos["id"]) == [OFFICER]
    assert hub.recipients(low["id"]) == []
    assert incident_store.get_escalation(hub.store, low["id"]) is None


def test_an_alert_no_longer_new_when_the_engine_reads_it_starts_no_ladder(hub):
    alert = hub.alert()
    hub.hops.record("hub.stored", alert=alert, alert_id=alert["id"], via="sms")
    hub.store.transition(alert["id"], "resolve", "hub", t=MONDAY_10H)  # e.g. cancelled by the wearer meanwhile
    hub.at(0)
    assert hub.recipients(alert["id"]) == []


def test_a_keyword_report_is_escalated_and_names_the_reporter(hub):
    alert = hub.alert(position=False)
    with hub.store.transaction() as db:
        db.exec_driver_sql("UPDATE alerts SET source='report', sender='+22366123456' WHERE id=?", (alert["id"],))
    hub.engine.begin(alert)
    [(to, body)] = hub.texts(alert["id"])
    assert "SIGNALEMENT de +22366123456" in body and "antenne 610-1-1F4-2A3B" in body


def test_codes_are_unique_among_open_incidents(hub):
    codes = [hub.engine.begin(hub.alert()) for _ in range(30)]
    assert len(set(codes)) == 30
    assert all(len(code) <= 3 and code[0] in incident_store.CODE_LETTERS for code in codes)
    assert open_by_code(hub.store, codes[4].lower())["id"] == hub.store.list_alerts()[-5]["id"]


def test_a_code_is_given_again_only_after_its_incident_closed(hub):
    few = ("A2", "H2", "K2")
    first, second, third = (hub.alert() for _ in range(3))
    assert [assign_code(hub.store, a["id"], codes=few) for a in (first, second, third)] == ["A2", "H2", "K2"]
    assert assign_code(hub.store, first["id"], codes=few) == "A2"  # given once
    fourth = hub.alert()
    with pytest.raises(CodesExhausted):
        assign_code(hub.store, fourth["id"], codes=few)
    hub.store.transition(second["id"], "resolve", "Sgt. Diallo")
    assert open_by_code(hub.store, "H2") is None
    assert assign_code(hub.store, fourth["id"], codes=few) == "H2"
    assert open_by_code(hub.store, " h2 ")["id"] == fourth["id"]
    assert incident_store.last_by_code(hub.store, "A2")["id"] == first["id"]


def test_the_outbox_sends_calls_for_help_first_and_heartbeat_receipts_last(hub):
    heartbeat = hub.alert(event="HB", category="GEN")
    hub.store.enqueue_receipt("W1", lambda n: f"DA1;i=W1;h={n};n=1;s=RCV;m=0", "+22376000001", heartbeat["id"],
                              t=MONDAY_10H)
    hub.store.enqueue("contact", "+22366000001", "Deme: la police a pris en compte", t=MONDAY_10H)
    alert = hub.alert()
    hub.engine.begin(alert)
    kinds = [m["kind"] for m in hub.store.due_messages(now=MONDAY_10H + 1)]
    assert kinds == ["responder", "contact", "ack"]
