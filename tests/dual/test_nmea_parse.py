"""NMEA parser: each sentence type and talker, checksums, and survival of what real UARTs deliver
(garbage, cut lines, binary noise, over-long lines, byte-by-byte arrival). Runs on MicroPython too."""
from drivers.gps import GPS
from drivers.nmea import MAX_LINE, NMEAError, NMEAParser, _InPlace, frame, parse_sentence

GGA = b"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n"
RMC = b"$GNRMC,101530.50,A,1325.90200,N,00612.94200,W,1.5,271.3,230526,0.5,W,D,S*50\r\n"
GSV411 = b"$GLGSV,3,3,09,70,10,200,25,1*42\r\n"
GSA411 = b"$BDGSA,A,3,201,205,210,,,,,,,,,,1.9,1.1,1.5,4*00\r\n"
ZDA = b"$GPZDA,235959.00,31,12,2026,00,00*60\r\n"


def test_these_tests_run_the_devices_decoder_on_both_runtimes():
    # The CPython split decoder (drivers/nmea_split.py) is chosen only by who imports it: what the device runs,
    # the GPS state included, decodes in place everywhere, so every test here proves the device's decoder.
    assert isinstance(NMEAParser()._decoder, _InPlace)
    assert isinstance(GPS().parser._decoder, _InPlace)
    assert not NMEAParser()._lines


def _err(line, **kw):
    try:
        parse_sentence(line, **kw)
    except NMEAError as exc:
        return exc.kind
    return None


def test_gga():
    s = parse_sentence(GGA)
    assert s["talker"] == "GP" and s["type"] == "GGA"
    assert s["time_ms"] == (12 * 3600 + 35 * 60 + 19) * 1000
    assert abs(s["lat"] - (48 + 7.038 / 60)) < 1e-12
    assert abs(s["lon"] - (11 + 31.0 / 60)) < 1e-12
    assert s["quality"] == 1 and s["sats"] == 8 and s["hdop"] == 0.9
    assert s["alt"] == 545.4 and s["geoid_sep"] == 46.9
    assert s["dgps_age"] is None and s["dgps_station"] is None


def test_rmc_nmea41_fields_and_hemispheres():
    s = parse_sentence(RMC)
    assert s["talker"] == "GN" and s["type"] == "RMC"
    assert s["time_ms"] == (10 * 3600 + 15 * 60 + 30) * 1000 + 500
    assert s["status"] == "A"
    assert abs(s["lat"] - (13 + 25.902 / 60)) < 1e-12
    assert abs(s["lon"] + (6 + 12.942 / 60)) < 1e-12
    assert s["speed_kn"] == 1.5 and s["course"] == 271.3
    assert s["date"] == (2026, 5, 23)
    assert s["magvar"] == -0.5
    assert s["mode"] == "D" and s["navstatus"] == "S"


def test_rmc_nmea2_without_mode():
    s = parse_sentence(frame(b"GPRMC,225446,A,4916.45,N,12311.12,W,000.5,054.7,191194,020.3,E"))
    assert s["mode"] is None and s["navstatus"] is None
    assert s["date"] == (1994, 11, 19)
    assert s["magvar"] == 20.3
    assert abs(s["lon"] + (123 + 11.12 / 60)) < 1e-12


def test_gsv_and_gsa_411_ids():
    s = parse_sentence(GSV411)
    assert s["talker"] == "GL" and s["total"] == 3 and s["num"] == 3 and s["in_view"] == 9
    assert s["sats"] == ((70, 10, 200, 25),)
    assert s["signal"] == 1
    g = parse_sentence(GSA411)
    assert g["talker"] == "BD" and g["fix"] == 3 and g["opmode"] == "A"
    assert g["prns"] == (201, 205, 210)
    assert (g["pdop"], g["hdop"], g["vdop"]) == (1.9, 1.1, 1.5)
    assert g["system"] == 4


def test_gsv_without_signal_and_empty_snr():
    s = parse_sentence(frame(b"GPGSV,2,2,06,15,40,195,,18,61,306,28"))
    assert s["sats"] == ((15, 40, 195, None), (18, 61, 306, 28))
    assert s["signal"] is None


