"""Acting from a feature phone and reporting from any phone, end to end on real parts: the firmware on MicroPython,
the simulated GSM network with a simulated phone for every responder, a reporter and a stranger, a real Mosquitto
and the hub running a response plan. Every SMS here is typed on a simulated phone (the network's `send`) and goes
through the hub's modem. Timeouts are hang guards."""
import json
import sqlite3

import pytest

from sim.demo import HUB_NUMBER, DemoSystem
from tests.e2e.test_response import CHIEF, OFFICER, PLAN_TOML
from tests.e2e.test_spine import wait_until

REPORTER, STRANGER = "+22366100001", "+22366100002"


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    demo = DemoSystem(tmp_path_factory.mktemp("replies"), wearables=1, sms_delay_s=(0.2, 0.6),
                      log=lambda _m: None, wearable_config={"modem_mode": "always"},
                      phones=(OFFICER, CHIEF, REPORTER, STRANGER), hub_toml_extra=PLAN_TOML)
    demo.start()
    demo.wearables["W1"].wait_for("fw.modem_ready", timeout=90)
    yield demo
    demo.stop()


def query(system, sql, *args):
    db = sqlite3.connect(system.run_dir / "hub.db")
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def texts_to(system, number, containing):
    return [m["text"] for m in system.network.inbox(number) if containing in (m["text"] or "")]


def test_the_officer_takes_dispatches_and_closes_the_incident_from_his_phone(system):
    wearable = system.wearables["W1"]
    wearable.press(2.5)
    persisted = wearable.wait_for("fw.alarm_persisted", timeout=30, event="SOS")
    alert = system.wait_alert("W1", timeout=90, counter=persisted["n"])
    [(code,)] = query(system, "SELECT code FROM alerts WHERE id=?", alert["id"])
    wait_until(lambda: texts_to(system, OFFICER, f"Repondez OK {code}"), 90, "the alert SMS on the officer's phone")

    system.network.send(OFFICER, HUB_NUMBER, f"OK {code}")
    felt = wearable.wait_for("fw.felt", timeout=90, status="ACK", n=alert["counter"])
    assert felt["pattern"] == "ack"  # the wearer feels his OK as an operator's click
    wait_until(lambda: texts_to(system, OFFICER, f"{code} est à vous"), 60, "the officer's confirmation")

    system.network.send(OFFICER, HUB_NUMBER, f"PARS {code}")
    wearable.wait_for("fw.felt", timeout=90, status="DSP", n=alert["counter"])
    assert system.wait_alert("W1", timeout=60, counter=alert["counter"], state="dispatched")["state"] == "dispatched"

    system.network.send(OFFICER, HUB_NUMBER, f"FIN {code} réel")
    wait_until(lambda: query(system, "SELECT state, outcome, resolved_by FROM alerts WHERE id=?", alert["id"])
               == [("resolved", "real", "Adjudant Diarra")], 90, "the incident resolved as real")
    audit = [json.loads(detail) for (detail,) in query(
        system, "SELECT detail FROM hops WHERE alert_id=? AND hop='responder.action' ORDER BY t, id", alert["id"])]
    assert [(a["responder"], a["number"], a["sms"], a["result"]) for a in audit] == [
        ("Adjudant Diarra", OFFICER, f"OK {code}", "done"), ("Adjudant Diarra", OFFICER, f"PARS {code}", "done"),
        ("Adjudant Diarra", OFFICER, f"FIN {code} réel", "done")]
    operators = query(system, "SELECT hop, json_extract(detail, '$.operator') FROM hops WHERE alert_id=? AND hop "
                              "LIKE 'console.%' ORDER BY t, id", alert["id"])
    assert operators == [("console.acknowledge", "Adjudant Diarra"), ("console.dispatch", "Adjudant Diarra"),
                         ("console.resolve", "Adjudant Diarra")]
    # The wearer's contact was told each step on her own phone: taken, on the way, resolved.
    contact = system.plan[0]["contact"]["phone"]
    notices = wait_until(lambda: (lambda found: found if len(found) >= 3 else None)(
        texts_to(system, contact, f"({code})")), 90, "the three notices on the contact's phone")
    assert len(notices) == 3 and all(text.startswith("Deme: ") for text in notices)


def test_a_feature_phone_report_opens_an_incident_and_a_stranger_learns_nothing_of_it(system):
    system.network.send(REPORTER, HUB_NUMBER, "AIDE agression rue 12")
    [(alert_id, code, category, raw, source)] = wait_until(lambda: query(
        system, "SELECT id, code, category, raw, source FROM alerts WHERE device_id=?", REPORTER), 90,
        "the report's incident")
    assert (category, raw, source) == ("AGR", "AIDE agression rue 12", "report")
    [answer] = wait_until(lambda: texts_to(system, REPORTER, f"Code {code}"), 90, "the reply on the reporter's phone")
    assert answer.startswith("Deme: recu, la police est prévenue.")
    # Routed like its category: the police team's officer is texted about it, with the reporter's number.
    wait_until(lambda: texts_to(system, OFFICER, f"DEME {code} AGRESSION"), 90, "the report on the officer's phone")

    system.network.send(STRANGER, HUB_NUMBER, f"OK {code}")
    wait_until(lambda: query(system, "SELECT kind FROM inbox_messages WHERE sender=?", STRANGER), 90,
               "the stranger's SMS kept in the inbox")
    assert query(system, "SELECT state FROM alerts WHERE id=?", alert_id) == [("new",)]
    assert query(system, "SELECT COUNT(*) FROM outbox WHERE recipient=?", STRANGER) == [(0,)]
    assert system.network.inbox(STRANGER) == []
