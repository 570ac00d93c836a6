"""At-least-once reception as a property (Hypothesis): whatever the SIM holds (single SMS, concatenated parts in
any order, undecodable PDUs) and whenever the handler fails, a message is deleted from the SIM only after a
handler call that covered it returned or, for a part of a concatenated SMS, once the parts store keeps it; nothing
crashes, and once the handler works every message comes out."""
import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers import pdu
from drivers.sms_inbox import MemoryParts
from tests.dual.test_modem_sms import _stored_table, make

TS = (26, 11, 23, 18, 30, 0, 0)
SENDER = "+22376123456"

single = st.builds(lambda t: ("single", t), st.text(alphabet="abcXYZ 0123456789=;", min_size=1, max_size=40))
long = st.builds(lambda t, ref, drop: ("long", t, ref, drop),
                 st.text(alphabet="abc ", min_size=161, max_size=320), st.integers(0, 255), st.booleans())
garbage = st.builds(lambda h: ("garbage", h), st.sampled_from(["00", "0791", "07911326", "FFFF", "0011000B91"]))


def build_sim(items, order_seed):
    """-> (store {index: pdu_hex}, expected texts of complete messages, incomplete count)."""
    pdus = []
    complete, incomplete = [], 0
    used_refs = set()
    for item in items:
        if item[0] == "single":
            pdus.append(pdu.encode_deliver(SENDER, item[1], TS)[0])
            complete.append(item[1])
        elif item[0] == "long":
            _, text, ref, drop = item
            if ref in used_refs:
                continue
            used_refs.add(ref)
            parts = pdu.encode_deliver(SENDER, text, TS, concat_ref=ref)
            if drop:
                parts = parts[1:]
                incomplete += 1
            else:
                complete.append(text)
            pdus.extend(parts)
        else:
            pdus.append(item[1])
    order = sorted(range(len(pdus)), key=lambda i: (i * 7919 + order_seed) % 1009)
    return {n + 1: pdus[i] for n, i in enumerate(order)}, complete, incomplete


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(st.one_of(single, long, garbage), min_size=1, max_size=6),
       failures=st.lists(st.booleans(), max_size=12), order_seed=st.integers(0, 1000))
def test_deleted_only_after_a_successful_handler_and_nothing_lost(items, failures, order_seed):
    store, complete, incomplete = build_sim(items, order_seed)
    original = dict(store)
    deleted = []
    log = []
    table = _stored_table(store, deleted, log)
    plan = list(failures)
    delivered = []
    covered = set()  # indexes some handler call returned for
    early = []  # CMGD of an index neither a handler nor the parts store had, at the moment the modem received it
    parts = MemoryParts()

    def kept(pdu_hex):
        return any(pdu_hex in parts.get(row[0]).values() for row in parts.summary())

    def guard(cmgd):
        def reply(cmd):
            index = int(cmd.split("=")[1])
            if index not in covered and not kept(store.get(index)):
                early.append(index)
            return cmgd(cmd)
        return reply

    for key in [k for k in table if k.startswith("AT+CMGD=")]:
        table[key] = guard(table[key])
    uart, modem, events = make(table, auto_fetch=False, reassembly_timeout_ms=0, sms_parts=parts)

    async def handler(sms):
        fail = plan.pop(0) if plan else False
        if fail:
            raise OSError("store unavailable")
        delivered.append(sms)
        covered.update(sms["indexes"])
        log.append(("ok", tuple(sms["indexes"])))

    modem.set_sms_handler(handler)

    async def body():
        for _ in range(len(failures) + 3):
            await modem.fetch_stored()
            modem.inbox.stored_retry_ms = 0  # the kept messages whose handler failed are retried at once
            await modem.inbox.housekeeping()  # expires incomplete concatenations (timeout 0)
        return True

    async def run():
        await modem.start()
        try:
            return await body()
        finally:
            await modem.stop()

    assert asyncio.run(run())
    assert early == [], (early, log)
    assert store == {}, (store, log)
    assert sorted(deleted) == sorted(original)
    texts = [m["text"] for m in delivered if m.get("type") == "deliver" and not m.get("incomplete")]
    assert sorted(texts) == sorted(complete)
    assert sum(1 for m in delivered if m.get("incomplete")) >= incomplete
    undecodable = [m for m in delivered if m.get("type") == "undecodable"]
    assert len(undecodable) == sum(1 for it in items if it[0] == "garbage")
