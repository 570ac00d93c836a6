"""Standby end to end: the firmware on MicroPython switches its simulated modem off between heartbeats (AT power-down,
so the simulated GSM network keeps the hub's SMS at its SMS centre), sleeps on the simulated RTC's timer through
the real PCF8563 driver, wakes on the button, and the whole chain still works: the press reaches the hub and the
operator's acknowledgement and dispatch reach the wearer as they happen; what the hub sends while the modem is off
arrives with the next heartbeat."""
import time

import pytest

from sim.demo import DemoSystem

HEARTBEAT_S = 30  # 3600 on a wearable; short here so that one test sees a heartbeat come round
LISTEN_S = 3


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    demo = DemoSystem(tmp_path_factory.mktemp("standby"), wearables=1, sms_delay_s=(0.2, 0.6), log=lambda _m: None,
                      wearable_config={"heartbeat_s": HEARTBEAT_S, "listen_s": LISTEN_S, "alarm_listen_s": 300,
                                       "gps_on_s": 5})
    demo.start()
    yield demo
    demo.stop()


def modem_power(system):
    phone = system.plan[0]["phone"]
    return system.network.list()[phone]["power"]


def wait_asleep(wearable, timeout=180, modem_off_in=None):
    """Until the board sleeps; with modem_off_in (the system), also with its modem off at the same moment (the
    board may sleep with the modem on, listening on RI)."""
    deadline = time.monotonic() + timeout
    while wearable.asleep_since is None or modem_off_in is not None and modem_power(modem_off_in) != "off":
        if time.monotonic() > deadline:
            raise AssertionError("the wearable did not go to sleep:\n" + "\n".join(wearable.output[-30:]))
        time.sleep(0.2)


def test_boot_heartbeat_is_receipted_then_the_modem_is_switched_off_and_the_board_sleeps(system):
    wearable = system.wearables["W1"]
    hb = wearable.wait_for("fw.alarm_persisted", timeout=90, event="HB")
    wearable.wait_for("fw.sms_sent", timeout=90, n=hb["n"])
    off = wearable.wait_for("fw.modem_power", timeout=60, on=False)
    assert off["by_command"] is True  # AT+CPOWD=1: the modem detached itself from the network
    assert modem_power(system) == "off"
    wait_asleep(wearable)
    status = system.wearable_status()["W1"]  # what `deme sim status` shows
    assert status["asleep"] and status["modem"] == "off" and status["running"]
    # A heartbeat is not an incident: the console shows no open alert for it, and the wearer felt nothing.
    assert not [a for a in system.api("/api/alerts")["alerts"] if a["device_id"] == "W1" and a["event"] == "HB"]
    assert not wearable.felt("received")
    # ... but the hub knows the wearable is alive.
    device = system.api("/api/devices/W1")
    device = device.get("device", device)
    assert device["last_event"] == "HB" and device["status"] == "ok"


def test_a_shake_while_asleep_wakes_the_board_on_the_motion_interrupt_and_raises_an_sos(system):
    wearable = system.wearables["W1"]
    wait_asleep(wearable)
    mark = len(wearable.logs)
    wearable.shake(seconds=3.0)
    woke = wearable.wait_for("fw.sleep", timeout=30, since=mark)
    assert woke["woke"] == "motion"  # the simulated LIS3DH's INT1, configured by the real driver
    wearable.wait_for("fw.shake", timeout=30, since=mark)
    persisted = wearable.wait_for("fw.alarm_persisted", timeout=30, since=mark, event="SOS")
    alert = system.wait_alert("W1", timeout=120, counter=persisted["n"])
    system.api(f"/api/alerts/{alert['id']}/resolve", {"operator": "Sgt. Diallo", "note": "test shake"})


