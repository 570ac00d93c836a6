"""`deme plan check`: the dry run of a hub.toml's response plan, as text and JSON, its exit status (0 clean, 1
problems, 2 refused), a refused configuration reported with its load error, a bad --at refused as usage."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from hub.cli import main

DEME = str(Path(sys.executable).with_name("deme"))
HEADER = """
[hub]
id = "segou-1"
number = "+22370000001"

[[devices]]
id = "W1"
key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
phone = "+22376000001"
wearer = "Awa Traoré"
"""
PLAN = """
[plan]
supervisors = "superviseurs"

[[plan.responders]]
name = "Adjudant Diarra"
phone = "76 10 00 01"

[[plan.responders]]
name = "Sergent Koné"
phone = "+22376100002"
lang = "en"

[[plan.responders]]
name = "Commissaire Traoré"
phone = "+22376100004"

[[plan.teams]]
name = "police"
members = ["Adjudant Diarra"]
rota = [{days = "mon-fri", from = "08:00", to = "18:00"}]

[[plan.teams]]
name = "nuit"
members = ["Sergent Koné"]
rota = [{days = "daily", from = "18:00", to = "08:00"}, {days = "sat,sun", from = "08:00", to = "18:00"}]

[[plan.teams]]
name = "superviseurs"
members = ["Commissaire Traoré"]
rota = "always"

[[plan.routes]]
name = "default"
steps = [{teams = ["police", "nuit"]}, {teams = ["superviseurs"], after_s = 90}]

[[plan.overrides]]
device = "W1"
route = "default"
"""


def write(tmp_path, text):
    path = tmp_path / "hub.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def deme(capsys, *argv):
    status = main(["plan", "check", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_the_dry_run_says_who_is_texted_when(tmp_path, capsys):
    config = write(tmp_path, HEADER + PLAN)
    status, out, _ = deme(capsys, "--config", config, "--at", "2026-12-04T22:30")  # a Friday night
    assert status == 0
    assert "an alert at Fri 2026-12-04 22:30:00 (Africa/Bamako)" in out
    assert "device W1 -> route default" in out
    assert "Fri 22:30:00  +0 s      step 1/2 send 1/2  police + nuit: Sergent Koné +22376100002 (en)" in out
    assert "Fri 22:31:30  +90 s     step 2/2 send 1/2  superviseurs: Commissaire Traoré +22376100004 (fr)" in out
    assert "Fri 22:32:30  +150 s    unanswered if nobody acknowledged" in out
    assert "No problems" in out
    status, out, _ = deme(capsys, "--config", config, "--at", "2026-12-07T09:00:00+00:00")  # Monday morning
    assert "Mon 09:00:00  +0 s      step 1/2 send 1/2  police + nuit: Adjudant Diarra +22376100001 (fr)" in out


def test_the_json_report(tmp_path, capsys):
    status, out, _ = deme(capsys, "--config", write(tmp_path, HEADER + PLAN), "--at", "2026-12-04T22:30", "--json")
    report = json.loads(out)
    assert status == 0 and report["ok"] is True and report["timezone"] == "Africa/Bamako"
    (route,) = report["routes"]
    assert route["name"] == "default" and "MED alert" in route["serves"]
    assert [(s["offset_s"], s["step"], s["repeat"], [r["name"] for r in s["responders"]]) for s in route["sends"]] \
        == [(0, 1, 1, ["Sergent Koné"]), (30, 1, 2, ["Sergent Koné"]), (90, 2, 1, ["Commissaire Traoré"]),
            (120, 2, 2, ["Commissaire Traoré"])]
    assert route["unanswered_offset_s"] == 150


def test_a_responder_never_reached_is_named_and_the_status_is_1(tmp_path, capsys):
    text = HEADER + PLAN.replace('rota = [{days = "daily", from = "18:00", to = "08:00"}, {days = "sat,sun", '
                                 'from = "08:00", to = "18:00"}]', "rota = []")
    text += '\n[[plan.responders]]\nname = "Caporal Sidibé"\nphone = "+22376100005"\n'
    status, out, _ = deme(capsys, "--config", write(tmp_path, text), "--at", "2026-12-04T22:30")
    assert status == 1
    assert "unreachable: Sergent Koné is never on duty: no rota slot in nuit" in out
    assert "unreachable: Caporal Sidibé is in no team: never texted" in out
    assert "step 1/2 send 1/2  police + nuit: NOBODY on duty" in out
    assert "first-step-gap: route default: step 1 reaches nobody from mon 18:00 to tue 08:00" in out


def test_an_invalid_number_is_the_load_error(tmp_path, capsys):
    config = write(tmp_path, HEADER + PLAN.replace('"+22376100002"', '"+2237610"'))
    status, _, err = deme(capsys, "--config", config)
    assert status == 2
    assert "the configuration is refused, fix it first:" in err
    assert "responder 'Sergent Koné' phone: '+2237610' is not a valid phone number" in err
    status, out, _ = deme(capsys, "--config", config, "--json")
    assert status == 2 and "'+2237610' is not a valid phone number" in json.loads(out)["error"]


def test_a_hub_without_a_plan(tmp_path, capsys):
    status, _, err = deme(capsys, "--config", write(tmp_path, HEADER))
    assert status == 2 and "has no [plan]: alerts reach the console only" in err


@pytest.mark.parametrize("moment", ["tomorrow", "2026-13-01T00:00", ""])
def test_a_bad_moment_is_a_usage_error(tmp_path, capsys, moment):
    status, _, err = deme(capsys, "--config", write(tmp_path, HEADER + PLAN), "--at", moment)
    assert status == 2 and f"deme plan: --at {moment!r} is not a date and time" in err


def test_the_installed_command_checks_the_shipped_example():
    example = Path(__file__).resolve().parents[2] / "docs" / "hub.toml.example"
    result = subprocess.run([DEME, "plan", "check", "--config", str(example), "--at", "2026-12-05T03:00"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Route protection: only alerts sent to it by an override" in result.stdout
