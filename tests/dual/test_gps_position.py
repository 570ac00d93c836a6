"""best_position choices and the modem GNSS reply parsers (MicroPython too)."""
from drivers.compat import ticks_add
from drivers.position import DRIFT_MPS, best_position, parse_cgnsinf, parse_cgnssinfo

FIX = {"lat": 13.4317, "lon": -6.2157, "acc_m": 9.0, "age_ms": 500}
CELL = {"mcc": 610, "mnc": 2, "lac": 1001, "cid": 23451}


def test_fresh_gnss_wins():
    p = best_position(FIX, FIX, None, CELL, 10000)
    assert p["source"] == "gnss" and p["lat"] == 13.4317 and p["age_s"] == 0
    assert abs(p["acc_m"] - (9.0 + 0.5 * DRIFT_MPS)) < 1e-9
    assert p["cell"] == CELL


def test_modem_gnss_when_receiver_has_none():
    modem = {"lat": 13.43, "lon": -6.21, "acc_m": 20.0, "at_ms": 9000}
    p = best_position(None, None, modem, None, 10000)
    assert p["source"] == "modem_gnss" and p["age_s"] == 1 and abs(p["acc_m"] - (20.0 + DRIFT_MPS)) < 1e-9


def test_fresh_but_poor_fix_loses_to_a_better_one():
    poor = {"lat": 1.0, "lon": 1.0, "acc_m": 400.0, "age_ms": 0}
    modem = {"lat": 2.0, "lon": 2.0, "acc_m": 15.0, "at_ms": 0}
    assert best_position(poor, None, modem, None, 1000)["source"] == "modem_gnss"
    recent = {"lat": 3.0, "lon": 3.0, "acc_m": 8.0, "age_ms": 20000}
    p = best_position(poor, recent, None, None, 0)
    assert p["source"] == "last" and p["lat"] == 3.0 and abs(p["acc_m"] - (8.0 + 20 * DRIFT_MPS)) < 1e-9


def test_last_fix_accuracy_grows_with_age():
    last = {"lat": 13.0, "lon": -6.0, "acc_m": 10.0, "age_ms": 60000}
    p = best_position(None, last, None, CELL, 100000)
    assert p["source"] == "last" and p["age_s"] == 60
    assert abs(p["acc_m"] - (10.0 + 60 * DRIFT_MPS)) < 1e-9


def test_stale_current_fix_is_reported_as_last():
    stale = dict(FIX)
    stale["age_ms"] = 30000
    p = best_position(stale, None, None, None, 0, max_fresh_ms=10000)
    assert p["source"] == "last" and p["age_s"] == 30


def test_most_accurate_old_fix_is_chosen():
    old_gps = {"lat": 1.0, "lon": 1.0, "acc_m": 10.0, "age_ms": 3600000}
    newer_modem = {"lat": 2.0, "lon": 2.0, "acc_m": 30.0, "at_ms": 0}
    p = best_position(None, old_gps, newer_modem, None, 60000)
    assert p["lat"] == 2.0 and p["source"] == "last"


def test_ticks_wrap_does_not_make_a_fix_look_old():
    modem = {"lat": 2.0, "lon": 2.0, "acc_m": 10.0, "at_ms": ticks_add(0, -500)}  # just before the wrap
    p = best_position(None, None, modem, None, 500)
    assert p["source"] == "modem_gnss" and p["age_s"] == 1


def test_cell_position_beats_a_very_old_fix():
    very_old = {"lat": 1.0, "lon": 1.0, "acc_m": 10.0, "age_ms": 24 * 3600 * 1000}
    cell = {"cid": 1, "lat": 13.4, "lon": -6.2, "acc_m": 1500.0}
    p = best_position(None, very_old, None, cell, 0)
    assert p["source"] == "cell" and p["acc_m"] == 1500.0 and p["lat"] == 13.4


def test_nothing_gives_none_but_keeps_cell():
    p = best_position(None, None, None, CELL, 0)
    assert p["source"] == "none" and p["lat"] is None and p["cell"] == CELL
    assert best_position(None, None, None, None, 0)["source"] == "none"
    assert best_position({"lat": None, "lon": None}, {}, None, None, 0)["source"] == "none"


def test_cgnssinfo_a76xx_decimal_degrees():
    line = "+CGNSSINFO: 3,07,03,00,02,13.431700,N,6.215700,W,230526,101530.0,301.5,1.2,87.0,1.6,0.9,1.3,12"
    f = parse_cgnssinfo(line)
    assert abs(f["lat"] - 13.4317) < 1e-9 and abs(f["lon"] + 6.2157) < 1e-9
    assert f["mode"] == "3d" and f["alt_m"] == 301.5 and f["hdop"] == 0.9 and f["sats"] == 12
    assert f["utc"] == "2026-05-23T10:15:30Z"
    assert abs(f["speed_mps"] - 1.2 * 1852 / 3600) < 1e-9 and f["course_deg"] == 87.0


def test_cgnssinfo_sim7600_ddmm_and_short_layout():
    f = parse_cgnssinfo("+CGNSSINFO: 2,06,02,00,1325.902000,N,00612.942000,W,010127,000001.0,20.7,0.0,,1.5,1.2,0.9")
    assert abs(f["lat"] - (13 + 25.902 / 60)) < 1e-9 and abs(f["lon"] + (6 + 12.942 / 60)) < 1e-9
    assert f["mode"] == "2d" and f["sats"] == 8 and f["course_deg"] is None
    assert f["utc"] == "2027-01-01T00:00:01Z"
    g = parse_cgnssinfo("\r\n+CGNSSINFO: 2,04,00,12.5,S,114.25,E,020924,094145.00,-34.0,1.403,,6.9,6.8,1.0,03\r\n")
    assert g["lat"] == -12.5 and g["lon"] == 114.25 and g["sats"] == 3


def test_cgnssinfo_no_fix_and_garbage():
    for line in ("+CGNSSINFO: ,,,,,,,,,,,,,,,", "+CGNSSINFO:", "OK", "", "+CGNSSINFO: 3,a,b,c,d,N,e,W",
                 "+CGNSSINFO: 3,1,95.0,N,6.0,W,,,,", "+CGNSSINFO: ,,,,,,,,", None, 42, b"+CGNSSINFO: 3"):
        assert parse_cgnssinfo(line) is None


def test_cgnsinf_sim7000():
    f = parse_cgnsinf("+CGNSINF: 1,1,20260523101530.000,13.431700,-6.215700,301.500,4.32,87.0,1,,1.1,1.8,1.4,,"
                      "11,7,2,,41,,")
    assert abs(f["lat"] - 13.4317) < 1e-9 and abs(f["lon"] + 6.2157) < 1e-9
    assert f["utc"] == "2026-05-23T10:15:30Z" and f["sats"] == 9 and f["hdop"] == 1.1
    assert abs(f["speed_mps"] - 1.2) < 1e-9
    assert parse_cgnsinf("+CGNSINF: 1,0,19800106000349.000,,,,0.00,0.0,0,,,,,,0,0,,,,,") is None
    assert parse_cgnsinf("+CGNSINF: 0,,,,,,,,,,,,,,,,,,,,") is None
    assert parse_cgnsinf("garbage") is None and parse_cgnsinf(None) is None
    h = parse_cgnsinf("+CGNSINF: 1,1,20260523101530.000,13.4,-6.2,,0,0,1,,2.0,2.5,1.5,,8,5,,,38,4.0,6.0")
    assert h["acc_m"] == 8.0 and h["mode"] == "2d"
