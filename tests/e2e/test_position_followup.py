"""An alarm never waits for a fix: pressed before the GPS has one, the alert goes at once without a position, and
a follow-up carries the fix when it comes; the hub moves it onto the open alert the console shows."""
import pytest

from sim.demo import DemoSystem


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    demo = DemoSystem(tmp_path_factory.mktemp("followup"), wearables=1, sms_delay_s=(0.2, 0.5),
                      log=lambda _m: None, gps_fix_after_s=30, wearable_config={"gps_on_s": 3})
    demo.start()
    demo.wearables["W1"].wait_for("fw.modem_ready", timeout=90)
    demo.wearables["W1"].wait_for("fw.cell", timeout=90)  # the serving cell an alarm without a fix carries
    yield demo
    demo.stop()


def test_alarm_without_a_fix_goes_at_once_and_the_fix_follows(system):
    wearable = system.wearables["W1"]
    wearable.tap(2)
    persisted = wearable.wait_for("fw.alarm_persisted", timeout=30, category="MED")
    assert persisted["fix"] is False
    alert = system.wait_alert("W1", timeout=90, counter=persisted["n"])
    assert alert["lat"] is None  # the console shows "no GPS fix" and the cell meanwhile
    assert alert["cell"] is not None
    followup = wearable.wait_for("fw.followup", timeout=120)
    wearable.wait_for("fw.ack", timeout=120, status="RCV", n=followup["n"])  # the hub has stored it
    updated = system.api(f"/api/alerts/{alert['id']}")
    assert updated["lat"] == pytest.approx(13.4317, abs=1e-3)
    assert updated["acc_m"] is not None
    assert "hub.position_update" in [h["hop"] for h in updated["hops"]]
    contact = system.plan[0]["contact"]["phone"]
    texts = [m["text"] for m in system.network.inbox(contact)]
    assert any("osm.org" in text for text in texts)  # the contact hears the position too
    # The follow-up is not a second call for help on the console.
    active = system.api("/api/alerts?state=active")["alerts"]
    assert [a["counter"] for a in active] == [persisted["n"]]


def test_receiver_sleeps_between_uses_and_wakes_for_an_alarm(system):
    system.resolve_open("W1")  # this alarm is an incident of its own, not a repeat of the previous test's
    wearable = system.wearables["W1"]
    standby = wearable.wait_for("fw.gps_standby", timeout=120, fix=True)
    assert wearable.gps_standby.wait(10)  # the simulated receiver got the standby command
    since = len(wearable.logs)
    wearable.tap(3)
    persisted = wearable.wait_for("fw.alarm_persisted", timeout=30, since=since, category="AGR")
    assert persisted["fix"] is True  # the last fix goes at once, its accuracy grown by its age
    wake = wearable.wait_for("fw.gps_wake", timeout=30, since=since)
    assert wake["reason"] == "alarm" and wake["t"] > standby["t"]
    followup = wearable.wait_for("fw.followup", timeout=60, since=since)
    assert wearable.wait_for("fw.gps_fix", timeout=30, since=since)["ttff_ms"] >= 0
    wearable.wait_for("fw.ack", timeout=120, status="RCV", n=followup["n"])
    alert = system.wait_alert("W1", timeout=30, counter=persisted["n"])
    assert "hub.position_update" in [h["hop"] for h in system.api(f"/api/alerts/{alert['id']}")["hops"]]
