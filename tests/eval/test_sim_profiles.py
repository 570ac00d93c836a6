"""Compare the shape of the simulated modems' replies with replies recorded from real modems.

The recordings (../shared/data/sms/fakemodem_profiles.json, from python-gsmmodem's test suite) come from Huawei,
Wavecom, ZTE, Qualcomm and Nokia devices, not from the models we simulate; so the comparison is about shape, not
content: which lines come back (an information line with a +XXX: prefix, free text, a final result code) and how
many fields an information line has. A reply of ours that differs from the consensus of the real modems must be a
documented quirk of the simulated maker (DOCUMENTED). Writes build/reports/sim.md.
"""
import json
import os
from pathlib import Path

import pytest

from sim.modem import PROFILES, SimulatedModem
from sim.pty import ATPort

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("DEME_SHARED_DATA", "../shared/data"))
if not DATA.is_absolute():
    DATA = REPO / DATA
RECORDINGS = DATA / "sms" / "fakemodem_profiles.json"
REPORT = REPO / "build" / "reports" / "sim.md"

FINALS = ("OK", "ERROR", "+CME ERROR", "+CMS ERROR", "COMMAND NOT SUPPORT")

# Recorded replies that depart from 3GPP TS 27.007/27.005 themselves: left out of the consensus.
RECORDING_QUIRKS = {
    ("AT+CFUN?", "ZteK3565Z"): "answers the read command with the test command's ranges (27.007: +CFUN: <fun>)",
    ("AT+CVHU=0", "QualcommM6280"): "answers a set command with the test command's ranges (27.007: OK)",
    ("AT+CVHU=0", "ZteK3565Z"): "answers a set command with the test command's ranges (27.007: OK)",
    ('AT+CPMS="SM","SM"', "WavecomMultiband900E1800"): "omits <used3>,<total3> (27.005 3.2.2 lists all three)",
    ("AT+CPIN?", "WavecomMultiband900E1800"): "no final OK after +CPIN (noted by python-gsmmodem)",
    ('AT+CPMS="SM","SM"', "NokiaN79"): "a phone exposing no SMS storage over AT (its AT+CPMS=? lists none)",
}

# Where a simulated maker's real firmware departs from the usual shape, per its AT manual.
DOCUMENTED = {
    ("AT+CGMR", "a7670e"): "SIMCom LTE firmware prefixes the revision with +CGMR:",
    ("AT+CGMR", "sim7600"): "SIMCom LTE firmware prefixes the revision with +CGMR:",
    ("AT+CPMS=\"SM\",\"SM\",\"SR\"", "sim7600"): "SIM7600 lists an SR (status report) storage",
    ("AT+GCAP", "sim800l"): "capability list is per model (the recording is a Nokia phone: +CGSM,+DS,+W)",
    ("AT+GCAP", "ec25"): "capability list is per model (the recording is a Nokia phone: +CGSM,+DS,+W)",
    ("AT+GCAP", "bg95"): "capability list is per model (the recording is a Nokia phone: +CGSM,+DS,+W)",
}


def _field_count(text):
    """Comma-separated fields outside quotes and parentheses."""
    depth, quoted, count = 0, False, 1
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0 and ch == ",":
            count += 1
    return count


def shape(lines):
    """('+CPMS:3', 'OK'), ('text', 'OK'), ('ERROR',) ... from reply lines."""
    out = []
    for line in (x.strip() for x in lines):
        if not line:
            continue
        final = next((f for f in FINALS if line.startswith(f)), None)
        if final:
            out.append(final if final in ("OK", "ERROR", "COMMAND NOT SUPPORT") else final)
        elif line.startswith("+") and ":" in line:
            prefix, _, rest = line.partition(":")
            out.append("%s:%d" % (prefix, _field_count(rest)))
        else:
            out.append("text")
    return tuple(out)


def _is_error(s):
    return bool(s) and s[-1] in ("ERROR", "+CME ERROR", "+CMS ERROR", "COMMAND NOT SUPPORT")


def real_recordings():
    data = json.loads(RECORDINGS.read_text())
    out = {}
    for entry in data:
        doc = (entry.get("doc") or "").lower()
        if "not based on a real modem" in doc or "abstract" in doc:
            continue
        out[entry["class"]] = {cmd.rstrip("\r"): shape(reply) for cmd, reply in entry["responses"].items()}
    return out


@pytest.fixture(scope="module")
def recordings():
    assert RECORDINGS.exists(), f"{RECORDINGS} missing: set DEME_SHARED_DATA to the shared data folder"
    return real_recordings()