def test_a_press_while_asleep_wakes_the_board_and_the_modem_and_the_ack_and_dispatch_are_felt_at_once(system):
    wearable = system.wearables["W1"]
    wait_asleep(wearable, modem_off_in=system)
    mark = len(wearable.logs)
    wearable.press(2.5)
    wearable.wait_for("fw.sleep", timeout=30, since=mark, woke="button")
    persisted = wearable.wait_for("fw.alarm_persisted", timeout=30, since=mark, event="SOS")
    # The press itself switched the modem on: its boot overlapped the long press, before the alarm existed (unless
    # a heartbeat fell due in the same instant and switched it on first).
    entries = wearable.logs[mark:]
    sos_at = entries.index(persisted)
    [powered] = [e for e in entries[:sos_at] if e["hop"] == "fw.modem_power" and e["on"]]
    heartbeat_first = any(e["hop"] == "fw.alarm_persisted" for e in entries[:entries.index(powered)])
    assert powered["reason"] == ("pending" if heartbeat_first else "press")
    alert = system.wait_alert("W1", timeout=120, counter=persisted["n"])
    wearable.wait_for("fw.ack", timeout=90, since=mark, status="RCV", n=persisted["n"])
    system.api(f"/api/alerts/{alert['id']}/acknowledge", {"operator": "Sgt. Diallo"})
    felt = wearable.wait_for("fw.felt", timeout=90, since=mark, status="ACK", n=persisted["n"])
    assert felt["pattern"] == "ack"
    # The modem stays on for the dispatch that follows the acknowledgement: the wearer feels it at once.
    acked = wearable.logs.index(felt)
    system.api(f"/api/alerts/{alert['id']}/dispatch", {"operator": "Sgt. Diallo", "unit": "BAC Ségou 2"})
    dispatched = wearable.wait_for("fw.felt", timeout=90, since=acked, status="DSP", n=persisted["n"])
    assert dispatched["pattern"] == "dispatched"
    between = wearable.logs[acked:wearable.logs.index(dispatched)]
    assert not [e for e in between if e["hop"] == "fw.modem_power" and not e["on"]]
    # Help is on its way: the modem goes off again after listen_s.
    wearable.wait_for("fw.modem_power", timeout=60, since=wearable.logs.index(dispatched), on=False)


def test_a_fall_while_asleep_wakes_the_board_in_its_free_fall_and_the_pre_alarm_comes(system):
    wearable = system.wearables["W1"]
    wait_asleep(wearable)
    mark = len(wearable.logs)
    wearable.fall(lie_s=4.5)
    woke = wearable.wait_for("fw.sleep", timeout=30, since=mark)
    assert woke["woke"] == "motion"
    wearable.wait_for("fw.fall_prealarm", timeout=30, since=mark)  # the impact was seen: awake before it
    wearable.press(0.5)  # the wearer is fine: any press cancels the pre-alarm
    wearable.wait_for("fw.fall_cancelled", timeout=30, since=mark)
    wearable.wait_for("fw.fall_cancel_done", timeout=30, since=mark)
    assert not [e for e in wearable.logs[mark:] if e["hop"] == "fw.alarm_persisted" and e["event"] == "FALL"]


def test_what_the_hub_sends_while_the_modem_is_off_arrives_with_the_next_heartbeat(system):
    wearable = system.wearables["W1"]
    [alert] = [a for a in system.api("/api/alerts")["alerts"] if a["device_id"] == "W1" and a["event"] == "SOS"]
    wait_asleep(wearable)
    assert modem_power(system) == "off"
    mark = len(wearable.logs)
    system.api(f"/api/alerts/{alert['id']}/resolve", {"operator": "Sgt. Diallo", "note": "wearer safe at home"})
    # The resolution waits at the simulated SMS centre; the next heartbeat switches the modem on and it comes in.
    hb = wearable.wait_for("fw.alarm_persisted", timeout=HEARTBEAT_S + 60, since=mark, event="HB")
    resolved = wearable.wait_for("fw.ack", timeout=90, since=mark, status="RES", n=alert["counter"])
    assert wearable.logs.index(resolved) > wearable.logs.index(hb)
    woke = [e for e in wearable.logs[mark:] if e["hop"] == "fw.sleep" and e["t"] <= hb["t"]]
    assert woke and woke[-1]["woke"] == "rtc"  # the simulated PCF8563's timer ended the sleep
    assert wearable.slept_s > 0
