"""drivers.modem under the simulator's fault knobs (sim/modem FAULTS), over real pseudo-terminals: a
spontaneous reboot, registration loss and return, line noise, stray URCs, a busy modem, a stalled reply, lost
commands, a full SIM, a missing SIM."""
import asyncio

from drivers.at import ATError, CMEError
from drivers.modem import Modem, SIMError
from hub.platform.serialport import SerialUART
from sim.modem import SimulatedModem

NUMBER = "+22376000001"
SENDER = "+22376000009"


async def wait_for(predicate, timeout_s=5.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def session(profile, body, **kw):
    """Run `await body(sim, modem, events, got)` with a started driver on a fresh simulated modem."""
    sim = SimulatedModem(NUMBER, profile=profile, time_scale=0).start()
    sim.wait_ready()
    uart = SerialUART(sim.pty_path).open()
    events, got = [], []
    kw.setdefault("retry_delays_ms", (10, 10, 10))
    kw.setdefault("auto_fetch", False)  # the listing runs below, before any fault is injected
    modem = Modem(uart, poll_ms=2, on_event=lambda kind, detail: events.append(kind), **kw)

    async def on_sms(sms):
        got.append(sms)

    modem.set_sms_handler(on_sms)

    async def run():
        await modem.start()
        await modem.fetch_stored()
        try:
            return await body(sim, modem, events, got)
        finally:
            await modem.stop()

    try:
        return asyncio.run(run()), events, got, sim
    finally:
        uart.close()
        sim.stop()


def test_spontaneous_reboot_is_noticed_and_the_modem_reinitialised():
    async def body(sim, modem, events, got):
        sim.inject("reboot")
        await wait_for(lambda: "modem restarted" in events)
        sim.wait_ready()
        await modem.check()  # re-runs start(): echo off, PDU mode, CNMI again
        sim.inject_sms(SENDER, "after reboot")
        await wait_for(lambda: got)
        return sim.echo, sim.cmgf

    (echo, cmgf), events, got, sim = session("a7670e", body)
    assert "modem restarted" in events
    assert not echo and cmgf == 0
    assert [m["text"] for m in got] == ["after reboot"]


def test_registration_loss_and_return_are_reported():
    async def body(sim, modem, events, got):
        sim.inject("registration_loss", stat=2)
        await wait_for(lambda: "registration lost" in events)
        sim.inject("registration_restore")
        await wait_for(lambda: events[-1] == "registered")
        return await modem.registration()

    reg, events, got, sim = session("sim800l", body)
    assert "registration lost" in events and events[-1] == "registered"
    assert reg["stat"] == 1


def test_noise_stray_urcs_and_dropped_commands_do_not_lose_an_sms():
    async def body(sim, modem, events, got):
        sim.inject("line_noise", count=64)
        sim.inject("stray_urc", count=2)  # +CMTI pointing at an empty slot, inside answers
        await modem.signal()
        await modem.signal()
        await wait_for(lambda: not modem.inbox.queue)  # the worker read the empty slots the stray URCs named
        async with modem.inbox.lock:
            pass
        sim.inject("no_reply", count=1)  # now it can only swallow our own command
        try:
            await modem.channel.command("AT+CSQ", timeout_ms=200)
        except ATError:
            pass
        sim.inject_sms(SENDER, "still here")
        await wait_for(lambda: got)
        return await modem.signal()

    signal, events, got, sim = session("ec25", body)
    assert signal["rssi_dbm"] == -77
    assert [m["text"] for m in got] == ["still here"]
    assert sim.inbox() == []


def test_busy_and_stalled_answers_are_bounded_errors():
    async def body(sim, modem, events, got):
        sim.inject("busy", count=1)
        try:
            await modem.signal()
            busy = None
        except CMEError as exc:
            busy = exc
        sim.inject("stall", count=1)
        try:
            await modem.channel.command("AT+CSQ", timeout_ms=200)
            stalled = None
        except ATError as exc:
            stalled = exc
        refs = await modem.send_sms("+22376000002", "after a stall")
        return busy, stalled, refs

    (busy, stalled, refs), events, got, sim = session("sim800l", body)
    assert busy is not None and busy.code == 515 and busy.transient
    assert stalled is not None and stalled.transient
    assert len(refs) == 1 and len(sim.sent) == 1


def test_full_sim_messages_arrive_once_space_is_freed():
    async def body(sim, modem, events, got):
        sim.inject("storage_full")
        ok = sim.inject_sms(SENDER, "refused while full")
        sim.clear_faults()
        sim.inject_sms(SENDER, "accepted")
        await wait_for(lambda: got)
        return ok

    ok, events, got, sim = session("a7670e", body)
    assert ok is False  # the network keeps it (TS 23.040 memory capacity exceeded)
    assert [m["text"] for m in got] == ["accepted"]


def test_missing_sim_is_a_sim_error():
    sim = SimulatedModem(NUMBER, profile="bg95", time_scale=0).start()
    sim.wait_ready()
    sim.inject("sim_absent")
    uart = SerialUART(sim.pty_path).open()
    modem = Modem(uart, poll_ms=2)

    async def run():
        try:
            await modem.start()
        except SIMError as exc:
            return exc.state, modem.info.get("model")
        finally:
            await modem.stop()

    try:
        state, model = asyncio.run(run())
    finally:
        uart.close()
        sim.stop()
    assert state == "not inserted" and model == "BG95-M3"


def test_power_down_by_command_parks_the_driver_until_the_power_key_and_start_bring_it_back():
    """Standby (firmware/power.py): each model's own power-down command, supervision leaves the parked modem alone,
    the power key (the simulator's power_key_on) and start() bring it back with the SIM listed."""
    for profile, command in (("sim800l", "AT+CPOWD=1"), ("a7670e", "AT+CPOF"), ("ec25", "AT+QPOWD=1")):
        async def body(sim, modem, events, got, command=command):
            assert modem.quirks.power_down == command
            assert await modem.power_down() is True
            await wait_for(lambda: sim.power == "off")
            assert sim.power == "off" and modem.parked and not modem.link_up
            assert events.count("link down") == 1
            assert await modem.check() is False  # parked: no AT, no recovery, no power cycle
            assert "escalate" not in events and "power cycle" not in events
            assert sim.power_key_on() is True
            sim.wait_ready()
            await modem.start()
            assert modem.link_up and not modem.parked and events.count("link up") == 2

        session(profile, body, model=None)
