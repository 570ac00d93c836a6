"""`deme hub run` at start-up, as the real process: every failure is printed with what to fix and exits non-zero;
SIGTERM stops it at any moment, also while a step of the start-up is still waiting."""
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sim.broker import free_port

ROOT = Path(__file__).resolve().parents[2]
DEME = [str(Path(sys.executable).with_name("deme"))]  # the installed command, as an installer runs it
AS_THE_DEMO = [sys.executable, "-m", "hub.cli"]  # how sim/demo.py starts the hub
# Hang guards only: a hub that works exits in well under a second; one that hangs never does.
HANG_GUARD_S = 60
# Logged by the hub when it opens its database, after its signal handlers are in place.
OPENING_DATABASE = "opening the database"


def write_config(tmp_path, hub="", sections=""):
    path = tmp_path / "hub.toml"
    path.write_text(f'[hub]\nid = "t"\nnumber = "+22370000001"\n{hub}\n{sections}\n', encoding="utf-8")
    return path


def spawn_hub(config, command=DEME):
    return subprocess.Popen([*command, "hub", "run", "--config", str(config)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_to_end(config, command=DEME):
    process = spawn_hub(config, command)
    try:
        out, err = process.communicate(timeout=HANG_GUARD_S)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"the hub neither started nor exited:\n{err[-3000:]}")
    return process.returncode, out, err


def read_until(stream, marker):
    """Lines of `stream` up to the one containing `marker` (the test's own hang guard is pytest's timeout)."""
    lines = []
    for line in stream:
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"{marker!r} never came:\n{''.join(lines)[-3000:]}")


def stop_with_sigterm(process):
    process.send_signal(signal.SIGTERM)
    try:
        out, err = process.communicate(timeout=HANG_GUARD_S)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"SIGTERM did not stop the hub:\n{err[-3000:]}")
    return process.returncode, out, err


def assert_refused(rc, out, err, *words):
    assert rc != 0, err
    assert "console: " not in out  # it never claimed to be up
    assert "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    for word in words:
        assert word in last, last


def test_a_console_port_in_use_is_named_with_the_key_to_change(tmp_path):
    with socket.socket() as busy:  # the likeliest case on a Pi: another hub (or a web server) already there
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = write_config(tmp_path, f'database = "{tmp_path / "hub.db"}"', f"[console]\nport = {port}")
        rc, out, err = run_to_end(config)
    assert_refused(rc, out, err, "[console] port", str(port), "in use")


def test_a_console_host_that_is_not_this_machine_is_named(tmp_path):
    # 192.0.2.1 (TEST-NET-1, RFC 5737) is nobody's address: the bind fails.
    config = write_config(tmp_path, f'database = "{tmp_path / "hub.db"}"',
                          f'[console]\nhost = "192.0.2.1"\nport = {free_port()}')
    rc, out, err = run_to_end(config)
    assert_refused(rc, out, err, "[console] host", "192.0.2.1")


@pytest.mark.parametrize("command", [DEME, AS_THE_DEMO], ids=["deme", "python -m hub.cli"])
@pytest.mark.parametrize("port", [0, -1, 99999])
def test_a_console_port_out_of_range_is_refused_before_anything_starts(tmp_path, port, command):
    config = write_config(tmp_path, f'database = "{tmp_path / "hub.db"}"', f"[console]\nport = {port}")
    rc, out, err = run_to_end(config, command)
    assert rc == 2
    assert_refused(rc, out, err, "[console]", "'port'", "1 to 65535", str(port))
    assert not (tmp_path / "hub.db").exists()


@pytest.mark.parametrize("where", ["missing folder", "file as folder", "folder as database"])
def test_a_database_that_cannot_be_opened_is_named_with_the_key_to_change(tmp_path, where):
    if where == "missing folder":
        database = tmp_path / "no-such-folder" / "hub.db"
    elif where == "file as folder":
        (tmp_path / "a-file").write_text("not a folder")
        database = tmp_path / "a-file" / "hub.db"
    else:
        database = tmp_path / "a-folder"
        database.mkdir()
    config = write_config(tmp_path, f'database = "{database}"', f"[console]\nport = {free_port()}")
    rc, out, err = run_to_end(config)
    assert_refused(rc, out, err, "[hub] database", str(database))
    if where == "missing folder":
        assert "does not exist" in err
        assert not database.parent.exists()  # refused, not created somewhere unexpected


def test_sigterm_stops_a_hub_whose_modem_never_answers_and_broker_is_unreachable(tmp_path):
    modem_side, hub_side = os.openpty()  # a modem port nobody drives: the probe waits for replies forever
    try:
        config = write_config(tmp_path, f'database = "{tmp_path / "hub.db"}"',
                              f'[modem]\nport = "{os.ttyname(hub_side)}"\n'
                              f'[mqtt]\nhost = "127.0.0.1"\nport = {free_port()}\n'  # nobody listens there
                              f"[console]\nport = {free_port()}")
        process = spawn_hub(config)
        read_until(process.stdout, "console: ")  # up; the modem is being probed, the broker retried
        rc, _, err = stop_with_sigterm(process)
    finally:
        os.close(modem_side)
        os.close(hub_side)
    assert rc == 0, err
    assert "Traceback" not in err, err


def test_sigterm_stops_a_hub_waiting_for_a_locked_database(tmp_path):
    database = tmp_path / "hub.db"
    holder = sqlite3.connect(database, isolation_level=None)  # e.g. an sqlite3 shell left in a transaction
    holder.execute("CREATE TABLE held (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        process = spawn_hub(write_config(tmp_path, f'database = "{database}"', f"[console]\nport = {free_port()}"))
        read_until(process.stderr, OPENING_DATABASE)  # its signal handlers are in place; it waits for the lock
        rc, out, err = stop_with_sigterm(process)
    finally:
        holder.close()
    # Stopped by the signal (exit 0), not by the lock's timeout (a start-up failure, exit 1).
    assert rc == 0, err
    assert "console: " not in out
    assert "Traceback" not in err and "locked" not in err, err


def test_a_modem_port_that_does_not_exist_is_named_instead_of_a_hub_silently_without_sms(tmp_path):
    missing = tmp_path / "ttyUSB-nothing-there"
    config = write_config(tmp_path, f'database = "{tmp_path / "hub.db"}"',
                          f'[modem]\nport = "{missing}"\n[console]\nport = {free_port()}')
    rc, out, err = run_to_end(config)
    assert_refused(rc, out, err, "[modem] port", str(missing))
