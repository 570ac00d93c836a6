"""The network as a separate process (what the demo runs): config, ready line, control socket, timeline, SIGTERM."""
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sim.network import NetworkClient
from sim.pty import ATPort

REPO = Path(__file__).resolve().parents[2]
HUB, WEARABLE, CONTACT = "+22370000100", "+22376000001", "+22376000002"


@pytest.fixture
def network_process(tmp_path):
    config = tmp_path / "network.json"
    config.write_text(json.dumps({
        "modems": [{"number": HUB, "profile": "sim800l"}, {"number": WEARABLE, "profile": "a7670e"},
                   {"number": CONTACT, "profile": "sim800l"}],
        "delay_s": 0, "time_scale": 0, "seed": 4, "retry_s": 0.05,
    }))
    timeline = tmp_path / "timeline.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.network", "--config", str(config), "--control", "127.0.0.1:0",
         "--timeline", str(timeline)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready = json.loads(proc.stdout.readline())
    host, port = ready["control"].rsplit(":", 1)
    client = NetworkClient(host, int(port))
    yield proc, ready, client, timeline
    client.close()
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=10)


def test_ready_line_lists_every_modem_pty(network_process):
    _proc, ready, client, _timeline = network_process
    assert ready["ready"] is True
    assert set(ready["modems"]) == {HUB, WEARABLE, CONTACT}
    listed = client.list()
    assert {n: m["pty"] for n, m in listed.items()} == ready["modems"]
    assert listed[WEARABLE]["profile"] == "a7670e"


def test_send_inbox_events_and_timeline(network_process):
    _proc, ready, client, timeline = network_process
    with ATPort(ready["modems"][HUB]) as hub:
        hub.command("ATE0")
        refs = client.send(CONTACT, HUB, "OK je viens")
        assert hub.urc(b"+CMTI:").startswith('+CMTI: "SM",')
    [msg] = client.inbox(HUB)
    assert (msg["number"], msg["text"]) == (CONTACT, "OK je viens")
    hops = [(e["hop"], e.get("ref")) for e in client.events() if e.get("from") == CONTACT]
    assert hops == [("network.submit", refs[0]), ("network.deliver", refs[0])]
    since = client.events()[-1]["t"]
    assert client.events(since=since) == []
    lines = [json.loads(line) for line in timeline.read_text().splitlines()]
    assert [e["hop"] for e in lines][-3:] == ["network.submit", "modem.stored", "network.deliver"]


def test_fault_and_power_cycle_through_the_socket(network_process):
    _proc, ready, client, _timeline = network_process
    with ATPort(ready["modems"][WEARABLE]) as wearable:
        wearable.command("ATE0")
        wearable.command("AT+CMEE=1")
        client.fault(WEARABLE, "busy", count=1)
        assert wearable.command("AT")[1] == "+CME ERROR: 515"
        client.fault(WEARABLE, "hang")
        client.power_cycle(WEARABLE, off_s=0)
        assert wearable.urc(b"PB DONE") == "PB DONE"
    with pytest.raises(RuntimeError, match="unknown fault"):
        client.fault(WEARABLE, "gremlins")
    with pytest.raises(RuntimeError, match="no modem"):
        client.inbox("+000")


def test_sigterm_stops_cleanly(network_process):
    proc, _ready, _client, _timeline = network_process
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


def test_bad_config_is_named(tmp_path):
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"modems": [{"profile": "sim800l"}]}))
    done = subprocess.run([sys.executable, "-m", "sim.network", "--config", str(config)], cwd=REPO,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "'modems' must be a list" in done.stderr
    config.write_text(json.dumps({"modems": [{"number": "+1", "profile": "nokia3310"}]}))
    done = subprocess.run([sys.executable, "-m", "sim.network", "--config", str(config)], cwd=REPO,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "unknown modem profile 'nokia3310'" in done.stderr


def test_client_is_safe_to_share_between_threads(network_process):
    import threading
    _proc, _ready, client, _timeline = network_process
    results, errors = [], []

    def worker():
        try:
            for _ in range(20):
                results.append(len(client.list()))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and results == [3] * 80


def test_network_fault_through_the_socket(network_process):
    _proc, ready, client, _timeline = network_process
    client.network_fault("congestion")
    with pytest.raises(RuntimeError, match="42"):
        client.send(CONTACT, HUB, "refused")
    client.network_clear()
    assert client.send(CONTACT, HUB, "accepted")
    hops = [e["hop"] for e in client.events()]
    assert "network.refused" in hops and "network.fault_cleared" in hops
    with pytest.raises(RuntimeError, match="unknown network fault"):
        client.network_fault("solar flare")
