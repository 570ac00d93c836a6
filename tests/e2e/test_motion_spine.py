"""Motion triggers end to end: the wearer's movements (sim/wearable.py's models) stream into the firmware's
simulated LIS3DH, the REAL chip driver and detectors run in the firmware on MicroPython, and what they raise
travels by SMS through the simulated GSM network to the hub (its own process) and its console API."""
import random
import threading
import time

import pytest

from drivers.fall import FallDetector
from drivers.shake import ShakeDetector
from hub.cli import main as deme
from sim import wearable as models
from sim.demo import DemoSystem, serve_control

FALL_CANCEL_S = 10  # the firmware's fall_cancel_s here (30 on a real wearable): long enough that a loaded CI
# machine still delivers the cancelling press inside the window; the tests wait through it
LIE_S = 4.5  # lying still after the impact: the detector decides 3.5-3.9 s after it


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    demo = DemoSystem(tmp_path_factory.mktemp("motion"), wearables=1, sms_delay_s=(0.2, 0.6), log=lambda _m: None,
                      wearable_config={"fall_cancel_s": FALL_CANCEL_S})
    demo.start()
    demo.wearables["W1"].wait_for("fw.imu_ready", timeout=60)
    demo.wearables["W1"].wait_for("fw.modem_ready", timeout=90)
    server = serve_control(demo)
    yield demo
    server.shutdown()
    demo.stop()


def detections(samples):
    shake, fall = ShakeDetector(), FallDetector()
    found = []
    for i, (x, y, z) in enumerate(samples):
        if shake.update(x, y, z, 10 * i) is not None:
            found.append("shake")
        if fall.update(x, y, z, 10 * i) is not None:
            found.append("fall")
    return found


def test_the_movement_models_mean_what_they_say_to_the_detectors():
    # The same models the simulated wearable streams, straight into the detectors (CPython), over many seeds.
    for seed in range(20):
        rng = random.Random(seed)
        for name, samples, expected in (
                ("shake", models.shake_samples(rng), ["shake"]),
                ("shake along z at 6 Hz", models.shake_samples(rng, freq_hz=6.0, axis="z"), ["shake"]),
                ("fall", models.fall_samples(rng), ["fall"]),
                ("fall, short lie", models.fall_samples(rng, lie_s=LIE_S), ["fall"]),
                ("walk", models.walk_samples(rng, 10), []),
                ("jog", models.jog_samples(rng, 12), [])):
            got = detections(models.rest_samples(rng, 300) + samples + models.rest_samples(rng, 600))
            assert got == expected, (seed, name, got)


def hops_since(wearable, mark, *names):
    return [e for e in wearable.logs[mark:] if e["hop"] in names]


