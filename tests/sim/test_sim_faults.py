"""Every fault knob of the simulated modem, observed from the host side of the pty."""
import time

import pytest

from drivers import pdu
from sim.modem import SimulatedModem
from sim.network import GSMNetwork
from sim.pty import ATPort

A, B = "+22376000001", "+22376000002"


def wait_for(predicate, guard=5.0):
    """Poll until predicate() holds; the guard only stops a hung test, it is not a timing requirement."""
    deadline = time.monotonic() + guard
    while not predicate():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.005)


@pytest.fixture
def modem():
    m = SimulatedModem(A, profile="sim800l", time_scale=0, seed=5).start()
    assert m.wait_ready()
    yield m
    m.stop()


@pytest.fixture
def port(modem):
    with ATPort(modem.pty_path) as p:
        p.command("ATE0")
        p.command("AT+CMEE=1")
        yield p


def _processed(modem, marker):
    """True once the modem has read `marker` (its loop handles a read completely before releasing the lock)."""
    with modem._lock:
        return any(d == "in" and marker in b for _t, d, b in modem.transcript)


def _output_after(modem, marker):
    with modem._lock:
        entries = list(modem.transcript)
    start = max(i for i, (_t, d, b) in enumerate(entries) if d == "in" and marker in b)
    return b"".join(b for _t, d, b in entries[start + 1:] if d == "out")


def test_cms_error_on_the_next_cmgs_only(port, modem):
    modem.inject("cms_error", code=42, count=1)
    (hex_pdu, length), = pdu.encode_submit(B, "x")
    assert port.send_pdu(length, hex_pdu)[1] == "+CMS ERROR: 42"
    port.command("AT+CMEE=2")
    modem.inject("cms_error", code=38)
    assert port.send_pdu(length, hex_pdu)[1] == "+CMS ERROR: Network out of order"
    info, final = port.send_pdu(length, hex_pdu)
    assert final == "OK" and info[0].startswith("+CMGS: ")


def test_brownout_reboots_during_transmission_and_nothing_is_sent(port, modem):
    modem.inject("brownout")
    (hex_pdu, length), = pdu.encode_submit(B, "lost to a brown-out")
    port.write(b"AT+CMGS=%d\r" % length)
    port.expect(b"> ")
    port.write(hex_pdu.encode() + b"\x1a")
    assert port.urc(b"SMS Ready") == "SMS Ready"
    assert modem.sent == []


def test_busy_answers_cme_515(port, modem):
    modem.inject("busy", count=2)
    assert port.command("AT+CSQ")[1] == "+CME ERROR: 515"
    assert port.command("AT")[1] == "+CME ERROR: 515"
    assert port.command("AT") == ([], "OK")


def test_no_reply_swallows_the_next_command(port, modem):
    modem.inject("no_reply", count=1)
    port.write(b"AT+CSQ\r")
    wait_for(lambda: _processed(modem, b"AT+CSQ\r"))
    assert _output_after(modem, b"AT+CSQ\r") == b""
    assert port.command("AT+CGMI") == (["SIMCOM_Ltd"], "OK")  # nothing of the lost command comes first


def test_stall_cuts_the_next_response(port, modem):
    modem.inject("stall")
    port.write(b"AT+CGMI\r")
    wait_for(lambda: _processed(modem, b"AT+CGMI\r"))
    cut = _output_after(modem, b"AT+CGMI\r")
    assert b"\r\nSIMCOM_Ltd\r\n\r\nOK\r\n".startswith(cut) and len(cut) < 20
    port.drain(0.05)
    assert port.command("AT") == ([], "OK")


def test_spontaneous_reboot_prints_boot_urcs_and_resets_settings(port, modem):
    modem.inject("reboot")
    assert port.urc(b"SMS Ready") == "SMS Ready"
    wait_for(modem._ready.is_set)
    port.write(b"AT\r")
    assert port.expect(b"OK\r\n") == b"AT\r\r\nOK\r\n"  # echo is back on: the reboot forgot ATE0


def test_registration_loss_and_recovery(port, modem):
    port.command("AT+CREG=1")
    modem.inject("registration_loss", stat=2)
    assert port.urc(b"+CREG:") == "+CREG: 2"
    assert port.command("AT+CREG?")[0] == ["+CREG: 1,2"]
    (hex_pdu, length), = pdu.encode_submit(B, "no network")
    assert port.send_pdu(length, hex_pdu)[1] == "+CMS ERROR: 331"
    modem.inject("registration_restore")
    assert port.urc(b"+CREG:") == "+CREG: 1"
    port.command("AT+CREG=2")
    [line], _ = port.command("AT+CREG?")
    assert line.startswith('+CREG: 2,1,"')


def test_registration_loss_with_a_duration_recovers_by_itself(port, modem):
    port.command("AT+CREG=1")
    modem.inject("registration_loss", stat=0, duration_s=0.01)
    assert port.urc(b"+CREG:") == "+CREG: 0"
    assert port.urc(b"+CREG:") == "+CREG: 1"