@pytest.fixture(scope="module")
def simulated(recordings):
    """Our replies, per profile, to every recorded command (sent over the pty, CMEE=0 and echo off)."""
    commands = sorted({cmd for rec in recordings.values() for cmd in rec})
    replies = {}
    for key in sorted(PROFILES):
        modem = SimulatedModem("+22376009999", profile=key, time_scale=0).start()
        try:
            assert modem.wait_ready()
            with ATPort(modem.pty_path) as port:
                port.command("ATE0")
                port.command("AT+CMEE=0")
                replies[key] = {}
                for cmd in commands:
                    info, final = port.command(cmd)
                    replies[key][cmd] = shape(info + [final])
                    if cmd.startswith("AT+CPMS="):
                        port.command('AT+CPMS="SM","SM","SM"')  # keep later commands on the same storage
        finally:
            modem.stop()
    return replies


def consensus(recordings, cmd):
    """The reply shape most real modems gave (ties: the non-error one), and how many agreed."""
    shapes = [rec[cmd] for name, rec in recordings.items() if cmd in rec and (cmd, name) not in RECORDING_QUIRKS]
    if not shapes:
        return None, 0, 0
    counts = {}
    for s in shapes:
        counts[s] = counts.get(s, 0) + 1
    best = max(counts.items(), key=lambda kv: (kv[1], not _is_error(kv[0])))
    return best[0], best[1], len(shapes)


def _same(ours, theirs):
    # "COMMAND NOT SUPPORT" (Huawei) and ERROR are the same verdict; an answered OK must have the same lines
    if _is_error(ours) and _is_error(theirs):
        return True
    return ours == theirs


def test_simulated_replies_have_the_shape_of_real_ones(recordings, simulated):
    rows, mismatches, checked, agreed = [], [], 0, 0
    for cmd in sorted({c for rec in recordings.values() for c in rec}):
        expected, votes, total = consensus(recordings, cmd)
        if expected is None:
            continue  # every recording of it is a known quirk: nothing standard to compare with
        for key in sorted(simulated):
            ours = simulated[key][cmd]
            ok = _same(ours, expected)
            note = DOCUMENTED.get((cmd, key), "")
            checked += 1
            agreed += ok
            if not ok and not note:
                mismatches.append((cmd, key, ours, expected))
            rows.append((cmd, "%d/%d" % (votes, total), " ".join(expected), key, " ".join(ours),
                         "yes" if ok else ("documented" if note else "NO"), note))
    per_modem = []
    for name, rec in sorted(recordings.items()):
        for key in sorted(simulated):
            same = sum(_same(simulated[key][c], s) for c, s in rec.items())
            per_modem.append((name, key, same, len(rec)))
    write_report(rows, per_modem, checked, agreed)
    print("sim profiles: %d/%d reply shapes agree with the real modems' consensus (%d undocumented differences)"
          % (agreed, checked, len(mismatches)))
    assert not mismatches, mismatches


def write_report(rows, per_modem, checked, agreed):
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    out = ["# Simulated modems against recorded real modems", "",
           "Recordings: `%s` (real devices only)." % RECORDINGS.name,
           "Each recorded command was sent to each simulated profile over its pty (ATE0, CMEE=0) and the reply "
           "reduced to its shape: information lines as `+PREFIX:<field count>` or `text`, then the final result "
           "code. An error verdict (ERROR, +CME/+CMS ERROR, Huawei's COMMAND NOT SUPPORT) matches any error.", "",
           "**%d/%d** reply shapes agree with the consensus of the real modems." % (agreed, checked), "",
           "## Per command", "",
           "| command | real modems agreeing | consensus shape | profile | our shape | match | note |",
           "|---|---|---|---|---|---|---|"]
    for cmd, votes, expected, key, ours, ok, note in rows:
        out.append("| `%s` | %s | `%s` | %s | `%s` | %s | %s |" % (cmd.replace("|", "\\|"), votes, expected, key,
                                                              ours, ok, note))
    out += ["", "## Recorded replies left out of the consensus (they depart from 27.007/27.005)", "",
            "| command | recorded modem | why |", "|---|---|---|"]
    for (cmd, name), why in sorted(RECORDING_QUIRKS.items()):
        out.append("| `%s` | %s | %s |" % (cmd, name, why))
    out += ["", "## Per recorded modem (commands whose reply shape matches exactly, or both are errors)", "",
            "| recorded modem | profile | matching |", "|---|---|---|"]
    for name, key, same, total in per_modem:
        out.append("| %s | %s | %d/%d |" % (name, key, same, total))
    REPORT.write_text("\n".join(out) + "\n")
