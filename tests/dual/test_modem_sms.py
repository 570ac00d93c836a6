# Modem API over a scripted fake UART: start sequence, send_sms bytes and retries, incoming SMS order
# (+CMTI -> CMGR -> handler -> CMGD; no CMGD when the handler raises), stored listing, concatenation, reports,
# direct delivery, supervision with power cycle. Runs on MicroPython and CPython.
import asyncio

from drivers import pdu
from drivers.at import CMSError
from drivers.compat import MICROPYTHON
from drivers.modem import Modem
from tests.dual.fake_uart import FakeUART

TS = (26, 11, 23, 18, 30, 0, 0)
SENDER = "+22376123456"


def run(coro):
    if MICROPYTHON:
        asyncio.new_event_loop()  # drop tasks a previous test may have left in MicroPython's global queue
    return asyncio.run(coro)


async def pause(n=30):
    for _ in range(n):
        await asyncio.sleep(0.001)


def identity(model="SIMCOM_SIM800L"):
    return {
        "AT+CGMI": ["SIMCOM_Ltd", "OK"],
        "AT+CGMM": [model, "OK"],
        "AT+CGMR": ["Revision:1418B05SIM800L24", "OK"],
        "AT+CGSN": ["864764030123456", "OK"],
        "AT+CPIN?": ["+CPIN: READY", "OK"],
        "AT+CSQ": ["+CSQ: 18,0", "OK"],
    }


def make(table=None, script=(), **kw):
    t = identity()
    t.update(table or {})
    uart = FakeUART(script=script, table=t)
    events = []
    kw.setdefault("retry_delays_ms", (1, 1))
    modem = Modem(uart, poll_ms=1, on_event=lambda kind, detail: events.append(kind), **kw)
    return uart, modem, events


async def started(modem, body):
    await modem.start()
    try:
        return await body()
    finally:
        await modem.stop()


def test_start_sequence_is_pdu_mode_and_cnmi():
    uart, modem, events = make()
    run(started(modem, pause))
    info = modem.info
    cmds = uart.commands
    assert cmds[0] == "AT" and cmds[1] == "ATE0" and cmds[2] == "AT+CMEE=1"
    assert "AT+CMGF=0" in cmds and "AT+CMGF=1" not in cmds
    assert cmds.index("AT+CPIN?") < cmds.index("AT+CMGF=0") < cmds.index("AT+CNMI=2,1,0,1,0")
    assert 'AT+CPMS="SM","SM","SM"' in cmds
    assert info["model"] == "SIMCOM_SIM800L" and info["imei"] == "864764030123456" and info["quirks"] == "sim800"
    assert modem.sim_state == "READY"
    assert events == ["link up"]
    assert uart.writes[0] == b"\x1b"  # closes a prompt left open by a crashed session


def test_start_with_pin():
    state = {"pin": False}

    def cpin(cmd):
        return ["+CPIN: READY", "OK"] if state["pin"] else ["+CPIN: SIM PIN", "OK"]

    def enter(cmd):
        state["pin"] = True
        return ["OK"]

    uart, modem, events = make({"AT+CPIN?": cpin, 'AT+CPIN="1234"': enter})
    run(_start_pin(modem))
    assert 'AT+CPIN="1234"' in uart.commands and modem.sim_state == "READY"


async def _start_pin(modem):
    await modem.start(pin="1234")
    await modem.stop()


def test_start_without_sim_raises_sim_error():
    from drivers.modem import SIMError

    uart, modem, events = make({"AT+CPIN?": ["+CME ERROR: 10"]})

    async def body():
        try:
            await modem.start()
        except SIMError as exc:
            return exc.state
        finally:
            await modem.stop()

    assert run(body()) == "not inserted"
    assert "AT+CMGF=0" not in uart.commands


def test_send_sms_writes_only_cmgs_hex_and_ctrl_z():
    parts = pdu.encode_submit("+22376000001", "SOS id=7 n=12", status_report=True)
    (hexpdu, length), = parts
    uart, modem, events = make({"AT+CMGS=%d" % length: [">", "+CMGS: 42", "OK"]})

    async def body():
        mark = len(uart.writes)
        refs = await modem.send_sms("+22376000001", "SOS id=7 n=12", status_report=True)
        return refs, uart.writes[mark:]

    refs, writes = run(started(modem, body))
    assert refs == [42]
    assert writes == [b"AT+CMGS=%d\r" % length, hexpdu.upper().encode() + b"\x1a"]


