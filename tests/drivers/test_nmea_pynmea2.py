"""Differential test: drivers.nmea reads the same fields as pynmea2 (pinned in pyproject.toml) on the
simulator's sentences and on sentences written here.

`compare(line)` (also used by tests/eval/test_nmea_gpsd.py) returns the fields where drivers.nmea and pynmea2
disagree (empty when they agree), or None when pynmea2 does not decode that sentence type into fields we compare.
"""
import math

import pynmea2
import pytest

from drivers.nmea import NMEAError, frame, parse_sentence
from sim.gps import NMEAFeeder

TYPES = ("RMC", "GGA", "GSA", "GSV", "GLL", "VTG", "ZDA", "GNS", "GST")


def _num(text, cast=float):
    if text is None or text == "":
        return None
    return cast(text)


def _ms(t):
    if t is None:
        return None
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1000 + t.microsecond // 1000


def _coord(msg):
    # pynmea2's latitude/longitude are 0.0 for empty fields; we say None.
    if not msg.lat or not msg.lon:
        return None, None
    return msg.latitude, msg.longitude


def reference(msg):
    """The fields we compare, as pynmea2 gives them."""
    kind = msg.sentence_type
    if kind == "RMC":
        lat, lon = _coord(msg)
        d = msg.datestamp
        return {"time_ms": _ms(msg.timestamp), "status": msg.status or None, "lat": lat, "lon": lon,
                "speed_kn": msg.spd_over_grnd, "course": msg.true_course,
                "date": (d.year, d.month, d.day) if d else None}
    if kind == "GGA":
        lat, lon = _coord(msg)
        return {"time_ms": _ms(msg.timestamp), "lat": lat, "lon": lon, "quality": msg.gps_qual,
                "sats": _num(msg.num_sats, int), "hdop": _num(msg.horizontal_dil), "alt": msg.altitude}
    if kind == "GLL":
        lat, lon = _coord(msg)
        return {"time_ms": _ms(msg.timestamp), "lat": lat, "lon": lon, "status": msg.status or None}
    if kind == "GSA":
        prns = tuple(int(getattr(msg, "sv_id%02d" % k)) for k in range(1, 13) if getattr(msg, "sv_id%02d" % k))
        return {"opmode": msg.mode or None, "fix": _num(msg.mode_fix_type, int), "prns": prns,
                "pdop": _num(msg.pdop), "hdop": _num(msg.hdop), "vdop": _num(msg.vdop)}
    if kind == "GSV":
        return {"total": _num(msg.num_messages, int), "num": _num(msg.msg_num, int),
                "in_view": _num(msg.num_sv_in_view, int)}
    if kind == "VTG":
        return {"course": _num(msg.true_track), "speed_kn": _num(msg.spd_over_grnd_kts),
                "speed_kmh": _num(msg.spd_over_grnd_kmph)}
    if kind == "GNS":
        lat, lon = _coord(msg)
        return {"time_ms": _ms(msg.timestamp), "lat": lat, "lon": lon, "mode": msg.mode_indicator or None,
                "sats": _num(msg.num_sats, int), "hdop": _num(msg.hdop), "alt": _num(msg.altitude)}
    if kind == "GST":
        return {"time_ms": _ms(msg.timestamp), "rms": _num(msg.rms), "sd_major": _num(msg.std_dev_major),
                "sd_minor": _num(msg.std_dev_minor), "orient": _num(msg.orientation),
                "sd_lat": _num(msg.std_dev_latitude), "sd_lon": _num(msg.std_dev_longitude),
                "sd_alt": _num(msg.std_dev_altitude)}
    if kind == "ZDA":
        return {"time_ms": _ms(msg.timestamp), "day": msg.day, "month": msg.month, "year": msg.year}
    return None


def _same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-9)
    return a == b


