# AT channel: framing, echo, prompt, URCs in any state, typed errors, timeouts. Runs on MicroPython and CPython.
import asyncio

from drivers.at import (
    ATChannel,
    ATCommandError,
    ATParseError,
    ATTimeout,
    CMEError,
    CMSError,
    final_result,
    is_unsolicited_registration,
    parse_int,
    prefix_of,
    split_fields,
)
from tests.dual.fake_uart import FakeUART


def run(coro):
    return asyncio.run(coro)


def channel(uart, urcs=None):
    def on_urc(line, extra):
        if urcs is not None:
            urcs.append((line, extra))

    return ATChannel(uart, urc_handler=on_urc, poll_ms=1)


async def _with(ch, coro_fn):
    ch.start()
    try:
        return await coro_fn()
    finally:
        ch.stop()
        await asyncio.sleep_ms(2) if hasattr(asyncio, "sleep_ms") else await asyncio.sleep(0.002)


async def _settle(n=20):
    for _ in range(n):
        await asyncio.sleep(0.001)


def test_simple_command_returns_info_lines():
    uart = FakeUART(table={"AT+CSQ": ["+CSQ: 20,99", "OK"]})
    ch = channel(uart)
    lines = run(_with(ch, lambda: ch.command("AT+CSQ")))
    assert lines == ["+CSQ: 20,99"]
    assert uart.writes == [b"AT+CSQ\r"]


def test_lines_without_prefix_are_info_lines():
    uart = FakeUART(table={"ATI": ["SIM800 R14.18", "OK"]})
    ch = channel(uart)
    assert run(_with(ch, lambda: ch.command("ATI"))) == ["SIM800 R14.18"]


def test_echo_is_stripped_with_ate1():
    uart = FakeUART(table={"AT+CGMM": ["SIMCOM_SIM800L", "OK"]}, echo=True)
    ch = channel(uart)
    assert run(_with(ch, lambda: ch.command("AT+CGMM"))) == ["SIMCOM_SIM800L"]


def test_framing_survives_one_byte_reads_and_bare_cr():
    uart = FakeUART(table={"AT+CGMI": lambda c: None}, chunk=1)
    ch = channel(uart)

    async def body():
        task = asyncio.create_task(ch.command("AT+CGMI"))
        await _settle(3)
        uart.inject(b"\r\nSIMCOM INCORPORATED\r\rOK\r\n")
        return await task

    assert run(_with(ch, body)) == ["SIMCOM INCORPORATED"]


def test_urc_in_the_middle_of_a_response():
    urcs = []
    reply = ["+CMGL: 1,1,,23", "0791", "+CMTI: \"SM\",4", "+CMGL: 2,1,,23", "0792", "OK"]
    uart = FakeUART(table={"AT+CMGL=4": reply})
    ch = channel(uart, urcs)
    lines = run(_with(ch, lambda: ch.command("AT+CMGL=4")))
    assert lines == ["+CMGL: 1,1,,23", "0791", "+CMGL: 2,1,,23", "0792"]
    assert urcs == [("+CMTI: \"SM\",4", None)]


def test_urc_while_idle_and_two_line_cmt():
    urcs = []
    uart = FakeUART()
    ch = channel(uart, urcs)

    async def body():
        uart.inject("\r\nRING\r\n\r\n+CMT: ,24\r\n")
        uart.inject("07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07\r\n")
        await _settle()

    run(_with(ch, body))
    assert urcs[0] == ("RING", None)
    assert urcs[1][0] == "+CMT: ,24" and urcs[1][1].startswith("0791")


def test_cds_during_command_goes_to_urc_with_its_pdu():
    urcs = []
    uart = FakeUART(table={"AT+CSQ": ["+CDS: 25", "0006D60B911326880736F4111011719551401110117195714000", "+CSQ: 5,0",
                                      "OK"]})
    ch = channel(uart, urcs)
    assert run(_with(ch, lambda: ch.command("AT+CSQ"))) == ["+CSQ: 5,0"]
    assert urcs == [("+CDS: 25", "0006D60B911326880736F4111011719551401110117195714000")]


def test_creg_response_versus_unsolicited():
    urcs = []
    uart = FakeUART(table={"AT+CREG?": ["+CREG: 1", "+CREG: 2,1,\"00A1\",\"1B2C\"", "+CREG: 1,\"00A1\",\"1B2C\"",
                                        "OK"]})
    ch = channel(uart, urcs)
    assert run(_with(ch, lambda: ch.command("AT+CREG?"))) == ["+CREG: 2,1,\"00A1\",\"1B2C\""]
    assert [u[0] for u in urcs] == ["+CREG: 1", "+CREG: 1,\"00A1\",\"1B2C\""]
    assert is_unsolicited_registration("+CEREG: 5")
    assert not is_unsolicited_registration("+CEREG: 0,5")
    assert not is_unsolicited_registration("+CREG: (0-2)")


def test_cpin_is_response_when_asked_and_urc_otherwise():
    urcs = []
    uart = FakeUART(table={"AT+CPIN?": ["+CPIN: READY", "OK"], "AT": ["+CPIN: READY", "OK"]})
    ch = channel(uart, urcs)

    async def body():
        a = await ch.command("AT+CPIN?")
        b = await ch.command("AT")
        return a, b

    a, b = run(_with(ch, body))
    assert a == ["+CPIN: READY"] and b == []
    assert urcs == [("+CPIN: READY", None)]


