"""`make bench`: what the firmware's standby really does, on the simulator (the firmware on MicroPython, the
simulated SIM800L behind the simulated GSM network, a real Mosquitto and the hub), set against the assumptions of
`deme power` (hardware/build-a/power.json): how long the modem is on per heartbeat, how long its registration takes,
how much of the time the board sleeps, and the heap. Heartbeats come every minute here (every hour on a wearable),
so each is a sample of the same cycle. Figures, not pass/fail.
"""
import statistics
import tempfile
import time
from collections import Counter

from hub.design import power
from sim.demo import DemoSystem

HEARTBEAT_S = 60
CYCLES = 3


def main():
    run_dir = tempfile.mkdtemp(prefix="deme-bench-standby-")
    system = DemoSystem(run_dir, wearables=1, sms_delay_s=(1.0, 3.0), log=lambda _m: None,
                        wearable_config={"heartbeat_s": HEARTBEAT_S, "gps_on_s": 5})
    started = time.time()
    try:
        system.start()
        wearable = system.wearables["W1"]
        # the boot cycle is not typical (GPS cold start, first registration): skip it, then watch CYCLES heartbeats
        wearable.wait_for("fw.modem_power", timeout=180, on=False)
        mark = len(wearable.logs)
        slept_before = wearable.slept_s
        t0 = time.time()
        for _ in range(CYCLES):
            since = len(wearable.logs)
            wearable.wait_for("fw.alarm_persisted", timeout=HEARTBEAT_S + 90, since=since, event="HB")
            wearable.wait_for("fw.modem_power", timeout=120, since=since, on=False)
        elapsed = time.time() - t0
        logs = wearable.logs[mark:]
        slept = wearable.slept_s - slept_before
        if wearable.asleep_since is not None:
            slept += time.time() - max(wearable.asleep_since, t0)
    finally:
        system.stop()
    register_s = [e["after_ms"] / 1000 for e in logs if e["hop"] == "fw.modem_ready" and "after_ms" in e]
    ready_s = [e["was_on_ms"] / 1000 for e in logs if e["hop"] == "fw.modem_power" and e.get("on") is False]
    on_s = [a + b for a, b in zip(register_s, ready_s)]  # from the power key to the power-down
    sleeps = [e for e in logs if e["hop"] == "fw.sleep"]
    heap = [e for e in wearable.logs if e["hop"] == "fw.heap"]
    data = power.load_power_data("a")
    modem = data["modems"]["SIM800L"]
    assumed_on = modem["register"]["seconds"] + modem["sms"]["seconds"] + power.FIRMWARE_DEFAULTS["listen_s"]
    print(f"simulated SIM800L, heartbeat every {HEARTBEAT_S} s, {CYCLES} cycles in {elapsed:.0f} s "
          f"(whole run {time.time() - started:.0f} s)")
    if on_s:
        print(f"  modem on per heartbeat: median {statistics.median(on_s):.1f} s (min {min(on_s):.1f}, max "
              f"{max(on_s):.1f}); deme power assumes {assumed_on:.0f} s (register "
              f"{modem['register']['seconds']:.0f} + SMS {modem['sms']['seconds']:.0f} + listen_s "
              f"{power.FIRMWARE_DEFAULTS['listen_s']})")
    if register_s:
        print(f"  of which power key to modem ready: median {statistics.median(register_s):.1f} s (the simulated "
              "profile's boot; a real network search adds to it)")
    print(f"  board asleep {slept:.0f} s of {elapsed:.0f} s ({100 * slept / elapsed:.0f} %), {len(sleeps)} sleeps, "
          f"woken by {dict(Counter(e['woke'] for e in sleeps))}")
    if heap:
        print(f"  heap (64-bit unix port, {wearable.heap}): {heap[-1]['used'] // 1024} kB used, "
              f"{heap[-1]['free'] // 1024} kB free")
