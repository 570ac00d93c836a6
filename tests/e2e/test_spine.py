"""The spine, end to end on real parts: the firmware on MicroPython, modems on ptys behind the simulated GSM
network (its own process), a real Mosquitto, the hub (its own process) and its console API."""
import sqlite3
import time

import pytest

from drivers.alert import MAC_HEX_DIGITS
from firmware.vibration import PATTERNS
from sim.demo import HUB_NUMBER, DemoSystem


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    # The modem stays registered here ("always"): these tests send to the wearable at any moment. Standby, with
    # the modem off between heartbeats, is tests/e2e/test_standby.py.
    demo = DemoSystem(tmp_path_factory.mktemp("demo"), wearables=1, sms_delay_s=(0.2, 0.6), log=lambda _m: None,
                      wearable_config={"modem_mode": "always"})
    demo.start()
    demo.wearables["W1"].wait_for("fw.modem_ready", timeout=90)
    yield demo
    demo.stop()


def hub_db(system):
    return sqlite3.connect(system.run_dir / "hub.db")


def wait_until(predicate, timeout=60, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _has_run(pulses, lengths):
    """Whether consecutive pulses last at least the given lengths (the firmware sleeps at least that long)."""
    n = len(lengths)
    return any(all(length >= want for (_, length), want in zip(pulses[i:i + n], lengths))
               for i in range(len(pulses) - n + 1))


def test_sos_round_trip_from_button_to_felt_acknowledgement(system):
    wearable = system.wearables["W1"]
    wearable.press(2.5)
    persisted = wearable.wait_for("fw.alarm_persisted", timeout=30, event="SOS")
    alert = system.wait_alert("W1", timeout=90, counter=persisted["n"])
    assert alert["counter"] == persisted["n"]
    assert alert["event"] == "SOS"
    assert alert["lat"] == pytest.approx(13.4317, abs=1e-4)
    assert alert["lon"] == pytest.approx(-6.2157, abs=1e-4)
    assert alert["battery"] is not None
    wearable.wait_for("fw.ack", timeout=90, status="RCV", n=alert["counter"])
    system.api(f"/api/alerts/{alert['id']}/acknowledge", {"operator": "Sgt. Diallo"})
    felt = wearable.wait_for("fw.felt", timeout=90, status="ACK", n=alert["counter"])
    assert felt["pattern"] == "ack"
    # The motor really ran the pattern: three long pulses, edges recorded by the simulated board and ordered against
    # the firmware's log on its own clock (the tail of the "received" pattern may still be playing when it is felt).
    ack_pulses = [PATTERNS["ack"][0]] * 3
    wait_until(lambda: _has_run(wearable.motor_pulses(felt["ms"]), ack_pulses), 30, "the ack pattern on the motor")
    # The trusted contact's phone received the human-readable SMS with a map link.
    contact = system.plan[0]["contact"]["phone"]
    inbox = wait_until(lambda: system.network.inbox(contact), 60, "contact SMS")
    assert any("Awa Traoré" in m["text"] and "osm.org" in m["text"] for m in inbox)
    # Every hop is logged with a timestamp, in order.
    hops = [h[0] for h in hub_db(system).execute("SELECT hop FROM hops WHERE alert_id=? ORDER BY t, id",
                                                  (alert["id"],))]
    assert hops[0] == "hub.stored"
    assert "mqtt.published" in hops and "console.acknowledge" in hops and "sms.sent" in hops


def test_forged_alert_sms_is_rejected(system):
    before = hub_db(system).execute("SELECT COUNT(*) FROM alerts").fetchone()[0]
    genuine = hub_db(system).execute("SELECT raw FROM alerts ORDER BY id DESC").fetchone()[0]
    forged = genuine.replace("e=SOS", "e=FALL")[:-MAC_HEX_DIGITS] + "0" * MAC_HEX_DIGITS
    system.network.send("+22379999999", HUB_NUMBER, forged)
    # A known counter with another body and a bad MAC: a replay, only logged (not raised to the supervisors).
    reason = wait_until(lambda: hub_db(system).execute(
        "SELECT reason FROM rejected WHERE sender='+22379999999'").fetchone(), 60, "rejection")
    assert "bad MAC" in reason[0] and "replay" in reason[0]
    assert hub_db(system).execute("SELECT COUNT(*) FROM inbox_messages WHERE sender='+22379999999'").fetchone() == (0,)
    assert hub_db(system).execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == before


def test_replayed_alert_sms_creates_no_new_alert(system):
    db = hub_db(system)
    alert_id, raw = db.execute("SELECT id, raw FROM alerts ORDER BY id DESC").fetchone()
    before = db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0]
    system.network.send("+22379999998", HUB_NUMBER, raw)  # an attacker replays a captured alert
    wait_until(lambda: hub_db(system).execute(
        "SELECT 1 FROM hops WHERE alert_id=? AND hop='hub.duplicate'", (alert_id,)).fetchone(), 60, "duplicate")
    assert hub_db(system).execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == before
    [alert] = [a for a in system.api("/api/alerts?state=all")["alerts"] if a["id"] == alert_id]
    assert alert["state"] == "acknowledged"  # the replay did not reopen it


