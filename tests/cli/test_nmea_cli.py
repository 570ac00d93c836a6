"""`deme nmea FILE` and `deme gps watch|sim`, run through their own argparse registration (as hub.cli does)."""
import argparse
import json
import os
import threading
import tty

import pytest

from hub.cli import UsageError
from hub.commands import gps_cmd, nmea_cmd
from sim import gps as sim_gps
from sim.gps import NMEAFeeder


def run(module, argv):
    parser = argparse.ArgumentParser(prog="deme")
    module.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_nmea_prints_one_json_line_per_position_sentence(tmp_path, capsys):
    log = tmp_path / "rx.nmea"
    log.write_bytes(NMEAFeeder(seed=1, fix_after_s=2, walk_mps=1.0).stream(5) + b"$GPGGA,garbage*00\r\n")
    assert run(nmea_cmd, ["nmea", str(log)]) == 0
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    # per second: RMC, GGA, GLL carry a position (VTG, GSA, GSV do not)
    assert [rec["type"] for rec in lines[:3]] == ["RMC", "GGA", "GLL"]
    assert len(lines) == 15
    assert set(lines[0]) == {"talker", "type", "time", "date", "lat", "lon", "alt", "fix", "quality", "sats",
                             "hdop", "speed_mps", "course"}
    first, fixed = lines[0], lines[-2]
    assert first["fix"] == "none" and first["lat"] is None and first["date"] == "2026-01-15"
    assert first["time"] == "09:00:00.000"
    assert fixed["type"] == "GGA" and fixed["fix"] == "3d" and fixed["quality"] == 1
    assert abs(fixed["lat"] - 13.4317) < 0.001 and fixed["date"] is None and fixed["speed_mps"] is None
    rmc = lines[-3]
    assert rmc["type"] == "RMC" and abs(rmc["speed_mps"] - 1.0) < 0.01 and rmc["course"] is not None
    assert "checksum 1" in err and "15 with a position" in err


def test_nmea_missing_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        run(nmea_cmd, ["nmea", str(tmp_path / "absent.log")])
    with pytest.raises(UsageError, match="not a file"):
        run(nmea_cmd, ["nmea", str(tmp_path)])


class ReplayUART:
    """Receiver bytes arriving at 1 Hz against a fake clock: each second's burst becomes readable at its time."""

    def __init__(self, feeder, clock):
        self.feeder = feeder
        self.clock = clock
        self.sent_seconds = 0
        self.pending = b""

    def _arrive(self):
        while self.sent_seconds * 1000 <= self.clock.now:
            self.pending += b"".join(self.feeder.sentences_for_second(self.sent_seconds))
            self.sent_seconds += 1

    def any(self):
        self._arrive()
        return len(self.pending)

    def read(self, n):
        out, self.pending = self.pending[:n], self.pending[n:]
        return out or None


class FakeClock:
    def __init__(self):
        self.now = 0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += int(seconds * 1000)


def test_watch_status_lines_with_a_replayed_receiver():
    clock = FakeClock()
    uart = ReplayUART(NMEAFeeder(seed=2, fix_after_s=4, noise=0.05), clock)
    lines = []

    class Out:
        def write(self, text):
            lines.extend(t for t in text.splitlines() if t)

        def flush(self):
            pass

    gps = gps_cmd.watch(uart, seconds=8, out=Out(), clock=clock, sleep=clock.sleep)
    assert len(lines) == 8
    assert "fix=none" in lines[0] and "no position" in lines[0]
    assert "fix=3d" in lines[-1] and "13.43" in lines[-1] and "ttff=4." in lines[-1]
    assert gps.ttff_ms is not None and 4000 <= gps.ttff_ms < 5000
    assert "errors=" in lines[-1]


def test_watch_over_a_pty_fed_by_the_simulator(capsys):
    master, slave = os.openpty()
    tty.setraw(slave)
    port = os.ttyname(slave)
    stop = threading.Event()
    feeder = NMEAFeeder(seed=3, fix_after_s=2)
    thread = threading.Thread(target=feeder.run_to, args=(lambda data: os.write(master, data), stop),
                              kwargs={"speed": 4.0, "max_seconds": 40}, daemon=True)
    thread.start()
    try:
        assert run(gps_cmd, ["gps", "watch", port, "--seconds", "2", "--json"]) == 0
    finally:
        stop.set()
        thread.join(5)
        os.close(master)
        os.close(slave)
    status = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(status) == 2
    assert status[-1]["sentences"] > 20
    assert status[-1]["fix"] is not None and status[-1]["fix"]["mode"] == "3d"


def test_watch_bad_port_is_a_usage_error():
    with pytest.raises(UsageError, match="cannot open serial port"):
        run(gps_cmd, ["gps", "watch", "/dev/does-not-exist", "--seconds", "1"])


def test_sim_writes_nmea(tmp_path):
    out = tmp_path / "sim.nmea"
    assert sim_gps.main(["--out", str(out), "--speed", "0", "--seconds", "3"]) == 0
    data = out.read_bytes()
    assert data.count(b"$GNRMC") == 3 and data.endswith(b"\r\n")
