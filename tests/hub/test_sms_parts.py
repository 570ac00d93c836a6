"""Issue 11: the hub keeps the parts of concatenated SMS in its store (table sms_parts, migration 0003), not on the
SIM: a part is committed, then deleted from the SIM; a message is put together across a hub restart; a database at
revision 0002 upgrades with its rows."""
import asyncio

from alembic import command
from sqlalchemy import create_engine

import hub.store.migrate
from drivers import pdu
from drivers.modem import Modem
from hub.platform.serialport import SerialUART
from hub.store import Store
from hub.store.api import StoredSMSParts
from sim.modem import SimulatedModem
from tests.drivers.test_sms_inbox_hardening import land, part_pdu

NUMBER = "+22376000001"
SENDER = "+22376000042"
TS = (26, 11, 23, 18, 30, 0, 0)


async def wait_for(predicate, timeout_s=10.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def hub_session(sim, path, body):
    """One run of the hub's modem wiring: a Store, the Modem with the durable parts store, a handler."""
    store = Store(path).open()
    uart = SerialUART(sim.pty_path).open()
    got = []
    modem = Modem(uart, poll_ms=2, auto_fetch=False, sms_parts=StoredSMSParts(store))

    async def on_sms(sms):
        got.append(sms)

    modem.set_sms_handler(on_sms)

    async def run():
        await modem.start()
        try:
            return await body(modem, got, store)
        finally:
            await modem.stop()

    try:
        return asyncio.run(run()), got
    finally:
        uart.close()
        store.close()


def test_a_part_is_committed_then_leaves_the_sim_and_the_message_completes_after_a_restart(tmp_path):
    path = tmp_path / "deme.db"
    first, second = pdu.encode_deliver(SENDER, "long alert " + "q" * 200, TS, concat_ref=5)
    with SimulatedModem(NUMBER, profile="sim800l", time_scale=0) as sim:
        sim.wait_ready()

        async def before_restart(modem, got, store):
            land(sim, first)
            await wait_for(lambda: sim.inbox() == [])
            return sim.inbox(), store.sms_part_messages(), list(got)

        (left, kept, got_before), _ = hub_session(sim, path, before_restart)
        assert left == []  # off the SIM ...
        assert [(row[0], row[1], row[2], row[3]) for row in kept] == [(SENDER, 5, 2, 1)]  # ... and in the store
        assert got_before == []

        async def after_restart(modem, got, store):
            land(sim, second)
            await wait_for(lambda: got)
            return store.sms_part_messages()

        kept_after, got = hub_session(sim, path, after_restart)
    assert [m["text"] for m in got] == ["long alert " + "q" * 200]
    assert not got[0]["incomplete"]
    assert kept_after == []  # dropped once handed over


def test_copies_are_kept_once_and_the_store_reports_what_each_message_holds(tmp_path):
    with Store(tmp_path / "deme.db") as store:
        parts = StoredSMSParts(store)
        key = ("+22376999999", 7, 255)
        assert parts.put(key, 1, part_pdu(key[0], 7, 1, 255)) is True
        assert parts.put(key, 1, part_pdu(key[0], 7, 1, 255)) is False  # the same part again
        assert parts.put(key, 2, part_pdu(key[0], 7, 2, 255)) is True
        assert parts.put((None, 3, 2), 1, "00") is True  # a PDU without a sender number
        rows = parts.summary()
        assert [row[0] for row in rows] == [key, (None, 3, 2)]
        assert rows[0][1] == 2 and rows[0][2] == len(part_pdu(key[0], 7, 1, 255))  # two parts of half as many bytes
        assert sorted(parts.get(key)) == [1, 2]
        assert parts.usage(key[0]) == (2, rows[0][2])
        parts.drop(key)
        assert parts.get(key) == {} and [row[0] for row in parts.summary()] == [(None, 3, 2)]


def test_a_database_at_revision_0002_upgrades_with_its_rows(tmp_path):
    path = tmp_path / "deme.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        command.upgrade(hub.store.migrate.alembic_config(connection), "0002")
        connection.exec_driver_sql(
            "INSERT INTO rejected (t, via, sender, raw, reason) VALUES (1.0, 'sms', '+1', 'x', 'not a Deme alert')")
    engine.dispose()
    with Store(path) as store:
        assert [r["reason"] for r in store.rejected()] == ["not a Deme alert"]
        assert store.put_sms_part("+1", 1, 2, 1, "00") is True
        assert [row[:4] for row in store.sms_part_messages()] == [("+1", 1, 2, 1)]
