"""The police response's first hop: from the hub committing an alert to the first responder SMS queued in the outbox,
and to that SMS taken by the hub's modem (+CMGS to AT+CMGS, on a simulated SIM800L over a pseudo-terminal, no
network delay). The real parts run as the hub wires them: the store, the bus, the escalation engine's task woken by
the `alert.new` event, the outbox worker and the modem driver. Figures, not pass/fail."""
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from drivers.modem import Modem
from hub.bus import Bus
from hub.hops import Hops
from hub.incidents.escalation import Escalation
from hub.incidents.plan import parse_plan
from hub.outputs.outbox import OutboxWorker
from hub.platform.serialport import SerialUART
from hub.store import Store
from sim.modem import SimulatedModem

ALERTS = 200
OFFICER = "+22376100001"
PLAN = {
    "supervisors": "supervisors",
    "responders": [{"name": "Adjudant Diarra", "phone": OFFICER}, {"name": "Commissaire", "phone": "+22376100004"}],
    "teams": [{"name": "police", "members": ["Adjudant Diarra"], "rota": "always"},
              {"name": "supervisors", "members": ["Commissaire"], "rota": "always"}],
    "routes": [{"name": "default", "steps": [{"teams": ["police"]},
                                             {"teams": ["supervisors"], "after_s": 3600}]}],
}
# The longest one alert may take to its +CMGS before the bench gives up (a hang guard, not a threshold).
HANG_GUARD_S = 30.0


def _percentiles(samples_s):
    ms = sorted(s * 1000 for s in samples_s)
    p99 = ms[max(0, int(len(ms) * 0.99) - 1)]
    return f"p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms"


async def _measure(store, modem, n):
    bus = Bus()
    hops = Hops(store, bus)
    sent_at = {}
    arrived = asyncio.Event()

    async def send(recipient, body):
        refs = await modem.send_sms(recipient, body)
        sent_at[body] = time.time()  # +CMGS: the modem has taken it
        arrived.set()
        return refs

    outbox = OutboxWorker(store, hops, send)
    engine = Escalation(store, parse_plan(PLAN, "ML"), hops, outbox.wake)
    outbox_task = asyncio.create_task(outbox.run())
    engine.start()
    queued, taken = [], []
    try:
        for counter in range(1, n + 1):
            alert = {"device_id": "W1", "counter": counter, "event": "SOS", "category": "GEN", "lat": 13.4317,
                     "lon": -6.2157, "acc_m": 12, "fix_age_s": 2, "cell": None, "battery": 80}
            _status, stored = store.record_alert(alert, f"bench {counter}", "sms")
            committed = time.time()
            hops.record("hub.stored", alert=stored, alert_id=stored["id"], via="sms")
            deadline = time.monotonic() + HANG_GUARD_S
            while True:
                messages = [m for m in store.outbox(stored["id"]) if m["kind"] == "responder"]
                if messages and messages[0]["body"] in sent_at:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"alert {counter}: no responder SMS taken by the modem")
                arrived.clear()
                try:
                    await asyncio.wait_for(arrived.wait(), 0.05)
                except TimeoutError:
                    pass
            queued.append(messages[0]["created_at"] - committed)
            taken.append(sent_at[messages[0]["body"]] - committed)
            store.transition(stored["id"], "resolve", "bench")  # its code comes free, the ladder stops
    finally:
        await engine.stop()
        outbox_task.cancel()
        await asyncio.gather(outbox_task, return_exceptions=True)
    return queued, taken


def measure(n=ALERTS):
    sim = SimulatedModem("+22370000001", profile="sim800l", time_scale=0).start()
    sim.wait_ready()
    uart = SerialUART(sim.pty_path).open()
    modem = Modem(uart, poll_ms=1, auto_fetch=False)
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "bench.db").open()

        async def run():
            await modem.start()
            try:
                return await _measure(store, modem, n)
            finally:
                await modem.stop()

        try:
            return asyncio.run(run())
        finally:
            store.close()
            uart.close()
            sim.stop()


def main():
    queued, taken = measure()
    print(f"alert committed -> first responder SMS queued, {len(queued)} alerts: {_percentiles(queued)}")
    print(f"alert committed -> that SMS taken by the hub's modem (+CMGS, SIM800L simulator on a pty): "
          f"{_percentiles(taken)}")


if __name__ == "__main__":
    main()