def test_gll_vtg_zda():
    s = parse_sentence(frame(b"GAGLL,3723.2475,N,12158.3416,W,161229.487,A,A"))
    assert s["talker"] == "GA" and s["status"] == "A" and s["mode"] == "A"
    assert s["time_ms"] == (16 * 3600 + 12 * 60 + 29) * 1000 + 487
    v = parse_sentence(frame(b"GPVTG,309.62,T,,M,0.13,N,0.2,K,A"))
    assert v["course"] == 309.62 and v["speed_kn"] == 0.13 and v["speed_kmh"] == 0.2 and v["mode"] == "A"
    old = parse_sentence(frame(b"GPVTG,054.7,034.4,005.5,010.2"))
    assert old["course"] == 54.7 and old["speed_kn"] == 5.5 and old["speed_kmh"] == 10.2
    z = parse_sentence(ZDA)
    assert (z["day"], z["month"], z["year"]) == (31, 12, 2026)
    assert z["time_ms"] == 86399000 and z["tz_h"] == 0


def test_every_talker():
    for talker in ("GP", "GL", "GA", "GB", "BD", "GQ", "GN", "GI"):
        s = parse_sentence(frame(talker.encode() + b"GLL,0130.0000,S,03640.0000,E,000000,A,A"))
        assert s["talker"] == talker
        assert abs(s["lat"] + 1.5) < 1e-12 and abs(s["lon"] - 36 - 40 / 60) < 1e-12


def test_empty_fields_are_none():
    s = parse_sentence(frame(b"GPGGA,,,,,,0,,,,,,,,"))
    assert s["lat"] is None and s["lon"] is None and s["quality"] == 0 and s["time_ms"] is None
    r = parse_sentence(frame(b"GPRMC,,V,,,,,,,,,,N"))
    assert r["status"] == "V" and r["date"] is None and r["mode"] == "N"


def test_missing_trailing_fields_are_none():
    s = parse_sentence(frame(b"GPGGA,123519,4807.038,N,01131.000,E,1,08"))
    assert s["sats"] == 8 and s["hdop"] is None and s["alt"] is None


def test_checksum():
    assert _err(GGA.replace(b"*47", b"*48")) == "checksum"
    assert _err(GGA.replace(b"*47", b"*4")) == "format"
    assert _err(GGA.replace(b"*47", b"*G7")) == "format"
    lower_hex = b"$GNRMC,101530.50,A,1325.90200,N,00612.94200,W,1.5,271.3,230526,0.5,W,D,S*50"
    assert parse_sentence(lower_hex)["status"] == "A"
    assert parse_sentence(frame(b"GPZDA,000000,01,01,2027,,").replace(b"*", b"*"))["year"] == 2027
    no_sum = GGA.split(b"*")[0]
    assert parse_sentence(no_sum)["sats"] == 8
    assert _err(no_sum, require_checksum=True) == "nochecksum"


def test_proprietary_and_unknown_are_skipped():
    for line in (b"$PUBX,00,074440.00,4703.74203,N,00736.82976,E,576.991,D3,2.0,2.0,0.091",
                 frame(b"PMTK001,604,3"), frame(b"PQTMVERNO,LC29H"), frame(b"PSRF156,1,2"),
                 frame(b"GPTXT,01,01,02,ANTSTATUS=OK"), frame(b"GNGRS,1,2,3")):
        assert parse_sentence(line) is None


def test_malformed_raise_only_nmeaerror():
    bad = (b"", b"$", b"$GPGGA", b"FOOBAR", b"$GPGGA,12x519,4807.038,N", b"$GPRMC,101530,A,48X7.0,N",
           b"$GPGGA,123519,4807.038,Q,01131.000,E,1", b"$GPRMC,101530,A,4807.038,N,01131.000,E,,,999999",
           b"$GPGGA,256060,,,,,0", b"$GPZDA,000000,32,13,2026", b"$GPGGA,1.2.3", b"$G\xffGGA,1",
           b"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0..9", b"$GPGSV,1,1,-", b"$,,,,", b"$GPGGA,1,2,3*ZZ")
    for line in bad:
        try:
            parse_sentence(line)
        except NMEAError:
            pass
    assert _err(b"$GPGGA,12x519,4807.038,N") == "format"
    assert _err("not bytes at all \u00e9") in ("format", None)
    assert _err(12345) == "format"


