"""Properties of the modem driver under arbitrary input (Hypothesis): no AT injection through send_sms, and
every AT response parser is total (a value or ATParseError, nothing else)."""
import asyncio
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers import modem as modem_mod
from drivers.at import (
    ATChannel,
    ATError,
    ATParseError,
    _Pending,
    final_result,
    is_unsolicited_registration,
    prefix_of,
    split_fields,
)
from drivers.modem import Modem
from drivers.modems import a7670, quectel, sim800
from drivers.pdu import PDUError
from tests.dual.fake_uart import FakeUART

CMGS_PART = re.compile(rb"AT\+CMGS=[0-9]{1,3}\r[0-9A-F]+\x1a")
NASTY = "\x1a\x1b\r\n\x00>\"',;AT+CMGD=1 é€😀\u2028"


def cmgs_answer(cmd):
    return [">", "+CMGS: 1", "OK"] if cmd.startswith("AT+CMGS=") else ["ERROR"]


async def send(text, number, status_report):
    uart = FakeUART(default=cmgs_answer)
    m = Modem(uart, poll_ms=1, retry_delays_ms=())
    m.channel.start()
    try:
        try:
            refs = await m.send_sms(number, text, status_report=status_report)
        except (ValueError, PDUError):
            refs = None
        return refs, uart.written()
    finally:
        m.channel.stop()


texts = st.one_of(st.text(max_size=400), st.text(alphabet=NASTY, max_size=200),
                  st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
numbers = st.one_of(st.from_regex(r"\+?[0-9]{3,20}", fullmatch=True), st.text(max_size=25),
                    st.text(alphabet="+0123456789\r\n\x1a;AT", max_size=25))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, number=numbers, status_report=st.booleans())
def test_send_sms_writes_only_cmgs_hex_and_one_ctrl_z_per_part(text, number, status_report):
    refs, written = asyncio.run(send(text, number, status_report))
    if refs is None:
        assert written == b""  # refused before anything reached the modem
        return
    parts = CMGS_PART.findall(written)
    assert b"".join(parts) == written, written
    assert len(parts) == len(refs) == written.count(b"\x1a")
    assert written.count(b"\x1b") == 0


lines = st.one_of(
    st.text(max_size=120),
    st.builds(lambda p, t: p + t, st.sampled_from(
        ["+CSQ: ", "+CREG: ", "+CGREG: ", "+CEREG: ", "+COPS: ", "+CBC: ", "+CMTI: ", "+CDSI: ", "+CPSI: ",
         "+QENG: ", "+CENG: ", "+CMGS: ", "+CMGR: ", "+CMGL: ", "+CPIN: ", "+CME ERROR: ", "+CMS ERROR: "]),
        st.text(alphabet='0123456789,"xX-.V ABCDEFabcdef:servingcellLTEGSM()\t', max_size=80)),
)

SINGLE = [modem_mod.parse_csq, modem_mod.parse_registration, modem_mod.parse_cops, modem_mod.parse_cbc,
          modem_mod.parse_cmti, a7670.parse_cpsi, quectel.parse_qeng]
MULTI = [modem_mod.parse_cpin, modem_mod.parse_cmgs, modem_mod.parse_cmgr, modem_mod.parse_cmgl, sim800.parse_ceng]


@settings(max_examples=300, deadline=None)
@given(line=lines, more=st.lists(lines, max_size=4))
def test_parsers_are_total(line, more):
    for parser in SINGLE:
        try:
            parser(line)
        except ATParseError:
            pass
    for parser in MULTI:
        try:
            parser([line, *more])
        except ATParseError:
            pass
    result = final_result(line)
    assert result is None or result == "OK" or isinstance(result, ATError)
    assert isinstance(split_fields(line), list)
    is_unsolicited_registration(line)


@settings(max_examples=150, deadline=None)
@given(chunks=st.lists(st.binary(max_size=300), max_size=8), cmd=st.sampled_from(["AT+CREG?", "ATI", "AT+CMGL=4"]))
def test_channel_framer_survives_any_bytes(chunks, cmd):
    seen = []
    ch = ATChannel(FakeUART(), urc_handler=lambda line, extra: seen.append((line, extra)))
    pending = _Pending(cmd, prefix_of(cmd), payload="00" if cmd == "ATI" else None)
    ch._pending = pending
    for chunk in chunks:
        ch.feed(chunk)
    assert len(ch._buf) <= 1024
    for line, extra in seen:
        assert isinstance(line, str) and line and (extra is None or isinstance(extra, str))
    for line in pending.lines:
        assert isinstance(line, str) and line


def test_control_characters_in_the_text_stay_inside_the_pdu():
    text = "SOS\x1a\r\nAT+CMGD=1,4\r\x1b> "
    refs, written = asyncio.run(send(text, "+22376000001", False))
    assert refs == [1]
    assert CMGS_PART.fullmatch(written) and written.count(b"\x1a") == 1