def test_send_long_sms_sends_every_part():
    text = "x" * 200
    parts = pdu.encode_submit("22376000001", text)
    assert len(parts) == 2
    mrs = iter([5, 6])
    table = {"AT+CMGS=%d" % n: (lambda c: [">", "+CMGS: %d" % next(mrs), "OK"]) for _, n in parts}
    uart, modem, events = make(table)
    assert run(started(modem, lambda: modem.send_sms("22376000001", text))) == [5, 6]
    assert uart.payloads == [h.upper() for h, _ in parts]


def test_send_retries_transient_error_then_succeeds():
    (hexpdu, length), = pdu.encode_submit("+22376000001", "hi")
    answers = [["+CMS ERROR: 500"], [">", "+CMS ERROR: 42"], [">", "+CMGS: 9", "OK"]]
    uart, modem, events = make({"AT+CMGS=%d" % length: lambda c: answers.pop(0)})
    assert run(started(modem, lambda: modem.send_sms("+22376000001", "hi"))) == [9]
    assert uart.commands.count("AT+CMGS=%d" % length) == 3


def test_send_gives_up_after_bounded_retries():
    (hexpdu, length), = pdu.encode_submit("+22376000001", "hi")
    uart, modem, events = make({"AT+CMGS=%d" % length: [">", "+CMS ERROR: 38"]})

    async def body():
        try:
            await modem.send_sms("+22376000001", "hi")
        except CMSError as exc:
            return exc.code

    assert run(started(modem, body)) == 38
    assert uart.commands.count("AT+CMGS=%d" % length) == 3  # 1 + len(retry_delays_ms)
    assert "send failed" in events


def test_send_permanent_error_is_not_retried():
    (hexpdu, length), = pdu.encode_submit("+22376000001", "hi")
    uart, modem, events = make({"AT+CMGS=%d" % length: [">", "+CMS ERROR: 304"]})

    async def body():
        try:
            await modem.send_sms("+22376000001", "hi")
        except CMSError as exc:
            return exc.code

    assert run(started(modem, body)) == 304
    assert uart.commands.count("AT+CMGS=%d" % length) == 1


def test_send_rejects_bad_numbers_before_writing():
    uart, modem, events = make()

    async def body():
        mark = len(uart.writes)
        bad = 0
        for number in ("12", "+", "123456789012345678901", "12a45", "+22376\r\nAT", "", None, "++123"):
            try:
                await modem.send_sms(number, "x")
            except ValueError:
                bad += 1
        return bad, uart.writes[mark:]

    bad, writes = run(started(modem, body))
    assert bad == 8 and writes == []


