"""drivers.modem against the modem simulator (sim) on real pseudo-terminals, through hub.platform.serialport: every
model's profile starts and probes; SMS travel through the simulated GSM network in both directions with status
reports, concatenation and faults; a hung modem is power-cycled back."""
import asyncio

import pytest

from drivers.modem import Modem
from hub.platform.serialport import SerialUART
from sim.modem import PROFILES, SimulatedModem
from sim.network import GSMNetwork

WEARABLE = "+22376000001"
HUB = "+22366000000"


async def wait_for(predicate, timeout_s=10.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


class SimPower:
    """The PWRKEY line of a simulated modem."""

    def __init__(self, sim):
        self.sim = sim
        self.cycles = 0

    async def cycle(self):
        self.cycles += 1
        self.sim.clear_faults()
        self.sim.power_cycle(off_s=0)
        await asyncio.sleep(0.05)


def driver(sim, **kw):
    uart = SerialUART(sim.pty_path).open()
    kw.setdefault("retry_delays_ms", (10, 10))
    return uart, Modem(uart, poll_ms=2, **kw)


@pytest.mark.parametrize("key", sorted(PROFILES))
def test_every_profile_starts_and_probes(key):
    sim = SimulatedModem(WEARABLE, profile=key, time_scale=0).start()
    uart, modem = driver(sim)

    async def body():
        await modem.start()
        try:
            return await modem.probe()
        finally:
            await modem.stop()

    try:
        result = asyncio.run(body())
    finally:
        uart.close()
        sim.stop()
    assert result["model"] == PROFILES[key].model
    assert result["sim"] == "READY"
    assert result["registration"]["stat"] in (1, 5)
    assert result["signal"]["rssi_dbm"] == -113 + 2 * 18
    cell = result["serving_cell"]
    assert (cell["mcc"], cell["mnc"]) == (610, 2) and cell["lac"] == sim.cell["lac"], result
    assert result["imei"] == sim.imei
    assert "error" not in result["operator"]


def test_sms_round_trip_through_the_network_with_report_and_concatenation():
    net = GSMNetwork(delay_s=0, time_scale=0, seed=1)
    w_sim = net.add_modem(WEARABLE, profile="a7670e")
    h_sim = net.add_modem(HUB, profile="sim800l")
    net.start()
    w_uart, wearable = driver(w_sim)
    h_uart, hub = driver(h_sim)
    received, reports = [], []
    long_text = "Alerte SOS " * 30  # 330 characters: 3 parts, delivered in any order

    async def on_sms(sms):
        received.append(sms)

    async def on_report(report):
        reports.append(report)

    hub.set_sms_handler(on_sms)
    wearable.set_report_handler(on_report)

    async def body():
        await wearable.start()
        await hub.start()
        try:
            refs = await wearable.send_sms(HUB, "SOS id=7 n=1", status_report=True)
            refs += await wearable.send_sms(HUB, long_text)
            await wait_for(lambda: len(received) == 2 and reports)
            return refs
        finally:
            await wearable.stop()
            await hub.stop()

    try:
        refs = asyncio.run(body())
        inbox = net.inbox(HUB)
    finally:
        w_uart.close()
        h_uart.close()
        net.stop()
    assert len(refs) == 4
    texts = sorted(m["text"] for m in received)
    assert texts == sorted(["SOS id=7 n=1", long_text])
    assert all(m["number"] == WEARABLE and not m["incomplete"] for m in received)
    assert reports and reports[0]["status"] == 0 and reports[0]["reference"] == refs[0]
    assert inbox == []  # everything handed over was deleted from the SIM


def test_failed_handler_keeps_sms_on_sim_and_fetch_stored_delivers_after_restart():
    sim = SimulatedModem(HUB, profile="ec25", time_scale=0).start()
    uart, modem = driver(sim)
    got = []

    async def failing(sms):
        raise OSError("database locked")

    async def storing(sms):
        got.append(sms["text"])

    modem.set_sms_handler(failing)

    async def first_run():
        await modem.start()
        try:
            sim.inject_sms(WEARABLE, "SOS id=3 n=9")
            await wait_for(lambda: sim.inbox() and sim.inbox()[0][1] != 0, 5)  # read, but kept
            await asyncio.sleep(0.1)
            return sim.inbox()
        finally:
            await modem.stop()

    async def second_run():
        modem2.set_sms_handler(storing)
        await modem2.start()
        try:
            return await modem2.fetch_stored()
        finally:
            await modem2.stop()

    try:
        kept = asyncio.run(first_run())
        uart.close()
        uart2, modem2 = driver(sim, auto_fetch=False)  # the explicit fetch_stored() below does the listing
        handed = asyncio.run(second_run())
        uart2.close()
        left = sim.inbox()
    finally:
        sim.stop()
    assert len(kept) == 1
    assert handed == 1 and got == ["SOS id=3 n=9"] and left == []


def test_transient_cms_error_is_retried_and_hung_modem_is_power_cycled():
    sim = SimulatedModem(WEARABLE, profile="sim800l", time_scale=0).start()
    events = []
    uart, modem = driver(sim, check_timeout_ms=200, max_failures=2, sync_timeout_ms=300,
                         on_event=lambda kind, detail: events.append(kind))
    power = SimPower(sim)
    modem.power = power

    async def body():
        await modem.start()
        try:
            sim.inject("cms_error", code=500, count=1)
            refs = await modem.send_sms("+22376000002", "retry me")
            sim.inject("hang")
            for _ in range(3):
                await modem.check()
            up = modem.link_up
            refs += await modem.send_sms("+22376000002", "after the power cycle")
            return refs, up
        finally:
            await modem.stop()

    try:
        refs, up = asyncio.run(body())
        sent = list(sim.sent)
    finally:
        uart.close()
        sim.stop()
    assert len(refs) == 2 and up
    assert power.cycles == 1
    link = [e for e in events if e in ("link up", "link down", "power cycle")]
    assert link == ["link up", "link down", "power cycle", "link up"], events
    assert len(sent) == 2