def test_replayed_and_forged_acks_do_not_make_the_wearer_believe(system):
    wearable = system.wearables["W1"]
    db = hub_db(system)
    old_ack = db.execute("SELECT body FROM outbox WHERE kind='ack' ORDER BY id DESC").fetchone()[0]
    phone = system.plan[0]["phone"]
    felt_before = len(wearable.felt("ack"))
    system.network.send(HUB_NUMBER, phone, old_ack)
    wearable.wait_for("fw.ack_rejected", timeout=60)
    forged = old_ack.replace("h=", "h=9").rsplit(";m=", 1)[0] + ";m=" + "1" * MAC_HEX_DIGITS
    system.network.send(HUB_NUMBER, phone, forged)
    wait_until(lambda: len([e for e in wearable.logs if e["hop"] == "fw.ack_rejected"]) >= 2, 60, "2 rejections")
    reasons = [e["reason"] for e in wearable.logs if e["hop"] == "fw.ack_rejected"]
    assert any("replayed" in r for r in reasons) and any("bad MAC" in r for r in reasons)
    assert len(wearable.felt("ack")) == felt_before


def test_power_cut_after_the_alarm_is_persisted_loses_nothing(system):
    wearable = system.wearables["W1"]
    known = {row[0] for row in hub_db(system).execute("SELECT counter FROM alerts")}
    wearable.tap(2)  # a medical alert by press pattern
    persisted = wearable.wait_for("fw.alarm_persisted", timeout=30, category="MED")
    wearable.power_cut()
    boot = wearable.wait_for("fw.boot", timeout=30, pending=1)
    assert boot["counter"] == persisted["n"]
    wait_until(lambda: hub_db(system).execute("SELECT 1 FROM alerts WHERE counter=?",
                                              (persisted["n"],)).fetchone(), 120, "alert after reboot")
    rows = hub_db(system).execute("SELECT counter, category FROM alerts").fetchall()
    new = [r for r in rows if r[0] not in known]
    assert new == [(persisted["n"], "MED")]


def test_operator_in_chromium_sees_the_press_live_and_the_wearer_feels_the_click(system):
    system.resolve_open("W1")  # this press is an incident of its own, not a repeat of an earlier test's
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.support.browser import Browser

    wearable = system.wearables["W1"]
    with Browser() as driver:
        driver.get(system.console_url + "/")
        WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "link").get_attribute("data-state") == "live")
        driver.execute_script("window.__sameLoad = true")
        since = len(wearable.logs)
        wearable.tap(3)  # three presses: aggression
        persisted = wearable.wait_for("fw.alarm_persisted", timeout=30, since=since, category="AGR")
        alert_id = system.wait_alert("W1", timeout=120, counter=persisted["n"])["id"]
        # The card of this press (an incident resolved just before may still come by as its RES goes out).
        card = WebDriverWait(driver, 120).until(lambda d: d.find_elements(By.ID, "alert-%d" % alert_id))[0]
        assert driver.execute_script("return window.__sameLoad") is True  # shown live, not by reloading
        assert "Awa Traoré" in card.text
        field = driver.find_element(By.ID, "operator")
        field.clear()
        field.send_keys("Sgt. Keita")
        card.find_element(By.CSS_SELECTOR, 'button[data-action="acknowledge"]').click()
        WebDriverWait(driver, 30).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, '#alert-%d[data-state="acknowledged"]' % alert_id))
        felt = wearable.wait_for("fw.felt", timeout=120, status="ACK", n=persisted["n"])
        assert felt["pattern"] == "ack"
    row = hub_db(system).execute("SELECT acknowledged_by, category FROM alerts WHERE id=?", (alert_id,)).fetchone()
    assert row == ("Sgt. Keita", "AGR")


def test_alert_sent_while_the_hub_is_down_is_stored_when_it_comes_back(system):
    system.resolve_open("W1")  # this press is an incident of its own, not a repeat of an earlier test's
    wearable = system.wearables["W1"]
    system.stop_hub(kill=True)  # the Pi loses power
    since = len(wearable.logs)
    wearable.tap(2)  # (a long press may fall in the cancel window of the previous SOS)
    persisted = wearable.wait_for("fw.alarm_persisted", timeout=30, since=since, category="MED")
    wearable.wait_for("fw.sms_sent", timeout=60, n=persisted["n"])
    # The SMS waits on the hub's SIM (or at the SMSC) while nobody reads it.
    time.sleep(2)
    system.start_hub()
    alert = system.wait_alert("W1", timeout=120, counter=persisted["n"])
    assert alert["state"] == "new"
    wearable.wait_for("fw.ack", timeout=120, status="RCV", n=persisted["n"])
