"""The simulated modem's command interpreter is total: any command line gets a final result code or a prompt,
never an exception (a crash would silently kill the modem thread in the demo)."""
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.modem import PROFILES, SimulatedModem
from sim.modem.parser import split_args, split_command_line

AT_CHARS = 'ATatCGMSRLDPNIEFVQZWX+^$#%*&=?,;"0123456789 '
FINAL_PREFIXES = (b"OK\r\n", b"ERROR\r\n", b"+CME ERROR: ", b"+CMS ERROR: ", b"\r\n> ",
                  b"0\r", b"4\r")  # the last two: numeric result codes after ATV0


def _last_output(modem):
    return b"".join(b for _t, d, b in list(modem.transcript)[-3:] if d in ("out", "lost"))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(PROFILES)), st.text(alphabet=AT_CHARS, max_size=40))
def test_any_command_line_gets_a_final_result(key, body):
    modem = SimulatedModem("+22376000001", profile=key, time_scale=0)  # not started: output is recorded only
    modem.power = "on"
    modem.sms_ready = True
    modem.transcript.clear()
    modem._run_command_line("AT" + body)
    out = _last_output(modem)
    assert any(final in out for final in FINAL_PREFIXES), (body, out)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_any_bytes_fed_to_the_uart_never_raise(data):
    modem = SimulatedModem("+22376000001", profile="sim800l", time_scale=0)
    modem.power = "on"
    with modem._lock:
        for b in data + b"\x1b\r":
            modem._feed(b)
    assert modem.state in ("command", "prompt", "waiting")


def test_split_helpers():
    assert split_args('"SM", "ME",3') == ["SM", "ME", "3"]
    assert split_args('"a,b",,1') == ["a,b", "", "1"]
    assert split_command_line("E0V1+CMGF=0;+CNMI=2,1,0,1,0") == [
        ("E", "exec", "0"), ("V", "exec", "1"), ("+CMGF", "set", "0"), ("+CNMI", "set", "2,1,0,1,0")]
    assert split_command_line('+QENG="servingcell";+CSQ') == [("+QENG", "set", '"servingcell"'),
                                                                ("+CSQ", "exec", "")]
    assert split_command_line("S7?") == [("S7", "read", "")]