def compare(line):
    """Mismatching fields (list of (field, ours, theirs)), [] when all agree, None when not comparable.
    Both sides accept a sentence without a checksum and verify one that is present (pynmea2's check=False).
    Parse errors count as a field "error" unless both sides reject (or do not decode) the line."""
    text = line.decode("ascii", "replace").strip() if isinstance(line, bytes) else line.strip()
    try:
        theirs = pynmea2.parse(text, check=False)
        their_err = None
    except (pynmea2.ParseError, ValueError, TypeError, AttributeError) as exc:
        theirs, their_err = None, exc
    try:
        ours = parse_sentence(line)
        our_err = None
    except NMEAError as exc:
        ours, our_err = None, exc
    if theirs is not None and their_err is None and getattr(theirs, "sentence_type", None) in TYPES:
        try:
            ref = reference(theirs)
        except (ValueError, TypeError, AttributeError) as exc:  # pynmea2 parses lazily: a bad field fails here
            ref, their_err = None, exc
    if isinstance(theirs, pynmea2.QuerySentence):
        return None  # "CCGPQ,GGA" asks a receiver for GGA; it carries no data
    if their_err is not None or our_err is not None:
        if their_err is not None and (our_err is not None or ours is None):
            return []
        return [("error", repr(our_err), repr(their_err))]
    if theirs is None or getattr(theirs, "sentence_type", None) not in TYPES:
        return None
    if ours is None:
        return [("decoded", None, theirs.sentence_type)]
    return [(k, ours[k], v) for k, v in ref.items() if not _same(ours[k], v)]

OWN = [
    frame(b"GPGGA,000000.000,0000.0000,N,00000.0000,E,1,04,9.9,-12.5,M,0.0,M,,"),
    frame(b"GPGGA,235959.999,8959.9999,S,17959.9999,W,2,12,0.5,8848.9,M,-30.1,M,2.5,0123"),
    frame(b"GNGGA,101530.50,1325.902,N,00612.942,W,6,05,3.1,290.0,M,17.0,M,,"),
    frame(b"GPGGA,101530,,,,,0,00,,,M,,M,,"),
    frame(b"GPRMC,225446,A,4916.45,N,12311.12,W,000.5,054.7,191194,020.3,E"),
    frame(b"GNRMC,000001.00,A,0000.00001,S,00000.00001,E,0.02,359.99,010100,,,A,V"),
    frame(b"GPRMC,101530,V,,,,,,,230526,,,N"),
    frame(b"GLGSA,M,2,65,72,,,,,,,,,,,3.3,2.9,1.7"),
    frame(b"GAGSA,A,1,,,,,,,,,,,,,,,"),
    frame(b"GBGSV,3,2,11,201,45,120,40,205,12,300,,210,80,015,33,214,05,090,18"),
    frame(b"GPGSV,1,1,00"),
    frame(b"GQGLL,3540.1234,N,13945.6789,E,031500.00,A,D"),
    frame(b"GIGLL,,,,,031500.00,V,N"),
    frame(b"GPVTG,054.7,T,034.4,M,005.5,N,010.2,K,A"),
    frame(b"GNVTG,,T,,M,0.000,N,0.000,K,N"),
    frame(b"GPZDA,201530.00,04,07,2002,00,00"),
    frame(b"GNGNS,014035.00,4332.69262,S,17235.48549,E,RR,13,0.9,25.63,11.24,,,S"),
    frame(b"GNGNS,191518.00,,,,,NNN,,,,,,"),
    frame(b"GPGST,150119.000,004.0,008.7,004.7,132.3,006.8,007.2,00014"),
    frame(b"GNGST,082356.00,1.8,,,,1.7,1.3,2.2"),
]


@pytest.mark.parametrize("line", OWN, ids=[line[1:7].decode() + str(i) for i, line in enumerate(OWN)])
def test_own_sentences_agree(line):
    assert compare(line) == []


@pytest.mark.parametrize("receiver", ["ublox", "l76k", "gp"])
def test_simulator_sentences_agree(receiver):
    feeder = NMEAFeeder(receiver=receiver, seed=7, walk_mps=1.4, fix_after_s=3)
    compared = 0
    for i in range(12):
        for line in feeder.sentences_for_second(i):
            diff = compare(line)
            assert diff in ([], None), (line, diff)
            compared += diff == []
    assert compared > 12 * 6


def test_both_reject_a_bad_checksum():
    line = frame(b"GPGGA,101530,1325.902,N,00612.942,W,1,05,1.0,1.0,M,1.0,M,,")
    bad = line.replace(b"*", b"0*")
    assert compare(bad) == []
