"""Issue 11: one stranger's phone must never silence the alerts of everyone else. drivers.sms_inbox over the
simulated modem on a real pty: the SIM is a landing area (parts of concatenated SMS move to the parts store and
leave the SIM at once), one sender's unfinished messages are bounded (the oldest evicted and handed over flagged,
never silently), and a burst of notices larger than the notice queue is caught up by an immediate listing."""
import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers import pdu
from drivers.modem import MAX_QUEUE, Modem
from hub.platform.serialport import SerialUART
from sim.modem import SimulatedModem
from sim.modem.storage import REC_UNREAD

NUMBER = "+22376000001"
STRANGER = "+22376999999"
WEARABLE = "+22376000042"
TS = (26, 11, 23, 18, 30, 0, 0)


async def wait_for(predicate, timeout_s=10.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def session(body, profile="sim800l", sim_capacity=50, parts=None, **kw):
    """Run `await body(sim, modem, got, logs)` with a started driver on a fresh simulated modem."""
    sim = SimulatedModem(NUMBER, profile=profile, time_scale=0, sim_capacity=sim_capacity).start()
    sim.wait_ready()
    uart = SerialUART(sim.pty_path).open()
    got, logs = [], []
    kw.setdefault("auto_fetch", False)
    if parts is not None:
        kw["sms_parts"] = parts
    modem = Modem(uart, poll_ms=2, log=logs.append, **kw)

    async def on_sms(sms):
        got.append(sms)

    modem.set_sms_handler(on_sms)

    async def run():
        await modem.start()
        await modem.fetch_stored()
        try:
            return await body(sim, modem, got, logs)
        finally:
            await modem.stop()

    try:
        return asyncio.run(run()), got, logs, sim
    finally:
        uart.close()
        sim.stop()


def part_pdu(sender, ref, seq, total, text="x" * 150):
    """One part of a concatenated SMS-DELIVER whose header says `total` parts (255: a message that never ends)."""
    first = pdu.encode_deliver(sender, text + "y" * 60, TS, concat_ref=ref)[0]
    header = "050003%02X02%02X" % (ref, 1)
    assert header in first
    return first.replace(header, "050003%02X%02X%02X" % (ref, total, seq), 1)


def land(sim, pdu_hex):
    """The network hands the modem one SMS-DELIVER (as sim.inject_sms does for a text): True when stored."""
    import binascii

    from sim.modem import tpdu
    smsc, body = tpdu.split_smsc(binascii.unhexlify(pdu_hex))
    return sim.receive_deliver(body, smsc)


def test_a_strangers_endless_message_leaves_the_sim_and_an_sos_still_lands():
    async def body(sim, modem, got, logs):
        landed = [land(sim, part_pdu(STRANGER, 7, seq, 255)) for seq in range(1, 51)]
        emptied = await wait_for(lambda: sim.inbox() == [])
        sos = sim.inject_sms(WEARABLE, "SOS from the wearable")
        delivered = await wait_for(lambda: any(m["text"] == "SOS from the wearable" for m in got))
        return landed, emptied, sos, delivered

    (landed, emptied, sos, delivered), got, logs, sim = session(body)
    assert all(landed)
    assert emptied, "the stranger's parts are still on the SIM: %d slots used" % len(sim.inbox())
    assert sos is True  # not refused for "storage full"
    assert delivered


def test_one_senders_unfinished_messages_are_bounded_and_the_oldest_is_handed_over_flagged():
    from drivers.sms_inbox import MemoryParts
    parts = MemoryParts()

    async def body(sim, modem, got, logs):
        modem.inbox.max_sender_parts = 4
        for ref in (1, 2, 3):
            for seq in (1, 2, 3):
                land(sim, part_pdu(STRANGER, ref, seq, 255))
        # a wearable's two-part message in the middle of it all still completes
        for hex_pdu in pdu.encode_deliver(WEARABLE, "w" * 200, TS, concat_ref=9):
            land(sim, hex_pdu)
        await wait_for(lambda: sim.inbox() == [] and len(got) >= 3)
        return parts.usage(STRANGER)

    (held, _bytes), got, logs, sim = session(body, parts=parts)
    assert held <= 4
    evicted = [m for m in got if m.get("number") == STRANGER]
    assert [m["incomplete"] for m in evicted] == [True, True]  # refs 1 and 2, oldest first
    assert all("evicted" in m["reason"] for m in evicted)
    assert [m["text"] for m in got if m.get("number") == WEARABLE] == ["w" * 200]


def test_a_burst_larger_than_the_notice_queue_is_listed_at_once_and_nothing_is_lost():
    messages = 12  # 3 parts each: 36 notices, more than the queue holds, fewer than the SIM's 50 slots
    assert messages * 3 > MAX_QUEUE

    async def body(sim, modem, got, logs):
        sent = []
        for n in range(messages):
            text = ("m%02d " % n) + "z" * 400
            for hex_pdu in pdu.encode_deliver("+2237600%04d" % n, text, TS, concat_ref=n + 1):
                land(sim, hex_pdu)  # the loop is blocked: the notices pile up faster than they are read
            sent.append(text)
            if n == messages // 2:
                sent.append("SOS in the burst")
                sos = sim.inject_sms(WEARABLE, "SOS in the burst")
        done = await wait_for(lambda: len(got) >= len(sent) and sim.inbox() == [])
        return sent, sos, done

    # stored_retry_ms: a listing after a failed handler waits this long; an overflow must not wait at all
    (sent, sos, done), got, logs, sim = session(body, stored_retry_ms=10 ** 9)
    assert any("incoming queue full" in line for line in logs)  # the burst did overflow the queue
    assert sos is True
    assert done, "delivered %d of %d" % (len(got), len(sent))
    assert sorted(m["text"] for m in got) == sorted(sent)
    listings = [d for _t, direction, d in sim.transcript if direction == "in" and b"AT+CMGL" in d]
    assert len(listings) >= 2  # the one after start, then the catch-up the overflow asked for


@st.composite
def incoming(draw):
    """Any SMS the simulated network can land on a SIM, from any sender, and raw PDUs it never checked."""
    kind = draw(st.sampled_from(["text", "part", "raw"]))
    if kind == "raw":
        return draw(st.binary(min_size=1, max_size=176)).hex().upper()
    sender = draw(st.one_of(st.from_regex(r"\+?[0-9]{3,15}", fullmatch=True),
                            st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,10}", fullmatch=True)))
    if kind == "text":
        text = draw(st.text(min_size=0, max_size=400))
        return pdu.encode_deliver(sender, text, TS)
    total = draw(st.integers(1, 255))
    return part_pdu(sender, draw(st.integers(0, 255)), draw(st.integers(1, total)), total)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(incoming(), min_size=1, max_size=8))
def test_any_sms_leaves_the_sim_within_one_listing(batch):
    flat = []
    for item in batch:
        flat.extend(item if isinstance(item, list) else [item])

    async def body(sim, modem, got, logs):
        mem = sim.storages["SM"]
        with sim._lock:
            for hex_pdu in flat[:mem.capacity]:
                mem.store(REC_UNREAD, hex_pdu, max(0, len(hex_pdu) // 2 - 1))
        await modem.fetch_stored()  # one listing cycle
        return sim.inbox()

    left, got, logs, sim = session(body)
    assert left == [], logs