def test_stray_urc_lands_inside_the_next_response(port, modem):
    modem.inject("stray_urc", text="+CMTI: \"SM\",9")
    port.write(b"AT+CSQ\r")
    raw = port.expect(b"OK\r\n")
    assert raw == b'\r\n+CSQ: 18,0\r\n\r\n+CMTI: "SM",9\r\n\r\nOK\r\n'


def test_line_noise_sends_random_bytes(port, modem):
    modem.inject("line_noise", count=24)
    noise = port.read_until(lambda buf: len(buf) >= 24)
    assert len(noise) == 24
    assert port.command("AT") == ([], "OK")  # the modem itself is unharmed


def test_duplicate_and_drop_bytes(port, modem):
    modem.inject("duplicate_bytes", p=1.0)
    port.write(b"AT\r")
    assert port.expect(b"KK\r\r\n\n") == b"\r\r\n\nOOKK\r\r\n\n"
    modem.inject("duplicate_bytes", p=0.0)
    modem.inject("drop_bytes", p=1.0)
    port.write(b"AT+CGMI\r")
    wait_for(lambda: _processed(modem, b"AT+CGMI\r"))
    assert _output_after(modem, b"AT+CGMI\r") == b""
    modem.clear_faults()
    assert port.command("AT") == ([], "OK")


def test_hang_until_power_cycle(port, modem):
    modem.inject("hang")
    port.write(b"AT\r")
    wait_for(lambda: _processed(modem, b"AT\r"))
    assert _output_after(modem, b"AT\r") == b""
    assert not modem.reachable()
    modem.power_cycle(off_s=0)
    assert port.urc(b"SMS Ready") == "SMS Ready"
    wait_for(modem._ready.is_set)
    port.command("ATE0")
    assert port.command("AT") == ([], "OK")


def test_power_down_command_then_power_cycle(port, modem):
    assert port.command("AT+CPOWD=1") == (["NORMAL POWER DOWN"], "OK")
    port.write(b"AT\r")
    wait_for(lambda: _processed(modem, b"AT\r"))
    assert _output_after(modem, b"AT\r") == b""
    modem.power_cycle(off_s=0)
    assert port.urc(b"Call Ready") == "Call Ready"


def test_cfun_reset_reboots(port, modem):
    port.command("AT+CFUN=1,1")
    assert port.urc(b"RDY") == "RDY"
    assert port.urc(b"SMS Ready") == "SMS Ready"


def test_storage_full_keeps_the_message_at_the_smsc_until_space():
    net = GSMNetwork(delay_s=0, time_scale=0, retry_s=0.02)
    net.add_modem(A)
    b = net.add_modem(B, "ec25")
    net.start()
    try:
        b.wait_ready()
        b.inject("storage_full")
        net.send(A, B, "wait for room")
        assert net.wait_event("network.pending", to=B)["reason"] == "storage full"
        b.inject("storage_full", full=False)
        assert net.wait_event("network.deliver", to=B)["attempts"] >= 2
        assert [m["text"] for m in net.inbox(B)] == ["wait for room"]
    finally:
        net.stop()


def test_unknown_fault_is_refused(modem):
    with pytest.raises(ValueError, match="unknown fault"):
        modem.inject("gremlins")


def test_lte_modem_falls_back_to_gsm():
    m = SimulatedModem(B, profile="a7670e", time_scale=0).start()
    try:
        assert m.wait_ready()
        with ATPort(m.pty_path) as p:
            p.command("ATE0")
            p.command("AT+CEREG=1")
            p.command("AT+CREG=2")
            assert p.command("AT+CPSI?")[0][0].startswith("+CPSI: LTE,Online,610-02,")
            m.inject("rat", rat="GSM")
            assert p.urc(b"+CEREG:") == "+CEREG: 0"
            assert p.command("AT+CEREG?")[0] == ["+CEREG: 1,0"]
            [creg], _ = p.command("AT+CREG?")
            assert creg.startswith('+CREG: 2,1,"') and creg.endswith(",0")  # AcT 0: GSM
            assert p.command("AT+CPSI?")[0][0].startswith("+CPSI: GSM,Online,610-02,0x")
            m.clear_faults()
            assert p.urc(b"+CEREG:") == "+CEREG: 1"
        with pytest.raises(ValueError, match="falls back to GSM only"):
            m.inject("rat", rat="NR5G")
    finally:
        m.stop()


def test_host_that_stops_reading_loses_bytes_instead_of_growing_memory(port, modem):
    modem.inject("line_noise", count=200_000)  # more than the pty and the UART buffer hold
    wait_for(lambda: any(d == "lost" for _t, d, _b in list(modem.transcript)))
    port.drain(0.05)
    assert port.command("AT") == ([], "OK")
