"""The simulated modems, driven over their real pseudo-terminal with pyserial (no Python calls into the modem
except to start it and to script faults)."""
import dataclasses

import pytest

from drivers import pdu
from sim.modem import PROFILES, SimulatedModem
from sim.pty import ATPort
from sim.pty import parse_response as parse


@pytest.fixture
def modem():
    m = SimulatedModem("+22376000001", profile="sim800l", time_scale=0).start()
    m.wait_ready()
    yield m
    m.stop()


@pytest.fixture
def port(modem):
    with ATPort(modem.pty_path) as p:
        yield p


@pytest.mark.parametrize("key", sorted(PROFILES))
def test_boot_urcs_after_power_cycle_match_the_profile(key):
    m = SimulatedModem("+22376000009", profile=key, time_scale=0).start()
    try:
        assert m.wait_ready()  # the boot of start() printed to nobody: no client had the port open
        assert "out" not in {d for _t, d, _b in m.transcript}
        with ATPort(m.pty_path) as p:
            m.power_cycle(off_s=0)
            lines = [p.urc(text.encode()) for _delay, text in PROFILES[key].boot_urcs]
            assert lines == [t for _d, t in PROFILES[key].boot_urcs]
            assert p.command("AT") == ([], "OK"), m.transcript_text()
            assert p.command("AT+CGMM")[0] == [PROFILES[key].model]
    finally:
        m.stop()


def test_echo_is_on_after_boot_and_ate0_turns_it_off(port):
    port.write(b"AT\r")
    assert port.expect(b"OK\r\n") == b"AT\r\r\nOK\r\n"
    port.write(b"ATE0\r")
    assert port.expect(b"OK\r\n") == b"ATE0\r\r\nOK\r\n"
    port.write(b"AT\r")
    assert port.expect(b"OK\r\n") == b"\r\nOK\r\n"


def test_cmee_formats(port, modem):
    modem.inject("sim_absent")
    assert port.command("AT+CMEE=0")[1] == "OK"
    assert port.command("AT+CPIN?")[1] == "ERROR"
    port.command("AT+CMEE=1")
    assert port.command("AT+CPIN?")[1] == "+CME ERROR: 10"
    port.command("AT+CMEE=2")
    assert port.command("AT+CPIN?")[1] == "+CME ERROR: SIM not inserted"
    assert port.command("AT+CMEE?")[0] == ["+CMEE: 2"]


def test_unknown_command_is_an_me_error_on_sim800_and_line_without_at_is_ignored(port):
    assert port.command("AT+NOSUCH")[1] == "ERROR"
    port.command("AT+CMEE=1")
    assert port.command("AT+CPSI?")[1] == "+CME ERROR: 100"  # SIM800 has no +CPSI
    port.command("AT+CMEE=2")
    assert port.command("AT+NOSUCH")[1] == "+CME ERROR: unknown"
    port.command("ATE0")
    port.write(b"hello\r")
    assert port.command("AT") == ([], "OK")


def test_identification_and_status_queries(port, modem):
    assert port.command("ATI")[0] == ["SIM800 R14.18"]
    assert port.command("AT+CGMI")[0] == ["SIMCOM_Ltd"]
    assert port.command("AT+CGSN")[0] == [modem.imei]
    assert len(modem.imei) == 15
    assert port.command("AT+CPIN?")[0] == ["+CPIN: READY"]
    assert port.command("AT+CREG?")[0] == ["+CREG: 0,1"]
    assert port.command("AT+CSQ")[0] == ["+CSQ: 18,0"]
    assert port.command("AT+COPS?")[0] == ['+COPS: 0,0,"Orange ML"']
    assert port.command("AT+CSCA?")[0] == ['+CSCA: "+22370000000",145']
    assert port.command("AT+CBC")[0] == ["+CBC: 0,82,4012"]
    assert port.command("AT+CENG=3")[1] == "OK"
    info, final = port.command("AT+CENG?")
    assert final == "OK" and info[0] == "+CENG: 3,0" and info[1].startswith("+CENG: 0,610,02,")


def test_each_command_of_a_line_has_its_own_framing(port):
    port.command("ATE0")
    port.write(b"AT+CPIN?;+CSQ\r")
    assert port.expect(b"OK\r\n") == b"\r\n+CPIN: READY\r\n\r\n+CSQ: 18,0\r\n\r\nOK\r\n"


def test_cmgs_prompt_pdu_and_reply(port, modem):
    port.command("ATE0")
    assert port.command("AT+CMGF=0")[1] == "OK"
    (hex_pdu, length), = pdu.encode_submit("+22376000002", "SOS test")
    port.write(b"AT+CMGS=%d\r" % length)
    assert port.expect(b"> ") == b"\r\n> "
    port.write(hex_pdu.encode() + b"\x1a")
    info = port.read_final()
    assert b"+CMGS: 0" in info and info.endswith(b"OK\r\n")
    assert len(modem.sent) == 1
    sent = pdu.decode("00" + modem.sent[0].hex(), has_smsc=True)
    assert (sent["number"], sent["text"]) == ("+22376000002", "SOS test")