def alert_with_counter(system, counter, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for alert in system.api("/api/alerts?state=all")["alerts"]:
            if alert["device_id"] == "W1" and alert["counter"] == counter:
                return alert
        time.sleep(0.3)
    raise AssertionError(f"alert {counter} never reached the hub")


def in_background(action, *args, **kwargs):
    thread = threading.Thread(target=action, args=args, kwargs=kwargs, daemon=True)
    thread.start()
    return thread


def test_a_shake_by_deme_sim_is_an_sos_at_the_hub(system, capsys):
    wearable = system.wearables["W1"]
    mark = len(wearable.logs)
    assert deme(["sim", "--run-dir", str(system.run_dir), "shake", "W1"]) == 0
    assert "shake W1: done" in capsys.readouterr().out
    wearable.wait_for("fw.shake", since=mark, timeout=30)
    persisted = wearable.wait_for("fw.alarm_persisted", since=mark, timeout=10, event="SOS")
    assert persisted["category"] == "GEN"
    alert = alert_with_counter(system, persisted["n"])
    assert (alert["event"], alert["category"]) == ("SOS", "GEN")
    wearable.wait_for("fw.ack", since=mark, timeout=60, status="RCV", n=persisted["n"])
    assert len(hops_since(wearable, mark, "fw.shake")) == 1  # one shake, one alarm
    assert wearable.felt("pressed")
    assert not hops_since(wearable, mark, "fw.imu_error", "fw.imu_overrun", "fw.task_died")


def test_jogging_for_ten_seconds_raises_nothing(system):
    wearable = system.wearables["W1"]
    time.sleep(1.5)  # standing still first: jogging starts from rest, as it does in life
    mark = len(wearable.logs)
    sent, skipped = wearable.imu_sent, wearable.imu_skipped
    wearable.jog(10)
    wearable.walk(2)  # slowing down to a walk
    time.sleep(1.0)  # the last samples reach the firmware's detectors (it drains the FIFO every 100 ms)
    assert wearable.imu_sent - sent >= 1200 and wearable.imu_skipped == skipped  # every sample went to the chip
    assert not hops_since(wearable, mark, "fw.imu_error", "fw.imu_overrun", "fw.task_died")  # ... and was read
    assert not hops_since(wearable, mark, "fw.shake", "fw.fall_prealarm", "fw.alarm_persisted")


def test_a_fall_not_cancelled_is_a_fall_alert_after_the_window(system):
    wearable = system.wearables["W1"]
    mark = len(wearable.logs)
    falling = in_background(wearable.fall, lie_s=LIE_S)
    pre = wearable.wait_for("fw.fall_prealarm", since=mark, timeout=30)
    assert pre["window_s"] == FALL_CANCEL_S
    wearable.wait_for("fw.fall_alarm", since=mark, timeout=FALL_CANCEL_S + 10)
    persisted = wearable.wait_for("fw.alarm_persisted", since=mark, timeout=10, event="FALL")
    alert = alert_with_counter(system, persisted["n"])
    assert (alert["event"], alert["category"]) == ("FALL", "MED")
    wearable.wait_for("fw.ack", since=mark, timeout=60, status="RCV", n=persisted["n"])
    falling.join(30)
    felt = [e["pattern"] for e in hops_since(wearable, mark, "fw.vibrate")]
    # The pre-alarm repeats every 5 s through the window, then the alarm is felt as sent.
    assert "pressed" in felt
    before = felt[:felt.index("pressed")]
    assert before and set(before) == {"prealarm"}
    assert not hops_since(wearable, mark, "fw.fall_cancelled", "fw.shake")


def test_a_fall_then_a_press_is_cancelled_and_nothing_is_sent(system):
    wearable = system.wearables["W1"]
    time.sleep(1.5)
    mark = len(wearable.logs)
    known = {a["id"] for a in system.api("/api/alerts?state=all")["alerts"]}
    falling = in_background(wearable.fall, lie_s=LIE_S)
    pre = wearable.wait_for("fw.fall_prealarm", since=mark, timeout=30)
    wearable.tap(1)  # "press to cancel"
    cancelled = wearable.wait_for("fw.fall_cancelled", since=mark, timeout=10)
    assert cancelled["how"] == "press"
    falling.join(30)
    time.sleep(max(0.0, pre["t"] + FALL_CANCEL_S + 1 - time.time()))  # past when the window would have sent
    assert not hops_since(wearable, mark, "fw.fall_alarm", "fw.alarm_persisted")
    felt = [e["pattern"] for e in hops_since(wearable, mark, "fw.vibrate")]
    assert [p for p in felt if p in ("prealarm", "cancelled", "pressed")] == ["prealarm", "cancelled"]
    absorbed = hops_since(wearable, mark, "fw.button")
    assert [(e["kind"], e.get("absorbed")) for e in absorbed] == [("press", "fall_cancel")]
    assert {a["id"] for a in system.api("/api/alerts?state=all")["alerts"]} == known


def test_holding_the_button_during_a_pre_alarm_cancels_it_without_an_sos_then_the_button_works(system):
    wearable = system.wearables["W1"]
    time.sleep(1.5)
    mark = len(wearable.logs)
    falling = in_background(wearable.fall, lie_s=LIE_S)
    wearable.wait_for("fw.fall_prealarm", since=mark, timeout=30)
    wearable.hold(2.5)  # longer than the SOS press: the press cancels the pre-alarm, the hold raises nothing
    wearable.wait_for("fw.fall_cancelled", since=mark, timeout=10)
    wearable.wait_for("fw.fall_cancel_done", since=mark, timeout=10)  # released for longer than a pattern gap
    falling.join(30)
    after = len(wearable.logs)
    wearable.press(2.5)  # the pre-alarm is over: a long press is an SOS again
    persisted = wearable.wait_for("fw.alarm_persisted", since=after, timeout=30)
    assert (persisted["event"], persisted["category"]) == ("SOS", "GEN")
    alarms = hops_since(wearable, mark, "fw.alarm_persisted", "fw.fall_alarm")
    assert [e["n"] for e in alarms] == [persisted["n"]]
    alert_with_counter(system, persisted["n"])
