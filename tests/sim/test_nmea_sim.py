"""sim.gps.NMEAFeeder: a receiver's cold start, fix, walk and UART faults, as drivers.gps sees them."""
import threading

import pytest

from drivers.gps import GPS
from drivers.nmea import NMEAParser
from sim.gps import SEGOU, NMEAFeeder


@pytest.mark.parametrize("receiver", ["ublox", "l76k", "gp"])
def test_cold_start_then_fix_at_segou(receiver):
    feeder = NMEAFeeder(receiver=receiver, fix_after_s=4, seed=5)
    gps = GPS()
    gps.wake(0)
    for i in range(8):
        gps.feed(b"".join(feeder.sentences_for_second(i)), i * 1000 + 200)
        f = gps.fix(i * 1000 + 200)
        if i < 4:
            assert f is None, i
        else:
            assert f is not None and f["mode"] == "3d"
            assert abs(f["lat"] - SEGOU[0]) < 1e-6 and abs(f["lon"] - SEGOU[1]) < 1e-6
            assert f["utc"] == "2026-01-15T09:00:%02dZ" % i
    assert gps.ttff_ms == 4200
    assert sum(gps.errors.values()) == 0


def test_every_sentence_has_a_valid_checksum_and_decodes():
    parser = NMEAParser()
    for receiver in ("ublox", "l76k", "gp"):
        data = NMEAFeeder(receiver=receiver, seed=1, walk_mps=2.0).stream(20)
        out = parser.feed(data)
        assert out and sum(parser.errors.values()) == 0
    types = {s["type"] for s in out}
    assert {"RMC", "GGA", "GSA", "GSV", "VTG", "GLL"} <= types


def test_walk_moves_at_the_requested_speed():
    feeder = NMEAFeeder(walk_mps=1.5, seed=9, fix_after_s=0)
    gps = GPS()
    gps.feed(feeder.stream(61), 0)
    f = gps.fix(0)
    lat0, lon0, _, _ = feeder.position(0)
    moved = ((f["lat"] - lat0) ** 2 + (f["lon"] - lon0) ** 2) ** 0.5 * 111_320
    assert 5 < moved < 1.5 * 60 + 1  # a random walk of 60 s at 1.5 m/s
    assert abs(f["speed_mps"] - 1.5) < 0.01


def test_noise_produces_counted_errors_but_fixes_survive():
    feeder = NMEAFeeder(noise=0.2, seed=4, fix_after_s=1)
    gps = GPS()
    for i in range(30):
        gps.feed(b"".join(feeder.sentences_for_second(i)), i * 1000)
    assert sum(gps.errors.values()) > 10
    assert gps.fix(29000) is not None


def test_deterministic_with_a_seed():
    a = NMEAFeeder(seed=3, walk_mps=1.0, noise=0.1).stream(10)
    b = NMEAFeeder(seed=3, walk_mps=1.0, noise=0.1).stream(10)
    assert a == b


def test_run_to_paces_and_stops():
    written = []
    stop = threading.Event()
    sent = NMEAFeeder().run_to(written.append, stop, speed=1000.0, max_seconds=5)
    assert sent == 5 and len(written) == 5 and written[0].startswith(b"$GNRMC")
    stop.set()
    assert NMEAFeeder().run_to(written.append, stop) == 0


def test_unknown_receiver_is_refused():
    with pytest.raises(ValueError, match="unknown receiver"):
        NMEAFeeder(receiver="sirf")