def _stored_table(store, deleted, log=None):
    """A SIM holding `store` {index: pdu_hex}; CMGR/CMGD/CMGL act on it."""

    def cmgr(cmd):
        i = int(cmd.split("=")[1])
        if log is not None:
            log.append("CMGR")
        if i not in store:
            return ["OK"]
        return ["+CMGR: 0,,%d" % (len(store[i]) // 2 - 1), store[i], "OK"]

    def cmgd(cmd):
        i = int(cmd.split("=")[1])
        if log is not None:
            log.append("CMGD")
        store.pop(i, None)
        deleted.append(i)
        return ["OK"]

    def cmgl(cmd):
        out = []
        for i in sorted(store):
            out.append("+CMGL: %d,1,,%d" % (i, len(store[i]) // 2 - 1))
            out.append(store[i])
        return out + ["OK"]

    table = {"AT+CMGL=4": cmgl}
    for i in range(1, 30):
        table["AT+CMGR=%d" % i] = cmgr
        table["AT+CMGD=%d" % i] = cmgd
    return table


def test_cmti_reads_hands_over_then_deletes():
    store = {}
    deleted = []
    order = []
    uart, modem, events = make(_stored_table(store, deleted, order))
    got = []

    async def handler(sms):
        order.append("handler")
        got.append(sms)

    modem.set_sms_handler(handler)

    async def body():
        await pause()  # the listing after start() found an empty SIM
        order.clear()
        store[3] = pdu.encode_deliver(SENDER, "ALERT 1", TS)[0]
        uart.inject('\r\n+CMTI: "SM",3\r\n')
        await pause(60)

    run(started(modem, body))
    assert order == ["CMGR", "handler", "CMGD"]
    assert deleted == [3] and store == {}
    assert got[0]["text"] == "ALERT 1" and got[0]["number"] == SENDER
    assert got[0]["index"] == 3 and got[0]["storage"] == "SM"


def test_handler_failure_keeps_the_sms_and_it_is_retried():
    store = {}
    deleted = []
    uart, modem, events = make(_stored_table(store, deleted), stored_retry_ms=100000)
    calls = []

    async def handler(sms):
        calls.append(sms["text"])
        if len(calls) == 1:
            raise OSError("disk full")

    modem.set_sms_handler(handler)

    async def body():
        await pause()
        store[4] = pdu.encode_deliver(SENDER, "ALERT 2", TS)[0]
        uart.inject('\r\n+CMTI: "SM",4\r\n')
        await pause(40)
        first = (list(deleted), list(calls))
        # the worker's housekeeping lists the SIM again once stored_retry_ms passed: the second try succeeds
        modem.inbox.stored_retry_ms = 0
        for _ in range(100):
            if deleted:
                break
            modem.inbox.wake.set()
            await pause(5)
        return first

    first = run(started(modem, body))
    assert first == ([], ["ALERT 2"])  # no CMGD after the handler raised
    assert calls == ["ALERT 2", "ALERT 2"] and deleted == [4]
    assert "sms handler failed" in events


def test_fetch_stored_handles_single_concatenated_and_undecodable():
    long_parts = pdu.encode_deliver(SENDER, "y" * 200, TS, concat_ref=77)
    store = {1: pdu.encode_deliver(SENDER, "one", TS)[0], 2: long_parts[1], 5: "0791FF", 7: long_parts[0]}
    deleted = []
    uart, modem, events = make(_stored_table(store, deleted), auto_fetch=False)
    got = []

    async def handler(sms):
        got.append(sms)

    modem.set_sms_handler(handler)
    n = run(started(modem, modem.fetch_stored))
    assert n == 3
    kinds = sorted((m.get("type"), m.get("text") and len(m["text"])) for m in got)
    assert kinds == [("deliver", 3), ("deliver", 200), ("undecodable", None)]
    joined = [m for m in got if m.get("text") and len(m["text"]) == 200][0]
    # the parts left the SIM as soon as the parts store had them, before the message was complete
    assert joined["indexes"] == [] and not joined["incomplete"]
    assert sorted(deleted) == [1, 2, 5, 7]


def test_messages_stored_while_down_are_listed_after_start_and_deleted_after_handling():
    store = {1: pdu.encode_deliver(SENDER, "while down 1", TS)[0], 2: pdu.encode_deliver(SENDER, "while down 2", TS)[0]}
    deleted = []
    uart, modem, events = make(_stored_table(store, deleted))
    got = []

    async def handler(sms):
        got.append(sms["text"])

    modem.set_sms_handler(handler)
    run(started(modem, pause))
    assert got == ["while down 1", "while down 2"] and deleted == [1, 2]
    assert uart.commands.index("AT+CNMI=2,1,0,1,0") < uart.commands.index("AT+CMGL=4")


def test_failed_delete_is_retried_by_the_next_listing_without_a_second_handover():
    store = {6: pdu.encode_deliver(SENDER, "once", TS)[0]}
    deleted = []
    table = _stored_table(store, deleted)
    fail = {"n": 1}
    real = table["AT+CMGD=6"]

    def flaky(cmd):
        if fail["n"]:
            fail["n"] -= 1
            return ["+CMS ERROR: 500"]
        return real(cmd)

    table["AT+CMGD=6"] = flaky
    uart, modem, events = make(table, auto_fetch=False)
    got = []

    async def handler(sms):
        got.append(sms["text"])

    modem.set_sms_handler(handler)

    async def body():
        await modem.fetch_stored()
        after_first = list(deleted)
        await modem.fetch_stored()
        return after_first

    assert run(started(modem, body)) == []
    assert got == ["once"] and deleted == [6]


def test_incomplete_concatenation_leaves_the_sim_at_once_then_is_delivered_flagged():
    parts = pdu.encode_deliver(SENDER, "z" * 200, TS, concat_ref=9)
    store = {2: parts[0]}
    deleted = []
    uart, modem, events = make(_stored_table(store, deleted), reassembly_timeout_ms=0, auto_fetch=False)
    got = []

    async def handler(sms):
        got.append(sms)

    modem.set_sms_handler(handler)

    async def body():
        await modem.fetch_stored()
        waiting = (list(got), list(deleted))
        modem.inbox.wake.set()
        await pause(40)
        return waiting

    waiting = run(started(modem, body))
    assert waiting == ([], [2])  # kept in the parts store, off the SIM: the SIM is a landing area
    assert len(got) == 1 and got[0]["incomplete"] and got[0]["missing"] == [2]
    assert "incomplete" in got[0]["reason"]
    assert deleted == [2]


def test_status_report_goes_to_report_handler_and_cmt_is_acknowledged():
    report_pdu = pdu.encode_status_report("+22376000001", 42, TS, TS, 0)
    deliver = pdu.encode_deliver(SENDER, "direct", TS)[0]
    uart, modem, events = make()
    reports = []
    got = []

    async def on_report(r):
        reports.append(r)

    async def on_sms(s):
        got.append(s)

    modem.set_report_handler(on_report)
    modem.set_sms_handler(on_sms)

    async def body():
        uart.inject("\r\n+CDS: %d\r\n%s\r\n" % (len(report_pdu) // 2 - 1, report_pdu))
        uart.inject("\r\n+CMT: ,%d\r\n%s\r\n" % (len(deliver) // 2 - 1, deliver))
        await pause(60)

    run(started(modem, body))
    assert reports[0]["reference"] == 42 and reports[0]["type"] == "status-report"
    assert got[0]["text"] == "direct" and got[0]["index"] is None
    assert uart.commands.count("AT+CNMA") == 2


def test_cmt_without_ack_when_handler_raises():
    deliver = pdu.encode_deliver(SENDER, "direct", TS)[0]
    uart, modem, events = make()

    async def on_sms(s):
        raise ValueError("store down")

    modem.set_sms_handler(on_sms)

    async def body():
        uart.inject("\r\n+CMT: ,%d\r\n%s\r\n" % (len(deliver) // 2 - 1, deliver))
        await pause(40)

    run(started(modem, body))
    assert "AT+CNMA" not in uart.commands


class FakePower:
    """PWRKEY: a cycle brings the silent modem back (its UART answers again)."""

    def __init__(self, uart):
        self.uart = uart
        self.cycles = 0

    async def cycle(self):
        self.cycles += 1
        self.uart.default = ("OK",)
        self.uart.table = dict(self.uart.saved)
        self.uart.inject("\r\nRDY\r\n")


def test_supervision_power_cycles_a_silent_modem_and_restarts_it():
    uart, modem, events = make(check_timeout_ms=20, max_failures=2, sync_tries=2, sync_timeout_ms=20)
    power = FakePower(uart)
    modem.power = power

    async def body():
        uart.saved = dict(uart.table)
        uart.table = {}
        uart.default = None  # the modem hangs
        for _ in range(3):
            await modem.check()
        return modem.link_up

    assert run(started(modem, body)) is True
    assert power.cycles == 1
    assert events[:4] == ["link up", "link down", "power cycle", "link up"]


def test_supervision_escalates_after_bounded_recoveries():
    uart, modem, events = make(check_timeout_ms=10, max_failures=1, sync_tries=1, max_recoveries=2, sync_timeout_ms=10)

    class DeadPower:
        cycles = 0

        async def cycle(self):
            DeadPower.cycles += 1

    modem.power = DeadPower()

    async def body():
        uart.table = {}
        uart.default = None
        await modem.check()  # episode 1: 2 power cycles, then escalate
        await modem.check()  # after an escalation the next episode needs one more miss
        await modem.check()  # episode 2; already down: link down is not reported twice
        return modem.link_up

    assert run(started(modem, body)) is False
    assert DeadPower.cycles == 4
    assert events.count("link down") == 1 and events.count("escalate") == 2


def test_registration_urcs_give_events_and_reboot_urc_reinitialises():
    uart, modem, events = make()

    async def body():
        uart.inject('\r\n+CREG: 1,"00A1","1B2C"\r\n')
        await pause()
        uart.inject("\r\n+CREG: 2\r\n")
        await pause()
        n = uart.commands.count("ATE0")
        uart.inject("\r\nRDY\r\n")
        await pause()
        await modem.check()
        return n, uart.commands.count("ATE0")

    before, after = run(started(modem, body))
    assert "registered" in events and "registration lost" in events and "modem restarted" in events
    assert after == before + 1


def test_start_recovers_a_modem_left_in_numeric_result_mode():
    state = {"verbose": False}

    def at(cmd):
        return ["OK"] if state["verbose"] else ["0"]

    def atv1(cmd):
        state["verbose"] = True
        return ["OK"]

    uart, modem, events = make({"AT": at, "ATV1": atv1}, sync_timeout_ms=20)
    run(started(modem, pause))
    assert "ATV1" in uart.commands and modem.link_up


def test_power_down_urc_leads_to_a_power_cycle_and_pin_is_entered_again():
    state = {"pin": False}

    def cpin(cmd):
        return ["+CPIN: READY", "OK"] if state["pin"] else ["+CPIN: SIM PIN", "OK"]

    def enter(cmd):
        state["pin"] = True
        return ["OK"]

    uart, modem, events = make({"AT+CPIN?": cpin, 'AT+CPIN="4321"': enter}, check_timeout_ms=10, max_failures=2,
                               sync_tries=2, sync_timeout_ms=10)
    power = FakePower(uart)
    modem.power = power

    async def body():
        await modem.start(pin="4321")
        try:
            uart.saved = dict(uart.table)
            uart.inject("\r\nNORMAL POWER DOWN\r\n")  # the modem switched itself off (low battery, PWRKEY)
            await pause()
            uart.table = {}
            uart.default = None
            state["pin"] = False  # a power cycle locks the SIM again
            for _ in range(4):
                await modem.check()
            return modem.link_up
        finally:
            await modem.stop()

    assert run(body()) is True
    assert power.cycles == 1
    assert uart.commands.count('AT+CPIN="4321"') == 2
    assert "modem restarted" in events and "power cycle" in events and events.count("link up") == 2


def test_escalation_makes_the_next_recovery_episode_wait_longer():
    uart, modem, events = make(check_timeout_ms=5, max_failures=1, sync_tries=1, max_recoveries=1,
                               sync_timeout_ms=5)

    class DeadPower:
        cycles = 0

        async def cycle(self):
            DeadPower.cycles += 1

    modem.power = DeadPower()

    async def body():
        uart.table = {}
        uart.default = None
        counts = []
        for _ in range(6):
            await modem.check()
            counts.append(DeadPower.cycles)
        return counts

    counts = run(started(modem, body))
    # episode 1 after 1 miss, episode 2 after 2 more, episode 3 after 3 more
    assert counts == [1, 1, 2, 2, 2, 3]
    assert events.count("escalate") == 3


def test_start_with_echo_on_and_sms_not_ready_yet():
    refusals = {"n": 2}

    def cmgf(cmd):
        if refusals["n"]:
            refusals["n"] -= 1
            return ["+CMS ERROR: 302"]  # SIM800 before "SMS Ready"
        return ["OK"]

    t = identity()
    t["AT+CMGF=0"] = cmgf
    uart = FakeUART(table=t, echo=True)
    events = []
    modem = Modem(uart, poll_ms=1, on_event=lambda kind, detail: events.append(kind))

    async def body():
        await modem.start()
        try:
            return modem.info["model"], await modem.signal()
        finally:
            await modem.stop()

    model, signal = run(body())
    assert model == "SIMCOM_SIM800L" and signal["rssi_dbm"] == -77
    assert uart.commands.count("AT+CMGF=0") == 3 and "link up" in events


def test_new_sms_notice_while_waiting_for_the_prompt_is_not_lost():
    (hexpdu, length), = pdu.encode_submit("+22376000001", "SOS")
    store = {}
    deleted = []
    table = _stored_table(store, deleted)
    table["AT+CMGS=%d" % length] = ['+CMTI: "SM",8', ">", "+CMGS: 3", "OK"]
    uart, modem, events = make(table)
    got = []

    async def handler(sms):
        got.append(sms["text"])

    modem.set_sms_handler(handler)

    async def body():
        await pause()
        store[8] = pdu.encode_deliver(SENDER, "ack", TS)[0]
        refs = await modem.send_sms("+22376000001", "SOS")
        await pause(40)
        return refs

    assert run(started(modem, body)) == [3]
    assert got == ["ack"] and deleted == [8]


def test_memory_full_answer_lists_the_sim_at_once():
    # +CMS ERROR: 322 (memory full) while reading a notice: the SIM is listed at once, not after stored_retry_ms
    store = {}
    deleted = []
    table = _stored_table(store, deleted)
    table["AT+CMGR=5"] = lambda cmd: ["+CMS ERROR: 322"]
    uart, modem, events = make(table, stored_retry_ms=10 ** 9)
    got = []

    async def handler(sms):
        got.append(sms["text"])

    modem.set_sms_handler(handler)

    async def body():
        await pause()  # the listing after start()
        store[5] = pdu.encode_deliver(SENDER, "SOS while full", TS)[0]
        uart.inject('\r\n+CMTI: "SM",5\r\n')
        for _ in range(100):
            if got:
                break
            await pause(5)

    run(started(modem, body))
    assert got == ["SOS while full"] and deleted == [5]
    assert uart.commands.count("AT+CMGL=4") == 2