def test_feed_whole_stream_and_byte_by_byte():
    stream = GGA + RMC + GSV411 + GSA411 + ZDA
    p = NMEAParser()
    out = p.feed(stream)
    assert [s["type"] for s in out] == ["GGA", "RMC", "GSV", "GSA", "ZDA"]
    q = NMEAParser()
    got = []
    for i in range(len(stream)):
        got.extend(q.feed(stream[i:i + 1]))
    assert [s["type"] for s in got] == ["GGA", "RMC", "GSV", "GSA", "ZDA"]
    assert got[1]["lat"] == out[1]["lat"]
    for chunk in (3, 7, 64):
        r = NMEAParser()
        seen = []
        for i in range(0, len(stream), chunk):
            seen.extend(r.feed(stream[i:i + chunk]))
        assert len(seen) == 5
        assert sum(r.errors.values()) == 0


def test_feed_survives_noise_truncation_and_overflow():
    p = NMEAParser()
    junk = bytes(range(256)).replace(b"$", b"").replace(b"\n", b"")
    ubx = b"\xb5\x62\x01\x07\x5c\x00" + bytes(92)
    cut = GGA[:30]
    long_line = b"$GPTXT," + b"A" * (MAX_LINE + 20) + b"*00\r\n"
    stream = junk + GGA + ubx + cut + RMC + long_line + GGA.replace(b"*47", b"*11") + b"\r\n\r\n" + ZDA
    out = p.feed(stream)
    assert [s["type"] for s in out] == ["GGA", "RMC", "ZDA"]
    assert p.errors["truncated"] == 1
    assert p.errors["overflow"] == 1
    assert p.errors["checksum"] == 1
    assert p.noise_bytes > 0
    # and still decodes normally afterwards
    assert p.feed(GGA)[0]["sats"] == 8


def test_feed_line_without_checksum_counts():
    p = NMEAParser()
    assert p.feed(GGA.split(b"*")[0] + b"\r\n") == []
    assert p.errors["nochecksum"] == 1


def test_feed_into_handler_and_counters():
    p = NMEAParser(satellites=False)
    seen = []
    p.feed_into(GSV411 + frame(b"PUBX,00,1") + GGA, seen.append)
    assert len(seen) == 2 and seen[0]["sats"] is None and seen[0]["in_view"] == 9
    assert p.sentences == 2 and p.skipped == 1


def test_frame_roundtrip():
    line = frame(b"GPGGA,000001,0000.000,N,00000.000,E,1,04,1.0,0.0,M,0.0,M,,")
    assert line.startswith(b"$GPGGA") and line.endswith(b"\r\n")
    assert parse_sentence(line)["time_ms"] == 1000


def test_reuse_overwrites_one_dict_per_type_and_feed_copies():
    p = NMEAParser(reuse=True)
    seen = []
    second = GGA.replace(b"123519", b"123520").split(b"*")[0][1:]
    p.feed_into(GGA + frame(second), seen.append)
    assert len(seen) == 2 and seen[0] is seen[1]
    assert seen[1]["time_ms"] == (12 * 3600 + 35 * 60 + 20) * 1000
    copies = NMEAParser(reuse=True).feed(GGA + frame(second))
    assert copies[0] is not copies[1] and copies[0]["time_ms"] != copies[1]["time_ms"]


def test_gsa_counts_used_satellites_without_the_prn_tuple():
    s = NMEAParser(satellites=False).feed(GSA411)[0]
    assert s["used"] == 3 and s["prns"] is None


def test_gst_error_estimates():
    s = parse_sentence(frame(b"GPGST,150119.000,004.0,008.7,004.7,132.3,006.8,007.2,00014"))
    assert s["type"] == "GST" and s["time_ms"] == (15 * 3600 + 1 * 60 + 19) * 1000
    assert (s["sd_lat"], s["sd_lon"], s["sd_alt"]) == (6.8, 7.2, 14.0)
    assert s["orient"] == 132.3 and s["rms"] == 4.0
