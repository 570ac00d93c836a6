"""The incident groups what belongs together, end to end on real parts (the firmware on MicroPython, the simulated
GSM network, a real Mosquitto, the hub with a response plan): an SOS then the
wearer's cancel ends as "cancelled by the wearer" and the officer already texted is told; an SOS then the duress
gesture is escalated by the duress route."""
import sqlite3
import time

import pytest

from sim.demo import DemoSystem, police_post_plan
from tests.e2e.test_spine import wait_until

OFFICER = "+22376100001"
SUPERVISOR = "+22376100004"
# Police answer the ordinary route, the supervisors the duress one: who is texted tells which route was taken.
PLAN = police_post_plan(("Adjudant Diarra", OFFICER), ("Commissaire Traore", SUPERVISOR),
                        {"default": [{"teams": ["police"]}], "duress": [{"teams": ["superviseurs"]}]},
                        officer_lang="en")


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    demo = DemoSystem(tmp_path_factory.mktemp("demo"), wearables=1, sms_delay_s=(0.2, 0.6), log=lambda _m: None,
                      wearable_config={"modem_mode": "always"}, hub_toml_extra=PLAN)
    demo.start()
    demo.wearables["W1"].wait_for("fw.modem_ready", timeout=90)
    yield demo
    demo.stop()


def query(system, sql, *args):
    with sqlite3.connect(system.run_dir / "hub.db") as db:
        return db.execute(sql, args).fetchall()


def outbox_to(system, recipient, alert_id):
    """What the hub queued for a responder about an alert (the simulated network gives the demo's wearables and
    contacts a phone, not the plan's responders: the hub's outbox is where its SMS to them are seen)."""
    return [body for (body,) in query(system, "SELECT body FROM outbox WHERE recipient=? AND alert_id=? ORDER BY id",
                                      recipient, alert_id)]


def sos_received(wearable):
    since = len(wearable.logs)
    wearable.press(2.5)
    sos = wearable.wait_for("fw.alarm_persisted", timeout=30, since=since, event="SOS")
    wearable.wait_for("fw.ack", timeout=90, since=since, status="RCV", n=sos["n"])
    return sos


def cancel_gesture(wearable, duress):
    """Within an SOS's cancel window: hold 3 s, release; the duress gesture adds one short press soon after (a
    person's release-then-tap, well inside the decoder's 600 ms gap; a press at the very instant of the release
    would be taken for the switch bouncing)."""
    wearable.hold(3.4)
    if duress:
        time.sleep(0.2)
        wearable.tap(1, interval_s=0.1)


def test_an_sos_then_a_cancel_is_cancelled_by_the_wearer_and_the_officer_is_told(system):
    wearable = system.wearables["W1"]
    sos = sos_received(wearable)
    alert = system.wait_alert("W1", timeout=90, counter=sos["n"])
    wait_until(lambda: outbox_to(system, OFFICER, alert["id"]), 90, "the officer's alert SMS")
    since = len(wearable.logs)
    cancel_gesture(wearable, duress=False)
    can = wearable.wait_for("fw.alarm_persisted", timeout=30, since=since, event="CAN")
    wearable.wait_for("fw.ack", timeout=90, since=since, status="RCV", n=can["n"])  # the cancel is receipted
    state = wait_until(lambda: query(system, "SELECT state, outcome, resolved_by FROM alerts WHERE id=? AND "
                                     "state='resolved'", alert["id"]), 90, "the SOS closed")
    assert state == [("resolved", "cancelled", "wearer")]
    assert query(system, "SELECT state, resolved_by FROM alerts WHERE device_id='W1' AND counter=?", can["n"]) == [
        ("resolved", "hub")]  # the cancel is no incident of its own
    told = wait_until(lambda: [body for body in outbox_to(system, OFFICER, alert["id"])
                               if "cancelled by the wearer" in body], 90, "the officer told of the cancel")
    assert len(told) == 1
    assert query(system, "SELECT state FROM escalations WHERE alert_id=?", alert["id"]) == [("closed",)]


def test_an_sos_then_the_duress_gesture_is_escalated_as_duress(system):
    wearable = system.wearables["W1"]
    sos_received(wearable)
    since = len(wearable.logs)
    cancel_gesture(wearable, duress=True)
    dur = wearable.wait_for("fw.alarm_persisted", timeout=30, since=since, event="DUR")
    wearable.wait_for("fw.ack", timeout=90, since=since, status="RCV", n=dur["n"])
    duress = system.wait_alert("W1", timeout=90, counter=dur["n"])
    assert duress["event"] == "DUR" and duress["state"] == "new"
    route = wait_until(lambda: query(system, "SELECT route FROM escalations WHERE alert_id=?", duress["id"]), 90,
                       "the duress ladder")
    assert route == [("duress",)]
    texted = wait_until(lambda: query(system, "SELECT recipient FROM outbox WHERE alert_id=? AND kind='responder'",
                                      duress["id"]), 90, "the duress route's SMS")
    assert texted == [(SUPERVISOR,)]
    # The SOS it answered is not cancelled: it shows that it continues as a duress.
    [(sos_state, sos_outcome)] = query(system, "SELECT state, outcome FROM alerts WHERE device_id='W1' AND "
                                       "counter=?", dur["n"] - 1)
    assert sos_outcome is None and sos_state != "resolved"
    assert query(system, "SELECT COUNT(*) FROM hops WHERE hop='incident.duress'") == [(1,)]