def test_cmgs_escape_aborts_and_wrong_length_is_cms_304(port, modem):
    port.command("AT+CMEE=1")
    port.write(b"AT+CMGS=20\r")
    port.expect(b"> ")
    port.write(b"0011\x1b")
    assert port.read_final().endswith(b"OK\r\n")
    (hex_pdu, length), = pdu.encode_submit("+22376000002", "hi")
    assert port.send_pdu(length + 1, hex_pdu)[1] == "+CMS ERROR: 304"
    assert port.send_pdu(length, "ZZ" + hex_pdu[2:])[1] == "+CMS ERROR: 304"
    assert modem.sent == []


def test_received_sms_is_announced_read_listed_and_deleted(port, modem):
    port.command("ATE0")
    port.command("AT+CNMI=2,1,0,0,0")
    assert modem.inject_sms("+22376000002", "ACK 17")
    assert port.urc(b"+CMTI:") == '+CMTI: "SM",1'
    info, final = port.command("AT+CMGR=1")
    assert final == "OK" and info[0].startswith('+CMGR: 0,"",')
    d = pdu.decode(info[1])
    assert (d["number"], d["text"]) == ("+22376000002", "ACK 17")
    assert int(info[0].rsplit(",", 1)[1]) == len(info[1]) // 2 - 8  # TPDU length excludes the SMSC field
    assert port.command("AT+CMGL=4")[0][0].startswith('+CMGL: 1,1,"",')  # now read
    assert port.command("AT+CMGL=0")[0] == []
    assert port.command("AT+CMGD=1") == ([], "OK")
    assert port.command("AT+CMGR=1") == ([], "OK")  # SIMCom: an empty slot reads as OK alone
    port.command("AT+CMEE=1")
    assert port.command("AT+CMGR=51")[1] == "+CMS ERROR: 321"


