"""Fidelity against a real peer: Debian's gammu (an AT client written against real phones and modems) talks to
the simulated modems over their ptys. If gammu identifies, sends and reads, the simulator speaks real AT."""
import shutil
import subprocess

import pytest

from sim.network import GSMNetwork

GAMMU = shutil.which("gammu") or "/usr/bin/gammu"  # installed by `make setup` (Debian package gammu)
A, B = "+22376000001", "+22376000002"


@pytest.fixture(scope="module")
def net():
    n = GSMNetwork(delay_s=0, time_scale=0, seed=1)
    n.add_modem(A, "sim800l")
    n.add_modem(B, "a7670e")
    n.start()
    for m in n.modems.values():
        assert m.wait_ready()
    yield n
    n.stop()


def gammu(tmp_path, modem, *args):
    rc = tmp_path / "gammurc"
    rc.write_text("[gammu]\nport = %s\nconnection = at\n" % modem.pty_path)
    # the timeout only guards against a hang; gammu needs about 4 s per run (its own pauses between commands)
    done = subprocess.run([GAMMU, "-c", str(rc), *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, (done.stdout, done.stderr, modem.transcript_text()[-3000:])
    return done.stdout


def test_gammu_identifies_the_sim800l(net, tmp_path):
    modem = net.modems[A]
    out = gammu(tmp_path, modem, "identify")
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    assert fields["Manufacturer"] == "SIMCOM_Ltd"
    assert "SIMCOM_SIM800L" in fields["Model"]
    assert fields["IMEI"] == modem.imei
    assert fields["SIM IMSI"] == modem.imsi


def test_gammu_sends_an_sms_that_arrives_at_another_modem(net, tmp_path):
    gammu(tmp_path, net.modems[A], "sendsms", "TEXT", B, "-text", "Alerte SOS test gammu")
    event = net.wait_event("network.deliver", to=B)
    assert event["from"] == A
    texts = [m["text"] for m in net.inbox(B)]
    assert "Alerte SOS test gammu" in texts
    sent = [line for _t, d, line in net.modems[A].transcript if d == "in" and line.startswith(b"AT+CMGS=")]
    assert sent, "gammu used AT+CMGS in PDU mode"


def test_gammu_reads_received_sms_from_the_a7670e(net, tmp_path):
    net.send(A, B, "Ça va? Réponse du contact")
    refs = net.send(A, B, "long " * 60)  # two parts
    assert len(refs) == 2
    net.wait_event("network.deliver", to=B, ref=refs[-1])
    out = gammu(tmp_path, net.modems[B], "getallsms")
    assert "Ça va? Réponse du contact" in out
    assert 'Remote number        : "%s"' % A in out
    assert "part 2 of 2" in out
    assert 'SMSC number          : "%s"' % net.smsc in out
