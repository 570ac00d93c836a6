# The alert and ack SMS formats (docs/protocol.md), on CPython and on MicroPython.
from drivers.alert import (
    MAC_HEX_DIGITS,
    MAX_ACC_M,
    MAX_AGE_S,
    MAX_DEVICE_TIME_S,
    ProtocolError,
    encode_ack,
    encode_alert,
    hmac_sha256,
    mac_hex,
    parse_ack,
    parse_alert,
)

KEY = b"k" * 32
OTHER = b"o" * 32


def keys(device_id):
    return KEY if device_id == "W1" else None


def raises(fn, *args):
    try:
        fn(*args)
    except ProtocolError as exc:
        return str(exc)
    raise AssertionError("no ProtocolError")


def test_hmac_matches_rfc4231_case_2():
    digest = hmac_sha256(b"Jefe", b"what do ya want for nothing?")
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert "".join("%02x" % b for b in digest) == expected


def test_hmac_with_a_key_longer_than_a_block():
    # RFC 4231 test case 6: 131-byte key.
    digest = hmac_sha256(b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First")
    assert "".join("%02x" % b for b in digest)[:16] == "60e431591ee0b67f"


def test_alert_round_trip_with_position_cell_and_battery():
    text = encode_alert(KEY, "W1", 42, "SOS", "MED", 1795430100,
                        {"lat": 13.4317, "lon": -6.2157, "acc_m": 15, "age_s": 3},
                        {"mcc": 610, "mnc": 1, "lac": 0x1F4, "cell_id": 0x2A3B}, 87)
    assert len(text) <= 160
    assert text.startswith("DM1;i=W1;n=42;e=SOS;c=MED;")
    alert = parse_alert(text, keys)
    assert alert["device_id"] == "W1"
    assert alert["counter"] == 42
    assert alert["event"] == "SOS"
    assert alert["category"] == "MED"
    assert alert["device_time"] == 1795430100
    assert abs(alert["lat"] - 13.4317) < 1e-5
    assert abs(alert["lon"] + 6.2157) < 1e-5
    assert alert["acc_m"] == 15
    assert alert["fix_age_s"] == 3
    assert alert["cell"] == {"mcc": 610, "mnc": 1, "lac": 0x1F4, "cell_id": 0x2A3B}
    assert alert["battery"] == 87


def test_an_alert_without_a_fix_is_still_an_alert():
    text = encode_alert(KEY, "W1", 1, "SOS", "GEN", 0, None, None, None)
    alert = parse_alert(text, keys)
    assert alert["lat"] is None
    assert alert["lon"] is None
    assert alert["event"] == "SOS"


def test_longest_alert_fits_one_sms():
    text = encode_alert(KEY, "W-1234567890ABCD", 4294967295, "LOWBAT", "FIRE", 4102444800,
                        {"lat": -89.99999, "lon": -179.99999, "acc_m": 99999, "age_s": 999999},
                        {"mcc": 999, "mnc": 999, "lac": 0xFFFF, "cell_id": 0xFFFFFFF}, 100)
    assert len(text) <= 160
    alert = parse_alert(text.replace("W-1234567890ABCD", "W-1234567890ABCD"), lambda i: KEY)
    assert alert["acc_m"] == 99999


def test_forged_mac_is_rejected():
    text = encode_alert(KEY, "W1", 5, "SOS", "GEN", 0, None, None, 50)
    forged = text[:-MAC_HEX_DIGITS] + ("0" * MAC_HEX_DIGITS)
    assert "bad MAC" in raises(parse_alert, forged, keys)


def test_alert_signed_with_another_key_is_rejected():
    text = encode_alert(OTHER, "W1", 5, "SOS", "GEN", 0, None, None, 50)
    assert "bad MAC" in raises(parse_alert, text, keys)


def test_tampered_field_is_rejected():
    text = encode_alert(KEY, "W1", 5, "SOS", "GEN", 0, None, None, 50)
    assert "bad MAC" in raises(parse_alert, text.replace("n=5;", "n=6;"), keys)


def test_unknown_device_is_rejected():
    text = encode_alert(KEY, "W9", 5, "SOS", "GEN", 0, None, None, 50)
    assert "unknown device" in raises(parse_alert, text, keys)


def test_garbage_gives_protocol_error():
    for text in ["", "hello", "DM1;", "DM1;m=", "DM1;i=W1;n=x;m=00", "DM1;;;;m=1", "DM2;i=W1;m=00",
                 "DM1;i=W1;i=W1;m=0", "DM1;i=" + "A" * 40 + ";m=0", ";m=", "DM1;i=W 1;m=0", "\x00\xff;m=;"]:
        raises(parse_alert, text, keys)


def test_ack_round_trip_and_forgery():
    text = encode_ack(KEY, "W1", 7, 42, "ACK")
    assert len(text) <= 160
    ack = parse_ack(text, keys)
    assert ack == {"device_id": "W1", "hub_counter": 7, "counter": 42, "status": "ACK"}
    assert "bad MAC" in raises(parse_ack, text.replace("s=ACK", "s=RES"), keys)
    assert "bad MAC" in raises(parse_ack, encode_ack(OTHER, "W1", 7, 42, "ACK"), keys)


def test_an_alert_is_not_an_ack_and_back():
    alert = encode_alert(KEY, "W1", 1, "SOS", "GEN", 0, None, None, None)
    ack = encode_ack(KEY, "W1", 1, 1, "RCV")
    raises(parse_ack, alert, keys)
    raises(parse_alert, ack, keys)


def test_encoder_refuses_bad_values():
    for args in [("W1", 1, "BOOM", "GEN"), ("W1", 1, "SOS", "NOPE"), ("", 1, "SOS", "GEN"), ("W1", -1, "SOS", "GEN")]:
        try:
            encode_alert(KEY, *args)
        except ProtocolError:
            continue
        raise AssertionError("accepted %r" % (args,))


# A genuine alert with the fields given: signed with the device's key, so only the parser's checks stand between it
# and the store (issue 11: a value out of range passed, then the SQLite insert failed and the SMS stayed on the SIM).
GOOD = {"n": "7", "e": "SOS", "c": "GEN", "t": "1795430100", "p": "13.43170,-6.21570", "r": "15", "f": "3",
        "g": "610-1-1F4-2A3B", "b": "87"}
ORDER = ("n", "e", "c", "t", "p", "r", "f", "g", "b")


def signed(**fields):
    values = dict(GOOD)
    values.update(fields)
    body = "DM1;i=W1;" + ";".join(k + "=" + values[k] for k in ORDER if values[k] is not None)
    return body + ";m=" + mac_hex(KEY, body)


def test_a_signed_alert_with_every_field_at_its_documented_limit_is_accepted():
    alert = parse_alert(signed(n="4294967295", t=str(MAX_DEVICE_TIME_S), r=str(MAX_ACC_M), f=str(MAX_AGE_S),
                               g="999-999-FFFF-FFFFFFF", b="100", p="-90.00000,180.00000"), keys)
    assert alert["counter"] == 4294967295 and alert["device_time"] == MAX_DEVICE_TIME_S
    assert alert["acc_m"] == MAX_ACC_M and alert["fix_age_s"] == MAX_AGE_S and alert["battery"] == 100
    assert alert["cell"] == {"mcc": 999, "mnc": 999, "lac": 0xFFFF, "cell_id": 0xFFFFFFF}
    low = parse_alert(signed(n="0", t="0", r="0", f="0", g="0-0-0-0", b="0", p="0,0"), keys)
    assert (low["counter"], low["device_time"], low["acc_m"], low["fix_age_s"], low["battery"]) == (0, 0, 0, 0, 0)


def test_a_signed_alert_with_a_value_beyond_its_documented_range_is_a_protocol_error():
    huge = "1" + "0" * 20
    for fields in [{"t": huge}, {"r": huge}, {"f": huge}, {"n": huge}, {"b": huge},
                   {"t": str(MAX_DEVICE_TIME_S + 1)}, {"r": str(MAX_ACC_M + 1)}, {"f": str(MAX_AGE_S + 1)},
                   {"n": "4294967296"}, {"b": "101"},
                   {"g": "610-1-1F4-10000000"}, {"g": "610-1-10000-1"}, {"g": "1000-1-1F4-1"}, {"g": "610-1000-1F4-1"},
                   {"p": "90.00001,0"}, {"p": "0,-180.00001"}]:
        assert "out of range" in raises(parse_alert, signed(**fields), keys), fields


def test_a_signed_alert_with_a_number_not_in_ascii_digits_is_a_protocol_error():
    # "\u00b9" (superscript one) and "\u0661" (Arabic-Indic one) pass str.isdigit() and int()/float() on CPython.
    for fields in [{"b": "\u00b9"}, {"t": "\u00b9"}, {"n": "\u0661"}, {"r": "-0"}, {"f": "+3"}, {"t": "-1"},
                   {"t": " 1"}, {"n": "1_0"}, {"b": ""},
                   {"g": "610-1-0x1F4-1"}, {"g": "610-1-+1F4-1"}, {"g": "\u0661-1-1F4-1"}, {"g": "610-1-1F4-1_0"},
                   {"g": "610--1F4-1"}, {"g": "610-1- 1F4-1"},
                   {"p": "1e1,0"}, {"p": "\u0661\u0663.4,0"}, {"p": "nan,0"}, {"p": "inf,0"}, {"p": "13.4, -6.2"},
                   {"p": "+13.4,0"}, {"p": "13.,0"}, {"p": ".5,0"}, {"p": "1_3.4,0"}, {"p": "13.4,"}]:
        raises(parse_alert, signed(**fields), keys)


def test_the_encoder_never_writes_what_the_parser_refuses():
    # The wearable's alarm must go out whatever its clock or GPS says: values beyond the ranges are written as the
    # parser takes them (an unknown time, a radius and an age capped), never as text the hub rejects.
    for device_time in (-1, MAX_DEVICE_TIME_S + 1, 10 ** 20):
        text = encode_alert(KEY, "W1", 1, "SOS", "GEN", device_time,
                            {"lat": 13.4317, "lon": -6.2157, "acc_m": -3, "age_s": 10 ** 20}, None, None)
        alert = parse_alert(text, keys)
        assert (alert["device_time"], alert["acc_m"], alert["fix_age_s"]) == (0, 0, MAX_AGE_S)
