"""The police response, end to end on real parts: the firmware on MicroPython, the simulated GSM network with a
simulated phone for every responder, a real Mosquitto and the hub running a response plan. Nobody is at the
console: the duty officer's phone gets the alert SMS in step 1, the supervisors' in step 2, and the incident ends
"unanswered" on MQTT and by SMS. Timeouts are hang guards; the plan's delays are short (its smallest)."""
import json
import sqlite3

import pytest

from sim.demo import DemoSystem, police_post_plan
from tests.e2e.test_spine import wait_until
from tests.hub.test_mqtt_broker import Client

OFFICER, CHIEF = "+22376100001", "+22376100004"
STEP_2_AFTER_S = 10
EVERY_S = 10  # the plan's smallest: each send has 10 s to be answered
PLAN_TOML = police_post_plan(("Adjudant Diarra", OFFICER), ("Commissaire Traore", CHIEF), {"default": [
    {"teams": ["police"], "repeats": 1, "every_s": EVERY_S},
    {"teams": ["superviseurs"], "after_s": STEP_2_AFTER_S, "repeats": 1, "every_s": EVERY_S}]})


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    demo = DemoSystem(tmp_path_factory.mktemp("response"), wearables=1, sms_delay_s=(0.2, 0.6),
                      log=lambda _m: None, wearable_config={"modem_mode": "always"}, phones=(OFFICER, CHIEF),
                      hub_toml_extra=PLAN_TOML)
    demo.start()
    demo.wearables["W1"].wait_for("fw.modem_ready", timeout=90)
    observer = Client(demo.broker, "observer", demo.mqtt_users["observer"])
    assert observer.connected.wait(30)
    observer.client.subscribe("deme/v1/hubs/demo/events", qos=1)
    demo.observer = observer
    yield demo
    observer.client.loop_stop()
    demo.stop()


@pytest.fixture(scope="module")
def incident(system):
    """One long press that nobody at the console answers."""
    wearable = system.wearables["W1"]
    wearable.press(2.5)
    persisted = wearable.wait_for("fw.alarm_persisted", timeout=30, event="SOS")
    return system.wait_alert("W1", timeout=90, counter=persisted["n"])


def hops_of(system, alert_id, hop):
    db = sqlite3.connect(system.run_dir / "hub.db")
    try:
        return [(t, json.loads(detail)) for t, detail in db.execute(
            "SELECT t, detail FROM hops WHERE alert_id=? AND hop=? ORDER BY t, id", (alert_id, hop))]
    finally:
        db.close()


def escalation_row(system, alert_id):
    db = sqlite3.connect(system.run_dir / "hub.db")
    try:
        return db.execute("SELECT started_at, state FROM escalations WHERE alert_id=?", (alert_id,)).fetchone()
    finally:
        db.close()


def test_a_long_press_nobody_answers_reaches_the_duty_officers_phone_in_the_first_step(system, incident):
    inbox = wait_until(lambda: [m for m in system.network.inbox(OFFICER) if m["text"].startswith("DEME ")], 90,
                       "the alert SMS on the officer's phone")
    code = sqlite3.connect(system.run_dir / "hub.db").execute(
        "SELECT code FROM alerts WHERE id=?", (incident["id"],)).fetchone()[0]
    assert inbox[0]["text"].startswith(f"DEME {code} ALERTE: Awa Traoré.")
    assert inbox[0]["text"].endswith(f"Repondez OK {code}") and "osm.org/?mlat=" in inbox[0]["text"]
    started_at, _state = escalation_row(system, incident["id"])
    [(texted_at, texted)] = [h for h in hops_of(system, incident["id"], "responder.texted") if h[1]["step"] == 1]
    assert texted["to"] == OFFICER and texted_at < started_at + STEP_2_AFTER_S  # step 1, before step 2 was due


def test_nobody_answering_reaches_the_supervisors_then_flags_the_incident_unanswered(system, incident):
    wait_until(lambda: escalation_row(system, incident["id"])[1] == "unanswered", 120, "the incident unanswered")
    started_at, _state = escalation_row(system, incident["id"])
    steps = hops_of(system, incident["id"], "incident.step")
    [(step_2_at, step_2)] = [h for h in steps if h[1]["step"] == 2]
    assert step_2["texted"] == ["Commissaire Traore"]
    assert step_2_at >= started_at + STEP_2_AFTER_S  # at the configured time, not before
    [(unanswered_at, _detail)] = hops_of(system, incident["id"], "incident.unanswered")
    assert unanswered_at >= started_at + STEP_2_AFTER_S + EVERY_S
    texts = wait_until(lambda: [m["text"] for m in system.network.inbox(CHIEF)
                                if "SANS REPONSE" in m["text"]], 90, "the unanswered SMS on the supervisor's phone")
    assert texts and all(text.startswith("DEME ") for text in texts)
    assert any(m["text"].startswith("DEME ") and "SANS REPONSE" not in m["text"]
               for m in system.network.inbox(CHIEF))  # step 2's own alert SMS came first

    def unanswered_on_mqtt():
        for _topic, payload in system.observer.messages:
            message = json.loads(payload)
            if message.get("incident", {}).get("event") == "unanswered" and \
                    message["incident"]["alert_id"] == incident["id"]:
                return message
        return None

    message = wait_until(unanswered_on_mqtt, 60, "the unanswered event on MQTT")
    assert message["incident"]["supervisors"] == ["Commissaire Traore"]
