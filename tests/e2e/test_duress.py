"""A duress cancel end to end on real parts (the firmware on MicroPython, the simulated GSM network, the hub): the
wearer cancels an SOS with the duress gesture, an operator acknowledges the duress, and the motor has run exactly
what a real cancel runs; the hub holds the DUR as an open incident."""
import time

import pytest

from firmware.vibration import PATTERNS
from sim.demo import DemoSystem


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    # The modem stays registered ("always"): the operator's answer must reach the wearable at any moment.
    demo = DemoSystem(tmp_path_factory.mktemp("demo"), wearables=1, sms_delay_s=(0.2, 0.6), log=lambda _m: None,
                      wearable_config={"modem_mode": "always"})
    demo.start()
    demo.wearables["W1"].wait_for("fw.modem_ready", timeout=90)
    yield demo
    demo.stop()


def felt_since(wearable, since):
    """The patterns the firmware played from log entry `since` on."""
    return [e["pattern"] for e in wearable.logs[since:] if e.get("hop") == "fw.vibrate"]


def pulses_since(wearable, edge_index):
    """The motor's starts from its edge `edge_index` on, as the simulated board recorded them."""
    return sum(1 for edge in list(wearable.motor)[edge_index:] if edge.on)


def pulses_of(*patterns):
    """How many times the motor starts for these patterns (durations alternate on, off, on...)."""
    return sum((len(PATTERNS[name]) + 1) // 2 for name in patterns)


def wait_idle(wearable, timeout=30):
    """Until the motor has stopped and nothing more is queued (a pattern ends with the motor off)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        edges = list(wearable.motor)
        if not edges or not edges[-1].on:
            time.sleep(1.0)  # the firmware's gap between two patterns: a queued one would start within it
            if list(wearable.motor)[-1:] == edges[-1:]:
                return
        time.sleep(0.2)
    raise AssertionError("the motor never stopped")


def cancel_gesture(wearable, duress):
    """Within an SOS's cancel window: hold 3 s, release; the duress gesture adds one short press soon after
    (drivers/button.py: within gap_ms of the release, once the release has outlasted the debounce)."""
    wearable.hold(3.4)
    if duress:
        time.sleep(0.2)
        wearable.tap(1, interval_s=0.1)


def sos_received(wearable):
    since = len(wearable.logs)
    wearable.press(2.5)
    sos = wearable.wait_for("fw.alarm_persisted", timeout=30, since=since, event="SOS")
    wearable.wait_for("fw.ack", timeout=90, since=since, status="RCV", n=sos["n"])
    wait_idle(wearable)


def test_an_operator_s_acknowledgement_of_a_duress_feels_exactly_like_a_cancel(system):
    wearable = system.wearables["W1"]
    # A real cancel first: what the motor runs for it and its receipt.
    sos_received(wearable)
    since, edges = len(wearable.logs), len(wearable.motor)
    cancel_gesture(wearable, duress=False)
    can = wearable.wait_for("fw.alarm_persisted", timeout=30, since=since, event="CAN")
    wearable.wait_for("fw.ack", timeout=90, since=since, status="RCV", n=can["n"])
    wait_idle(wearable)
    cancel_felt, cancel_pulses = felt_since(wearable, since), pulses_since(wearable, edges)
    assert cancel_felt == ["cancelled", "received"] and cancel_pulses == pulses_of("cancelled", "received")

    # The duress: the hub keeps it open, an operator takes it, the wearable plays nothing more than for the cancel.
    sos_received(wearable)
    since, edges = len(wearable.logs), len(wearable.motor)
    cancel_gesture(wearable, duress=True)
    dur = wearable.wait_for("fw.alarm_persisted", timeout=30, since=since, event="DUR")
    alert = system.wait_alert("W1", timeout=90, counter=dur["n"])
    assert alert["event"] == "DUR" and alert["state"] == "new"
    wearable.wait_for("fw.ack", timeout=90, since=since, status="RCV", n=dur["n"])
    system.api(f"/api/alerts/{alert['id']}/acknowledge", {"operator": "Sgt. Diallo"})
    wearable.wait_for("fw.discreet_answer", timeout=90, since=since, status="ACK", n=dur["n"])
    wait_idle(wearable)
    assert felt_since(wearable, since) == cancel_felt
    assert pulses_since(wearable, edges) == cancel_pulses
