# The modem's link events: `up` is set while the link is up, `down` while it is down, both moved only by the one
# link-up path (start) and the one idempotent link-down path, so callers `await modem.up.wait()` instead of polling.
# Runs on MicroPython and CPython.
import asyncio

from tests.dual.test_modem_sms import FakePower, make, pause, run


def link_state(modem):
    return modem.link_up, modem.up.is_set(), modem.down.is_set()


def test_a_new_modem_is_down_until_started():
    uart, modem, events = make()
    assert link_state(modem) == (False, False, True)

    async def body():
        await modem.start()
        try:
            return link_state(modem)
        finally:
            await modem.stop()

    assert run(body()) == (True, True, False)
    assert events.count("link up") == 1


def test_a_task_waiting_for_up_wakes_when_start_brings_the_link_up():
    uart, modem, events = make()
    seen = []

    async def waiter():
        await modem.up.wait()
        seen.append(link_state(modem))

    async def body():
        task = asyncio.create_task(waiter())
        await pause(3)
        before = list(seen)
        await modem.start()
        try:
            await asyncio.wait_for(task, 2)
        finally:
            await modem.stop()
        return before

    assert run(body()) == []
    assert seen == [(True, True, False)]


def test_link_down_is_idempotent_and_wakes_a_task_waiting_for_down():
    uart, modem, events = make()
    woke = []

    async def waiter():
        await modem.down.wait()
        woke.append(link_state(modem))

    async def body():
        await modem.start()
        try:
            task = asyncio.create_task(waiter())
            await pause(3)
            waiting = list(woke)
            modem.link_down("test")
            modem.link_down("test again")
            await asyncio.wait_for(task, 2)
            return waiting
        finally:
            await modem.stop()

    assert run(body()) == []
    assert woke == [(False, False, True)]
    assert events.count("link down") == 1


def test_a_hung_modem_goes_down_and_comes_back_up_after_its_power_cycle():
    uart, modem, events = make(check_timeout_ms=20, max_failures=2, sync_tries=2, sync_timeout_ms=20)
    modem.power = FakePower(uart)
    states = []
    while_down = []

    async def waiter():
        await modem.down.wait()
        while_down.append(link_state(modem))

    async def body():
        await modem.start()
        task = asyncio.create_task(waiter())
        try:
            uart.saved = dict(uart.table)
            uart.table = {}
            uart.default = None  # the modem hangs
            await modem.check()
            states.append(link_state(modem))  # one miss: still up
            await modem.check()  # second miss: link down, power cycle, start again
            states.append(link_state(modem))
            await asyncio.wait_for(task, 2)
        finally:
            await modem.stop()

    run(body())
    assert states == [(True, True, False), (True, True, False)]
    assert while_down == [(False, False, True)]  # seen by the waiter during the power cycle
    assert events[:4] == ["link up", "link down", "power cycle", "link up"]


def test_power_down_sets_down():
    uart, modem, events = make()

    async def body():
        await modem.start()
        try:
            await modem.power_down()
            return link_state(modem)
        finally:
            await modem.stop()

    assert run(body()) == (False, False, True)
    assert events.count("link down") == 1


def test_a_model_name_the_table_does_not_know_is_logged_and_the_model_detected():
    logged = []
    uart, modem, events = make(model="nokia3310", log=logged.append)
    assert modem.model is None and [line for line in logged if "unknown modem model 'nokia3310'" in line]

    async def body():
        await modem.start()
        try:
            return modem.quirks.name
        finally:
            await modem.stop()

    assert run(body()) == "sim800"  # from AT+CGMM: SIMCOM_SIM800L


def test_a_configured_model_picks_its_quirks_by_any_alias():
    for name, quirks in (("SIM800L", "sim800"), ("a7670e", "a7670"), ("EC25", "quectel"), ("generic", "generic")):
        uart, modem, events = make(model=name)
        assert modem.quirks.name == quirks, name
        assert modem.inbox.storage == modem.quirks.storage
