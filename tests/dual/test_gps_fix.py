"""GPS fix state machine: cold start, fix, loss, last fix, staleness, dates, rollover, TTFF (MicroPython too)."""
from drivers.gps import GPS, accuracy_m, civil_from_days, days_from_civil, utc_string
from drivers.nmea import frame


def _lines(*bodies):
    return b"".join(frame(b) for b in bodies)


COLD = _lines(
    b"GNRMC,235958.00,V,,,,,,,311226,,,N,V",
    b"GNGGA,235958.00,,,,,0,00,99.99,,M,,M,,",
    b"GNGSA,A,1,,,,,,,,,,,,,99.99,99.99,99.99,1",
)
FIX = _lines(
    b"GNRMC,235959.00,A,1325.90200,N,00612.94200,W,0.500,90.0,311226,,,A,V",
    b"GNVTG,90.0,T,,M,0.500,N,0.926,K,A",
    b"GNGGA,235959.00,1325.90200,N,00612.94200,W,1,09,1.20,301.0,M,17.0,M,,",
    b"GNGSA,A,3,02,05,12,13,15,,,,,,,,2.00,1.20,1.60,1",
    b"GNGSA,A,3,65,66,72,73,,,,,,,,,2.00,1.20,1.60,2",
)
# the next epoch is after midnight: GGA has no date, RMC of the same epoch comes after it
AFTER_MIDNIGHT = _lines(
    b"GNGGA,000000.00,1325.90300,N,00612.94300,W,1,09,1.20,301.0,M,17.0,M,,",
)


def test_no_fix_during_cold_start():
    g = GPS()
    g.wake(1000)
    g.feed(COLD, 2000)
    assert g.fix(2000) is None
    assert g.last_fix(2000) is None
    assert g.mode() == "none"
    assert g.ttff_ms is None


def test_fix_fields():
    g = GPS()
    g.wake(1000)
    g.feed(COLD, 2000)
    g.feed(FIX, 3000)
    f = g.fix(3250)
    assert f is not None
    assert abs(f["lat"] - (13 + 25.902 / 60)) < 1e-9
    assert abs(f["lon"] + (6 + 12.942 / 60)) < 1e-9
    assert f["alt_m"] == 301.0
    assert f["mode"] == "3d"
    assert f["quality"] == 1
    assert f["sats"] == 9
    assert f["hdop"] == 1.2
    assert f["utc"] == "2026-12-31T23:59:59Z"
    assert f["epoch_s"] == days_from_civil(2026, 12, 31) * 86400 + 86399
    assert abs(f["speed_mps"] - 0.5 * 1852 / 3600) < 1e-9
    assert f["course_deg"] == 90.0
    assert f["age_ms"] == 250
    assert g.ttff_ms == 2000
    assert abs(f["acc_m"] - accuracy_m(1.2, 9, "3d", 1)) < 1e-9


def test_midnight_rollover_from_time_only_sentence():
    g = GPS()
    g.feed(FIX, 3000)
    g.feed(AFTER_MIDNIGHT, 4000)
    f = g.fix(4000)
    assert f["utc"] == "2027-01-01T00:00:00Z", f["utc"]


def test_fix_lost_keeps_last_fix():
    g = GPS()
    g.feed(FIX, 3000)
    g.feed(COLD, 4000)
    assert g.fix(4000) is None
    last = g.last_fix(10000)
    assert last is not None
    assert last["mode"] == "3d"
    assert last["age_ms"] == 7000
    assert abs(last["lat"] - (13 + 25.902 / 60)) < 1e-9


def test_stale_fix_is_not_current():
    g = GPS(stale_ms=5000)
    g.feed(FIX, 3000)
    assert g.fix(8000) is not None
    assert g.fix(8001) is None
    assert g.last_fix(8001)["age_ms"] == 5001


def test_week_rollover_bug_is_corrected():
    g = GPS(min_date=(2024, 1, 1))
    # 2026-12-31 minus 1024 weeks is 2007-05-17
    d = days_from_civil(2026, 12, 31) - 7168
    y, m, day = civil_from_days(d)
    assert (y, m, day) == (2007, 5, 17)
    g.feed(_lines(b"GPRMC,120000.00,A,1325.90200,N,00612.94200,W,0.0,,170507,,,A"), 100)
    assert g.fix(100)["utc"] == "2026-12-31T12:00:00Z"
    assert g.rollovers == 1


def test_2d_fix_from_gsa():
    g = GPS()
    g.feed(_lines(b"GPRMC,120000,A,1325.902,N,00612.942,W,,,010126,,,A",
                  b"GPGGA,120000,1325.902,N,00612.942,W,1,03,2.5,,M,,M,,",
                  b"GPGSA,A,2,02,05,12,,,,,,,,,,2.9,2.5,0.9"), 100)
    f = g.fix(100)
    assert f["mode"] == "2d"
    assert f["acc_m"] > accuracy_m(2.5, 3, "3d", 1)


def test_civil_days_roundtrip():
    for y, m, d in ((1970, 1, 1), (2000, 2, 29), (2024, 12, 31), (2038, 1, 19), (2100, 3, 1)):
        assert civil_from_days(days_from_civil(y, m, d)) == (y, m, d)
    assert days_from_civil(1970, 1, 1) == 0
    assert utc_string(0, 3723000) == "1970-01-01T01:02:03Z"


def test_accuracy_from_gst_when_the_receiver_sends_it():
    g = GPS()
    g.feed(FIX + _lines(b"GNGST,235959.00,1.8,,,,3.0,4.0,5.0"), 3000)
    assert abs(g.fix(3000)["acc_m"] - 10.0) < 1e-9  # 2 x sqrt(3^2 + 4^2)
    # a GST from another epoch is not used: back to HDOP x UERE
    g.feed(AFTER_MIDNIGHT, 4000)
    assert abs(g.fix(4000)["acc_m"] - accuracy_m(1.2, 9, "3d", 1)) < 1e-9


def test_absurd_dates_are_ignored_quickly():
    g = GPS()
    g.feed(FIX, 3000)
    g.feed(_lines(b"GPZDA,000000,01,01,-999999999,,", b"GPZDA,000000,01,01,99999999,,",
                  b"GPZDA,000000,01,01,1900,,"), 3100)
    assert g.fix(3100)["utc"] == "2026-12-31T23:59:59Z"
    assert g.rollovers == 0
