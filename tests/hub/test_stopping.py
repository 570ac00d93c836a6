"""The hub's waiting loops stop when they are cancelled, also when the cancellation comes as they are woken (an
operator's ack wakes the outbox as the hub stops): Python 3.11's asyncio.wait_for would swallow that cancellation
and the hub's stop would wait for the loop for ever."""
import asyncio

from hub.bus import Bus
from hub.hops import Hops
from hub.incidents.escalation import Escalation
from hub.incidents.plan import parse_plan
from hub.outputs.outbox import OutboxWorker
from hub.store import Store
from tests.hub.spine_fixtures import make_config
from tests.hub.test_escalation import PLAN


async def woken_and_cancelled_at_once(task, wake):
    await asyncio.sleep(0.1)  # the loop is waiting for its next wake-up
    wake()
    task.cancel()
    done, _pending = await asyncio.wait([task], timeout=10)  # a hang guard only
    return task in done and task.cancelled()


def test_the_outbox_worker_stops_when_woken_as_it_is_cancelled(tmp_path):
    store = Store(make_config(tmp_path).database).open()

    async def send(_recipient, _body):
        return [1]

    async def scenario():
        worker = OutboxWorker(store, Hops(store, Bus()), send)
        task = asyncio.create_task(worker.run())
        return await woken_and_cancelled_at_once(task, lambda: worker._wake.set())

    try:
        assert asyncio.run(scenario())
    finally:
        store.close()


def test_the_escalation_engine_stops_when_woken_as_it_is_cancelled(tmp_path):
    config = make_config(tmp_path)
    store = Store(config.database).open()

    async def scenario():
        engine = Escalation(store, parse_plan(PLAN, "ML"), Hops(store, Bus()), lambda: None,
                            devices=config.devices)
        engine.start()
        return await woken_and_cancelled_at_once(engine._task, lambda: engine._wake.set())

    try:
        assert asyncio.run(scenario())
    finally:
        store.close()