def test_typed_errors():
    uart = FakeUART(table={"AT+CPIN?": ["+CME ERROR: 14"], "AT+CMGS=5": ["+CMS ERROR: 500"],
                           "AT+CMGR=9": ["+CMS ERROR: 321"], "AT+X": ["ERROR"], "AT+Y": ["+CME ERROR: SIM busy"]})
    ch = channel(uart)

    async def body():
        got = []
        for cmd in ("AT+CPIN?", "AT+CMGS=5", "AT+CMGR=9", "AT+X", "AT+Y"):
            try:
                await ch.command(cmd)
                got.append(None)
            except Exception as exc:
                got.append(exc)
        return got

    e = run(_with(ch, body))
    assert isinstance(e[0], CMEError) and e[0].code == 14 and e[0].transient
    assert isinstance(e[1], CMSError) and e[1].code == 500 and e[1].transient
    assert isinstance(e[2], CMSError) and e[2].code == 321 and not e[2].transient
    assert isinstance(e[3], ATCommandError) and e[3].result == "ERROR" and e[3].command == "AT+X"
    assert isinstance(e[4], CMEError) and e[4].code == 14


def test_timeout_then_stray_ok_is_not_taken_by_next_command():
    uart = FakeUART(table={"AT+SLOW": None, "AT+CSQ": ["+CSQ: 9,99", "OK"]})
    ch = channel(uart)

    async def body():
        try:
            await ch.command("AT+SLOW", timeout_ms=30)
            return "no timeout"
        except ATTimeout:
            pass
        uart.inject("\r\nOK\r\n")  # the late answer
        await _settle()
        return await ch.command("AT+CSQ")

    assert run(_with(ch, body)) == ["+CSQ: 9,99"]
    assert ch.stats["timeouts"] == 1 and ch.stats["dropped"] == 1


def test_prompt_payload_and_ctrl_z():
    uart = FakeUART(table={"AT+CMGS=18": [">", "+CMGS: 42", "OK"]})
    ch = channel(uart)
    lines = run(_with(ch, lambda: ch.command_with_prompt("AT+CMGS=18", "0011000B91")))
    assert lines == ["+CMGS: 42"]
    assert uart.writes == [b"AT+CMGS=18\r", b"0011000B91\x1a"]
    assert uart.payloads == ["0011000B91"]


def test_prompt_with_echo():
    uart = FakeUART(table={"AT+CMGS=18": [">", "+CMGS: 7", "OK"]}, echo=True)
    ch = channel(uart)
    assert run(_with(ch, lambda: ch.command_with_prompt("AT+CMGS=18", "00AB"))) == ["+CMGS: 7"]


def test_no_prompt_sends_esc_and_times_out():
    uart = FakeUART(table={"AT+CMGS=18": None})
    ch = channel(uart)

    async def body():
        try:
            await ch.command_with_prompt("AT+CMGS=18", "00", prompt_timeout_ms=30)
        except ATTimeout:
            return "timeout"

    assert run(_with(ch, body)) == "timeout"
    assert uart.writes[-1] == b"\x1b"


def test_error_instead_of_prompt_raises_without_payload():
    uart = FakeUART(table={"AT+CMGS=18": ["+CMS ERROR: 304"]})
    ch = channel(uart)

    async def body():
        try:
            await ch.command_with_prompt("AT+CMGS=18", "00")
        except CMSError as exc:
            return exc.code

    assert run(_with(ch, body)) == 304
    assert uart.writes == [b"AT+CMGS=18\r"]


def test_overlong_line_is_dropped_and_framing_recovers():
    urcs = []
    uart = FakeUART()
    ch = channel(uart, urcs)

    async def body():
        uart.inject(b"X" * 3000 + b"\r\nRING\r\n")
        await _settle(40)

    run(_with(ch, body))
    assert urcs == [("RING", None)]


def test_garbage_bytes_do_not_break_the_reader():
    urcs = []
    uart = FakeUART(table={"AT": ["OK"]})
    ch = channel(uart, urcs)

    async def body():
        uart.inject(b"\x00\xff\xfe\r\n\x00RDY\r\n")
        await _settle()
        return await ch.command("AT")

    assert run(_with(ch, body)) == []
    assert ("RDY", None) in urcs


def test_urc_handler_exception_is_contained():
    uart = FakeUART(table={"AT": ["OK"]})

    def bad(line, extra):
        raise ValueError("boom")

    ch = ATChannel(uart, urc_handler=bad, poll_ms=1)

    async def body():
        uart.inject("\r\nRING\r\n")
        await _settle()
        return await ch.command("AT")

    assert run(_with(ch, body)) == []


def test_small_parsers():
    assert split_fields('1,"a,b",,3') == ["1", '"a,b"', "", "3"]
    assert prefix_of("AT+CREG?") == "+CREG:"
    assert prefix_of("AT+QENG=\"servingcell\"") == "+QENG:"
    assert prefix_of("ATI") is None
    assert parse_int('"1A"', 16) == 26
    assert parse_int("0x1816", 16) == 0x1816
    for bad in ("", "x", "1.5", '"'):
        try:
            parse_int(bad)
            raise AssertionError(bad)
        except ATParseError:
            pass
    assert final_result("OK") == "OK"
    assert final_result("+CSQ: 1,2") is None


class SlowTxUART(FakeUART):
    """A UART whose transmit buffer takes 4 bytes at a time and sometimes nothing (None, as machine.UART)."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.calls = 0

    def write(self, data):
        self.calls += 1
        if self.calls % 3 == 0:
            return None
        return super().write(bytes(data)[:4])


def test_partial_and_refused_writes_are_completed():
    uart = SlowTxUART(table={"AT+CGMM": ["A7670E-LASE", "OK"]})
    ch = channel(uart)
    assert run(_with(ch, lambda: ch.command("AT+CGMM"))) == ["A7670E-LASE"]
    assert uart.written() == b"AT+CGMM\r"
