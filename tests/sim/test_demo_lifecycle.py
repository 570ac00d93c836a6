"""`make demo` as a user lives it: `deme sim` finds the running demo from any folder, and nothing the demo started
outlives it, whether its terminal closes (SIGHUP), it is asked to stop (SIGTERM) or it is killed (SIGKILL).
The demo runs for real here (Mosquitto, the network, the hub) with no wearable, to stay cheap."""
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.cli import main as deme
from sim.demo import DUTY_OFFICER, REPORTER, deme_command

REPO = Path(__file__).resolve().parents[2]
READY = "Ctrl-C stops everything"


def children(pid):
    """The process ids whose parent is pid (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; it only waits for its (dead) parent's reaper


def wait_gone(pids, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if alive(p)]


@pytest.fixture
def demo(tmp_path):
    env = dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path / "xdg"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    process = subprocess.Popen([sys.executable, "-m", "sim.demo", "--wearables", "0", "--run-dir",
                                str(tmp_path / "run")], cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in process.stdout:  # bounded by the demo: it prints READY or ends
        lines.append(line)
        if line.startswith(READY):
            break
    assert lines and lines[-1].startswith(READY), "".join(lines)
    yield process, tmp_path, "".join(lines)
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)


def test_deme_sim_finds_the_demo_from_any_folder(demo, tmp_path, monkeypatch, capsys):
    process, base, _out = demo
    pointer = base / "xdg" / "deme" / "demo.json"
    assert json.loads(pointer.read_text()) == {"run_dir": str(base / "run"), "pid": process.pid}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(base / "xdg"))
    monkeypatch.delenv("DEME_RUN_DIR", raising=False)
    capsys.readouterr()
    assert deme(["sim", "status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["ok"] and status["wearables"] == {} and status["console"].startswith("http://127.0.0.1:")
    monkeypatch.setenv("DEME_RUN_DIR", str(elsewhere))  # the variable still names another run folder
    assert deme(["sim", "status"]) == 2
    assert "no demo running" in capsys.readouterr().err


def test_the_demo_police_post_answers_a_report_and_texts_the_duty_officer(demo, monkeypatch, capsys):
    """The demo's hints, as a user follows them: a feature phone reports by SMS, the hub answers it with the
    incident's code, and the duty officer's phone gets the alert SMS and takes it with "OK <code>"."""
    _process, base, out = demo
    assert f"sim sms {REPORTER}" in out and f"sim phone {DUTY_OFFICER[1]}" in out
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(base / "xdg"))
    monkeypatch.delenv("DEME_RUN_DIR", raising=False)

    def phone(number, containing):
        deadline = time.monotonic() + 90  # a hang guard: the network delays each SMS by 1-3 s
        while time.monotonic() < deadline:
            capsys.readouterr()
            assert deme(["sim", "phone", number]) == 0
            lines = [line for line in capsys.readouterr().out.splitlines() if re.search(containing, line)]
            if lines:
                return lines
            time.sleep(0.5)
        raise AssertionError(f"{number} never received an SMS with {containing!r}")

    assert deme(["sim", "sms", REPORTER, "AIDE agression marche"]) == 0
    [answer] = phone(REPORTER, r"(?i)code [A-Z][0-9]+")
    code = re.search(r"(?i)code ([A-Z][0-9]+)", answer).group(1)
    alert = phone(DUTY_OFFICER[1], f"OK {code}")[0]
    assert "+22366200003" in alert or "22366200003" in alert  # a report names its reporter
    assert deme(["sim", "sms", DUTY_OFFICER[1], f"OK {code}"]) == 0
    db = base / "run" / "hub.db"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with sqlite3.connect(db) as connection:
            row = connection.execute("SELECT state, acknowledged_by FROM alerts WHERE code = ?", (code,)).fetchone()
        if row and row[0] == "acknowledged":
            break
        time.sleep(0.5)
    assert row[0] == "acknowledged" and DUTY_OFFICER[0] in row[1]


@pytest.mark.parametrize("how", [signal.SIGHUP, signal.SIGTERM, signal.SIGKILL])
def test_every_child_ends_with_the_demo(demo, how):
    process, base, _out = demo
    started = children(process.pid)
    commands = [Path(f"/proc/{p}/cmdline").read_bytes() for p in started]
    assert len(started) == 3 and any(b"mosquitto" in c for c in commands), commands  # broker, network, hub
    process.send_signal(how)
    process.wait(timeout=60)
    survivors = wait_gone(started)
    assert survivors == [], [Path(f"/proc/{p}/cmdline").read_bytes() for p in survivors]
    if how != signal.SIGKILL:  # an orderly stop also takes back what it recorded for `deme sim`
        assert process.returncode == 0
        assert not (base / "xdg" / "deme" / "demo.json").exists()


def test_deme_sim_after_the_demo_ended_says_so(tmp_path, monkeypatch, capsys):
    pointer = tmp_path / "deme" / "demo.json"
    pointer.parent.mkdir()
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    pointer.write_text(json.dumps({"run_dir": str(tmp_path / "run"), "pid": ended.pid}))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.delenv("DEME_RUN_DIR", raising=False)
    assert deme(["sim", "status"]) == 2
    err = capsys.readouterr().err
    assert "has ended" in err and str(ended.pid) in err and "make demo" in err


def test_the_hints_name_a_deme_that_runs(tmp_path, monkeypatch):
    beside = Path(sys.executable).with_name("deme")
    monkeypatch.setenv("PATH", str(tmp_path))  # no `deme` on PATH: a fresh shell without the venv activated
    if beside.exists():
        assert deme_command(cwd=beside.parents[2]) == str(beside.relative_to(beside.parents[2]))
        assert deme_command(cwd=tmp_path) == str(beside)
        word = deme_command(cwd=tmp_path).split()
    else:
        word = deme_command(cwd=tmp_path).split()
        assert word[1:] == ["-m", "hub.cli"]
    result = subprocess.run([*word, "sim", "--help"], capture_output=True, text=True, cwd=tmp_path,
                            env=dict(os.environ, PATH=str(tmp_path)))
    assert result.returncode == 0 and "press" in result.stdout, result.stderr