def test_cnmi_2_2_shows_the_pdu_without_storing(port, modem):
    port.command("ATE0")
    port.command("AT+CNMI=2,2,0,0,0")
    modem.inject_sms("+22376000002", "direct")
    header = port.urc(b"+CMT:")
    body = port.expect(b"\r\n").strip()
    assert header == '+CMT: "",%d' % (len(body) // 2 - 8)
    assert pdu.decode(body.decode())["text"] == "direct"
    assert modem.inbox() == []


def test_cpms_reports_usage_and_storage_full(port, modem):
    port.command("ATE0")
    assert port.command('AT+CPMS="SM","SM","SM"')[0] == ["+CPMS: 0,50,0,50,0,50"]
    modem.inject_sms("+22376000002", "one")
    port.urc(b"+CMTI:")
    assert port.command("AT+CPMS?")[0] == ['+CPMS: "SM",1,50,"SM",1,50,"SM",1,50']
    modem.inject("storage_full")
    assert modem.inject_sms("+22376000002", "two") is False
    assert len(modem.inbox()) == 1
    assert port.command("AT+CPMS=?")[0] == [PROFILES["sim800l"].cpms_test]


def test_text_mode_is_accepted(port, modem):
    # Text mode is not Deme's path; the simulator accepts it for tools that ask.
    assert port.command("AT+CMGF=1")[1] == "OK"
    assert port.command("AT+CMGF?")[0] == ["+CMGF: 1"]


def test_transcript_records_both_directions(port, modem):
    port.command("AT")
    directions = {d for _t, d, _b in modem.transcript}
    assert {"in", "out"} <= directions


def test_sim7600_numbers_sms_from_zero():
    m = SimulatedModem("+22376000005", profile="sim7600", time_scale=0).start()
    try:
        assert m.wait_ready()
        with ATPort(m.pty_path) as p:
            p.command("ATE0")
            m.inject_sms("+22376000002", "zero")
            assert p.urc(b"+CMTI:") == '+CMTI: "SM",0'
            info, final = p.command("AT+CMGR=0")
            assert final == "OK" and info[0].startswith('+CMGR: 0,"",')
    finally:
        m.stop()


def test_write_then_send_from_storage(port, modem):
    port.command("ATE0")
    (hex_pdu, length), = pdu.encode_submit("+22376000002", "stored first")
    port.write(b"AT+CMGW=%d\r" % length)
    port.expect(b"> ")
    port.write(hex_pdu.encode() + b"\x1a")
    info, final = parse(port.read_final())
    assert (info, final) == (["+CMGW: 1"], "OK")
    assert port.command("AT+CMGL=2")[0][0].startswith('+CMGL: 1,2,"",')
    info, final = port.command("AT+CMSS=1")
    assert final == "OK" and info[0].startswith("+CMSS: ")
    assert port.command("AT+CMGL=3")[0][0].startswith('+CMGL: 1,3,"",')
    assert pdu.decode("00" + modem.sent[0].hex())["text"] == "stored first"


def test_text_mode_send_is_minimal_but_real(port, modem):
    # Text mode is not Deme's path (a Ctrl-Z in the text ends it); supported for tools that insist on it.
    port.command("ATE0")
    port.command("AT+CMGF=1")
    port.write(b'AT+CMGS="+22376000002"\r')
    port.expect(b"> ")
    port.write(b"plain text\x1a")
    info, final = parse(port.read_final())
    assert final == "OK" and info[0].startswith("+CMGS: ")
    assert pdu.decode("00" + modem.sent[0].hex())["text"] == "plain text"
    modem.inject_sms("+22376000003", "lu en texte")
    port.urc(b"+CMTI:")
    info, final = port.command("AT+CMGR=1")
    assert info[0].startswith('+CMGR: "REC UNREAD","+22376000003","","') and info[1] == "lu en texte"


def test_numeric_responses_with_atv0(port):
    port.command("ATE0")
    port.write(b"ATV0\r")
    assert port.expect(b"0\r") == b"0\r"
    port.write(b"AT+NOSUCH\r")
    assert port.expect(b"4\r") == b"4\r"


def test_unknown_command_is_plain_error_on_quectel_whatever_cmee():
    m = SimulatedModem("+22376000006", profile="ec25", time_scale=0).start()
    try:
        assert m.wait_ready()
        with ATPort(m.pty_path) as p:
            p.command("AT+CMEE=2")
            assert p.command("AT+CENG?")[1] == "ERROR"
            [line], _ = p.command('AT+QENG="servingcell"')
            assert line.startswith('+QENG: "servingcell","NOCONN","LTE","FDD",610,02,')
            p.command("AT+COPS=3,2")
            assert p.command("AT+COPS?")[0] == ['+COPS: 0,2,"61002",7']
    finally:
        m.stop()


def test_sms_commands_refused_until_sms_ready():
    # a SIM800L whose SMS layer takes an hour to come up: the firmware answers, the SMS commands do not
    slow = dataclasses.replace(PROFILES["sim800l"], boot_s=0, boot_urcs=((0, "RDY"), (3600, "SMS Ready")))
    m = SimulatedModem("+22376000007", profile=slow, time_scale=1.0).start()
    try:
        with ATPort(m.pty_path) as p:
            p.command("AT+CMEE=1")
            assert p.command("AT+CSQ")[1] == "OK"
            assert p.command("AT+CMGF=0")[1] == "+CMS ERROR: 302"
            assert p.command("AT+CPMS?")[1] == "+CMS ERROR: 302"
    finally:
        m.stop()


def test_cnma_acknowledges_a_cmt_when_csms_is_1(port, modem):
    port.command("ATE0")
    port.command("AT+CMEE=1")
    assert port.command("AT+CNMA")[1] == "+CMS ERROR: 340"  # nothing to acknowledge
    assert port.command("AT+CSMS=1")[0] == ["+CSMS: 1,1,1"]
    port.command("AT+CNMI=2,2,0,0,0")
    modem.inject_sms("+22376000002", "ack me")
    port.urc(b"+CMT:")
    port.expect(b"\r\n")  # the PDU line
    assert port.command("AT+CNMA") == ([], "OK")
    assert port.command("AT+CNMA")[1] == "+CMS ERROR: 340"


def test_overlong_command_line_is_an_error(port):
    port.command("ATE0")
    assert port.command("AT+CSCA?" + ";+CSQ" * 200)[1] == "ERROR"
    assert port.command("AT") == ([], "OK")


def test_command_sent_while_cmgs_waits_is_answered_after_it():
    m = SimulatedModem("+22376000008", profile="sim800l", time_scale=0.02).start()  # +CMGS after 70 ms
    try:
        assert m.wait_ready()
        with ATPort(m.pty_path) as p:
            p.command("ATE0")
            (hex_pdu, length), = pdu.encode_submit("+22376000002", "x")
            p.write(b"AT+CMGS=%d\r" % length)
            p.expect(b"> ")
            p.write(hex_pdu.encode() + b"\x1a" + b"AT+CSQ\r")  # a host that does not wait for +CMGS
            first = p.read_final()
            assert b"+CMGS: 0" in first and b"+CSQ" not in first
            assert parse(p.read_final()) == (["+CSQ: 18,0"], "OK")
    finally:
        m.stop()


def test_reading_an_empty_slot_on_quectel_is_cms_321():
    m = SimulatedModem("+22376000010", profile="ec25", time_scale=0).start()
    try:
        assert m.wait_ready()
        with ATPort(m.pty_path) as p:
            p.command("ATE0")
            assert p.command("AT+CMGR=1")[1] == "+CMS ERROR: 321"  # Quectel's CMEE default is 1
    finally:
        m.stop()
