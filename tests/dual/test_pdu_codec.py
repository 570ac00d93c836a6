# SMS PDU codec: runs on MicroPython (tests/test_dual_on_micropython.py) and CPython. Plain asserts only.
# Vectors below are built by hand from 3GPP TS 23.040 / 23.038, field by field (see the comments).
from drivers import gsm7, pdu
from drivers.pdu import PDUError

MALI = "+22370123456"
EXTENSION_CHARS = "^{}\\[~]|€"


def _raises(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except PDUError as exc:
        assert str(exc), "PDUError without a message"
        return str(exc)
    raise AssertionError("no PDUError for %r %r" % (args, kwargs))


def _roundtrip_submit(text, number=MALI, **kwargs):
    parts = pdu.encode_submit(number, text, **kwargs)
    r = pdu.Reassembler()
    message = None
    for pdu_hex, length in parts:
        assert pdu_hex == pdu_hex.upper()
        assert length * 2 == len(pdu_hex) - 2  # "00": no SMSC given
        decoded = pdu.decode(pdu_hex)
        assert decoded["type"] == "submit"
        assert decoded["number"] == number
        message = r.add(decoded, 0)
    assert message is not None
    assert message["text"] == text, (message["text"], text)
    assert message["parts"] == len(parts)
    assert message["concat"] is None
    return parts, message


def test_alphabet_has_128_characters():
    assert len(gsm7.BASIC) == 128
    assert gsm7.BASIC[0] == "@"
    assert gsm7.BASIC[0x1B] == "\x1b"
    assert gsm7.BASIC[0x7F] == "à"


def test_hellohello_packing_classic_vector():
    # TS 23.038 §6.1.2.1.1: "hellohello" packs to E8 32 9B FD 46 97 D9 EC 37.
    assert pdu.septets("hellohello") == 10
    parts = pdu.encode_submit(MALI, "hellohello")
    # 00 SMSC | 01 SUBMIT | 00 MR | 0B 91 2273103254F6 | 00 PID | 00 DCS | 0A UDL | packed text
    assert parts == [("0001000B912273103254F600000AE8329BFD4697D9EC37", 22)]


def test_seven_spare_bits_never_become_an_at_sign():
    # 7 septets = 49 bits: 7 bits spare in octet 7. SMS packing leaves them zero (TS 23.038 §6.1.2.1.1) and
    # the TP-UDL of 7 says where the text ends; USSD-style packing puts <CR> there (0x0D << 1 = 0x1A).
    assert gsm7.pack(gsm7.encode("1234567")) == bytes([0x31, 0xD9, 0x8C, 0x56, 0xB3, 0xDD, 0x00])
    assert gsm7.pack(gsm7.encode("1234567"), cr_pad=True) == bytes([0x31, 0xD9, 0x8C, 0x56, 0xB3, 0xDD, 0x1A])
    assert pdu.encode_submit(MALI, "1234567")[0][0].endswith("0731D98C56B3DD00")
    for packed in ("31D98C56B3DD00", "31D98C56B3DD1A"):
        assert pdu.decode("0001000B912273103254F6000007" + packed)["text"] == "1234567"
        # read without a septet count, the padding is dropped too
        assert gsm7.decode(gsm7.unpack_all(bytes.fromhex(packed))) == "1234567"
    # A message of 7 that really ends with '@' keeps it: the UDL, not the padding, decides.
    _roundtrip_submit("123456@")
    _roundtrip_submit("@@@@@@@")
    _roundtrip_submit("1234567@")


def test_at_sign_is_septet_zero():
    assert gsm7.encode("@") == bytearray([0])
    parts, message = _roundtrip_submit("@ home @")
    assert message["encoding"] == "gsm7"
    _roundtrip_submit("@")
    _roundtrip_submit("a@")


def test_extension_characters_round_trip_and_count_two():
    assert pdu.septets(EXTENSION_CHARS) == 2 * len(EXTENSION_CHARS)
    assert pdu.is_gsm7(EXTENSION_CHARS + "\x0c")
    parts, message = _roundtrip_submit("Prix: 5€ [a|b] {x~y} ^\\" + EXTENSION_CHARS)
    assert message["encoding"] == "gsm7" and len(parts) == 1


def test_extension_hand_vector():
    # "€": ESC 0x1B then 0x65 -> septets 1B 65 -> octets 9B 32 (0x1B | 0x65<<7 = 0x329B).
    decoded = pdu.decode("0001000B912273103254F6000002" + "9B32")
    assert decoded["text"] == "€"


def test_unknown_escape_shows_basic_character():
    # ESC 'A' (0x41) is not in the extension table: shown as 'A'. septets 1B 41 -> 9B 20
    assert pdu.decode("0001000B912273103254F6000002" + "9B20")["text"] == "A"


def test_ucs2_round_trip_accents_bambara_emoji():
    text = "Aidez-moi: é à ç ê ɛ ɔ ɲ ŋ 😀"
    assert not pdu.is_gsm7(text)
    parts, message = _roundtrip_submit(text)
    assert message["encoding"] == "ucs2"
    assert len(parts) == 1
    assert pdu.decode(parts[0][0])["dcs"] == 0x08


def test_ucs2_hand_vector():
    # "ɛ😀": U+025B, then U+1F600 as the surrogate pair D83D DE00. UDL 6 octets, DCS 08.
    decoded = pdu.decode("0001000B912273103254F6000806" + "025BD83DDE00")
    assert decoded["text"] == "ɛ😀"
    assert decoded["encoding"] == "ucs2"


def test_force_ucs2():
    parts, message = _roundtrip_submit("hello", force_ucs2=True)
    assert message["encoding"] == "ucs2"


def test_gsm7_single_part_limit_160():
    assert pdu.parts_needed("a" * 160) == 1
    assert pdu.parts_needed("a" * 161) == 2
    assert pdu.parts_needed("€" * 80) == 1
    assert pdu.parts_needed("€" * 81) == 2
    assert pdu.parts_needed("é" * 160) == 1  # é is in GSM-7
    assert pdu.parts_needed("ê" * 70) == 1
    assert pdu.parts_needed("ê" * 71) == 2


def test_concatenated_gsm7_8bit_ref():
    text = "".join("Alerte %03d. " % i for i in range(40))  # 480 septets
    parts, message = _roundtrip_submit(text, concat_ref=0x42, status_report=True)
    assert len(parts) == 4
    first = pdu.decode(parts[0][0])
    assert first["concat"] == {"ref": 0x42, "part": 1, "total": 4}
    assert first["udh"] == [(0, "420401")]
    assert first["status_report"] is True
    # 153 septets in a full part: UDL = 7 header septets (6 octets + 1 fill bit) + 153.
    assert first["text"] == text[:153]
    assert parts[0][0][2 + 2 * 12:2 + 2 * 13] == "A0"  # TPDU octet 12 is the UDL: 160


def test_concatenated_ucs2_16bit_ref():
    text = "ɛ" * 200
    parts, message = _roundtrip_submit(text, concat_ref=0x1234)
    assert len(parts) == 4  # 66 characters a part with a 7-octet header
    decoded = pdu.decode(parts[3][0])
    assert decoded["concat"] == {"ref": 0x1234, "part": 4, "total": 4}
    assert decoded["udh"] == [(8, "12340404")]
    assert len(pdu.decode(parts[0][0])["text"]) == 66


def test_concatenated_gsm7_16bit_ref():
    text = "x" * 400
    parts, message = _roundtrip_submit(text, concat_ref=999)
    assert len(parts) == 3  # 152 septets a part after a 7-octet header
    assert len(pdu.decode(parts[0][0])["text"]) == 152


def test_split_never_breaks_an_escape_sequence():
    text = "a" + "€" * 200
    parts, message = _roundtrip_submit(text, concat_ref=7)
    for pdu_hex, _length in parts:
        assert " " not in pdu.decode(pdu_hex)["text"]


def test_split_never_breaks_a_surrogate_pair():
    text = "a" + "😀" * 70
    parts, message = _roundtrip_submit(text, concat_ref=7)
    for pdu_hex, _length in parts:
        assert "\ufffd" not in pdu.decode(pdu_hex)["text"]


def test_udh_fill_bits_hand_vector():
    # Part 1 of 2, ref 0x0A: UDH 05 00 03 0A 02 01 (6 octets = 48 bits, 1 fill bit to the septet boundary).
    # Then "hi": h=0x68, i=0x69 packed after 1 fill bit: bits 0 | 0x68<<1 | 0x69<<8 -> D0 69
    # UDL = 7 header septets + 2 = 9 septets -> ceil(63/8) = 8 octets: 6 header + D0 69.
    decoded = pdu.decode("0041000B912273103254F6000009" + "0500030A0201" + "D069")
    assert decoded["concat"] == {"ref": 10, "part": 1, "total": 2}
    assert decoded["text"] == "hi"


def test_deliver_round_trip_with_timestamp_and_smsc():
    pdus = pdu.encode_deliver("+33612345678", "SOS é", (2026, 11, 23, 10, 15, 0, 4), smsc="+33609001390")
    assert len(pdus) == 1
    decoded = pdu.decode(pdus[0])
    assert decoded["type"] == "deliver"
    assert decoded["number"] == "+33612345678"
    assert decoded["smsc"] == "+33609001390"
    assert decoded["text"] == "SOS é"
    assert decoded["timestamp"] == "2026-11-23T10:15:00+01:00"
    assert decoded["reference"] is None and decoded["status"] is None


def test_deliver_negative_zone_and_national_number():
    pdus = pdu.encode_deliver("70123456", "ok", (2026, 1, 2, 3, 4, 5, -14), status_report_indication=True)
    decoded = pdu.decode(pdus[0])
    assert decoded["number"] == "70123456"
    assert decoded["timestamp"] == "2026-01-02T03:04:05-03:30"
    assert decoded["status_report"] is True


def test_deliver_hand_vector_alphanumeric_sender():
    # SMSC 07 91 3396050031F0 (+33695000130) | 04 DELIVER | OA 0B D0 "Orange" = 4F79D87D2E03 (GSM-7 packed)
    # | 00 PID | 00 DCS | SCTS 62 11 32 01 51 00 40 (26-11-23 10:15:00 +4 quarters) | 02 UDL | "ok" = EF35
    decoded = pdu.decode("07913396050031F0" "04" "0BD04F79D87D2E03" "0000" "62113201510040" "02EF35")
    assert decoded["number"] == "Orange"
    assert decoded["smsc"] == "+33695000130"
    assert decoded["text"] == "ok"
    assert decoded["timestamp"] == "2026-11-23T10:15:00+01:00"


def test_deliver_concatenated_reassembly_out_of_order_with_duplicate():
    text = "Position: 12.6392,-8.0029. " * 12
    pdus = pdu.encode_deliver("+22370123456", text, (2026, 11, 23, 10, 15, 0, 0), concat_ref=200)
    assert len(pdus) == 3
    r = pdu.Reassembler()
    assert r.add(pdu.decode(pdus[2]), 1000) is None
    assert r.add(pdu.decode(pdus[0]), 1100) is None
    assert r.add(pdu.decode(pdus[0]), 1200) is None  # duplicate ignored
    message = r.add(pdu.decode(pdus[1]), 1300)
    assert message["text"] == text
    assert message["parts"] == 3
    assert message["incomplete"] is False
    assert r.pending() == 0


def test_reassembler_expires_incomplete_never_drops():
    pdus = pdu.encode_deliver("+22370123456", "z" * 400, (2026, 11, 23, 10, 15, 0, 0), concat_ref=5)
    r = pdu.Reassembler(timeout_ms=1000)
    assert r.add(pdu.decode(pdus[0]), 0) is None
    assert r.add(pdu.decode(pdus[2]), 500) is None
    assert r.expire(999) == []
    expired = r.expire(1000)
    assert len(expired) == 1
    assert expired[0]["incomplete"] is True
    assert expired[0]["missing"] == [2]
    assert expired[0]["text"] == "z" * 153 + "z" * (400 - 306)
    assert r.expire(5000) == []


def test_reassembler_overflow_hands_oldest_to_expire():
    r = pdu.Reassembler(max_messages=2)
    for ref in (1, 2, 3):
        pdus = pdu.encode_deliver("+22370123456", "y" * 200, (2026, 11, 23, 10, 15, 0, 0), concat_ref=ref)
        assert r.add(pdu.decode(pdus[0]), ref) is None
    assert r.pending() == 2
    evicted = r.expire(3)
    assert len(evicted) == 1 and evicted[0]["missing"] == [2]


def test_reassembler_keys_by_sender():
    a = pdu.encode_deliver("+22370000001", "a" * 200, (2026, 11, 23, 10, 15, 0, 0), concat_ref=9)
    b = pdu.encode_deliver("+22370000002", "b" * 200, (2026, 11, 23, 10, 15, 0, 0), concat_ref=9)
    r = pdu.Reassembler()
    assert r.add(pdu.decode(a[0]), 0) is None
    assert r.add(pdu.decode(b[1]), 0) is None
    assert r.add(pdu.decode(a[1]), 0)["text"] == "a" * 200
    assert r.add(pdu.decode(b[0]), 0)["text"] == "b" * 200


def test_single_part_through_reassembler():
    decoded = pdu.decode(pdu.encode_submit(MALI, "one")[0][0])
    message = pdu.Reassembler().add(decoded, 0)
    assert message["text"] == "one" and message["parts"] == 1


def test_status_report_hand_vector():
    # 00 no SMSC | 06 STATUS-REPORT (MMS) | 2A MR=42 | RA 0B 91 2273103254F6 | SCTS 62 11 32 01 51 00 40
    # | DT 62 11 32 01 51 20 40 (10:15:02) | ST 00 (delivered)
    decoded = pdu.decode("00062A0B912273103254F6" "62113201510040" "62113201512040" "00")
    assert decoded["type"] == "status-report"
    assert decoded["reference"] == 42
    assert decoded["number"] == MALI
    assert decoded["status"] == 0
    assert decoded["timestamp"] == "2026-11-23T10:15:00+01:00"
    assert decoded["discharge"] == "2026-11-23T10:15:02+01:00"


def test_status_report_round_trip():
    hex_ = pdu.encode_status_report(MALI, 200, (2026, 11, 23, 10, 15, 0, 0), (2026, 11, 23, 10, 16, 0, 0), 0x46)
    decoded = pdu.decode(hex_)
    assert decoded["reference"] == 200
    assert decoded["status"] == 0x46
    assert decoded["number"] == MALI


def test_submit_with_smsc_validity_and_reference():
    parts = pdu.encode_submit("0612345678", "hi", reference=9, validity_minutes=24 * 60, smsc="+22366999999")
    pdu_hex, length = parts[0]
    assert pdu_hex.startswith("07912263969999F9")
    assert length * 2 == len(pdu_hex) - 16
    decoded = pdu.decode(pdu_hex)
    assert decoded["reference"] == 9
    assert decoded["smsc"] == "+22366999999"
    assert decoded["validity_minutes"] == 24 * 60
    assert decoded["number"] == "0612345678"


def test_validity_relative_steps():
    assert pdu.validity_to_relative(5) == 0
    assert pdu.validity_to_relative(720) == 143
    assert pdu.validity_to_relative(24 * 60) == 167
    assert pdu.validity_to_relative(2 * 24 * 60) == 168
    assert pdu.validity_to_relative(30 * 24 * 60) == 196
    assert pdu.validity_to_relative(63 * 7 * 24 * 60) == 255
    _raises(pdu.validity_to_relative, 4)
    _raises(pdu.validity_to_relative, 64 * 7 * 24 * 60)


def test_decode_accepts_lower_case_and_whitespace():
    upper = pdu.encode_submit(MALI, "hello")[0][0]
    assert pdu.decode("  " + upper.lower() + "\r\n")["text"] == "hello"


def test_decode_without_smsc_field():
    pdu_hex, length = pdu.encode_submit(MALI, "hello")[0]
    assert pdu.decode(pdu_hex[2:], has_smsc=False)["text"] == "hello"


def test_eight_bit_data_is_hex():
    # DCS 04: 8-bit data, UDL 3 octets.
    decoded = pdu.decode("0001000B912273103254F6000403" + "00FF10")
    assert decoded["encoding"] == "8bit"
    assert decoded["text"] == "00FF10"


def test_invalid_numbers_raise():
    for bad in ("", "+", "12a4", "+33 6 12", "06-12", None, 612345678, "1" * 21, "٣٣"):
        _raises(pdu.encode_submit, bad, "hi")


def test_invalid_pdus_raise_with_a_message():
    good = pdu.encode_submit(MALI, "hello world")[0][0]
    for bad in ("", "   ", "0", "zz", "00G1", good[:-2], good[:10], "0003", "00", "0001",
                "0001000B912273103254F600000A", "0041000B912273103254F6000009" + "0F" + "00" * 7, None, 42):
        message = _raises(pdu.decode, bad)
        assert len(message) > 5


def test_truncated_every_length_raises_or_decodes():
    good = pdu.encode_deliver("+33612345678", "Help at the market", (2026, 11, 23, 10, 15, 0, 4))[0]
    for cut in range(0, len(good), 2):
        _raises(pdu.decode, good[:cut])
    assert pdu.decode(good)["text"] == "Help at the market"


def test_reserved_mti_raises():
    assert "reserved" in _raises(pdu.decode, "0003")


def test_text_too_long_raises():
    _raises(pdu.encode_submit, MALI, "x" * (153 * 255 + 1))


def test_bad_timestamp_raises():
    _raises(pdu.encode_deliver, MALI, "x", (2026, 13, 1, 0, 0, 0, 0))
    _raises(pdu.encode_deliver, MALI, "x", (2026, 1, 1))
    # month semi-octets 'A1' are not decimal
    _raises(pdu.decode, "00040B912273103254F60000" "62A13201510040" "00")


def test_same_reference_on_every_part():
    parts = pdu.encode_submit(MALI, "m" * 400, reference=77, concat_ref=3)
    assert [pdu.decode(p)["reference"] for p, _n in parts] == [77, 77, 77]


def test_bytes_are_sent_as_8bit_data():
    data = bytes(range(256)) + bytes(100)
    parts = pdu.encode_submit(MALI, data, concat_ref=0x55)
    assert len(parts) == 3  # 134 octets a part after the 6-octet header
    r = pdu.Reassembler()
    message = None
    for pdu_hex, _n in parts:
        decoded = pdu.decode(pdu_hex)
        assert decoded["encoding"] == "8bit" and decoded["dcs"] == 0x04
        message = r.add(decoded, 0)
    assert message["text"] == pdu._hex(data)


def test_message_class_reject_duplicates_and_absolute_validity():
    pdu_hex, _n = pdu.encode_submit(MALI, "flash", message_class=0, reject_duplicates=True,
                                    validity_until=(2026, 11, 24, 10, 0, 0, 4))[0]
    decoded = pdu.decode(pdu_hex)
    assert decoded["dcs"] == 0x10
    assert decoded["text"] == "flash"
    assert decoded["validity_until"] == "2026-11-24T10:00:00+01:00"
    assert int(pdu_hex[2:4], 16) == 0x01 | 0x04 | 0x18
    _raises(pdu.encode_submit, MALI, "x", message_class=4)
    _raises(pdu.encode_submit, MALI, "x", validity_minutes=60, validity_until=(2026, 1, 1, 0, 0, 0, 0))


def test_lenient_decode_of_truncated_user_data():
    good = pdu.encode_submit(MALI, "Help me please")[0][0]
    _raises(pdu.decode, good[:-4])
    decoded = pdu.decode(good[:-4], strict=False)
    assert decoded["truncated"] is True
    assert decoded["text"] == "Help me plea"  # 11 octets hold 12 septets
    assert pdu.decode(good + "0", strict=False)["text"] == "Help me please"
    _raises(pdu.decode, good + "0")
    assert pdu.decode(good)["truncated"] is False


def test_port_addressing_elements():
    # UDH 06 | 05 04 0B84 23F0 (16-bit ports 2948 <- 9200); 8-bit data "AB"
    decoded = pdu.decode("0041000B912273103254F6000409" "0605040B8423F0" "4142")
    assert decoded["ports"] == {"dest": 2948, "src": 9200}
    assert decoded["text"] == "4142"
    decoded = pdu.decode("0041000B912273103254F6000406" "040402" "6432" "41")
    assert decoded["ports"] == {"dest": 100, "src": 50}


def test_unpack_all_drops_padding_septet():
    seven = gsm7.pack(gsm7.encode("1234567"), cr_pad=True)
    assert gsm7.decode(gsm7.unpack_all(seven)) == "1234567"
    zero_padded = gsm7.pack(gsm7.encode("1234567"))
    assert gsm7.decode(gsm7.unpack_all(zero_padded)) == "1234567"
    assert gsm7.decode(gsm7.unpack_all(gsm7.pack(gsm7.encode("12345678")))) == "12345678"


def test_alphanumeric_sender_counted_in_whole_octets():
    # "Deme123" (7 septets, 49 bits) with a length of 14 semi-octets instead of 13: no '@' appended.
    packed = pdu._hex(gsm7.pack(gsm7.encode("Deme123")))
    decoded = pdu.decode("00040ED0" + packed + "0000" "62113201510040" "00")
    assert decoded["number"] == "Deme123"


def test_copies_after_completion_are_ignored_but_a_reused_reference_is_not():
    ts = (2026, 11, 23, 10, 15, 0, 0)
    first = pdu.encode_deliver(MALI, "a" * 200, ts, concat_ref=0)
    again = pdu.encode_deliver(MALI, "b" * 200, ts, concat_ref=0)  # a sender that always uses ref 0
    r = pdu.Reassembler(timeout_ms=1000)
    assert r.add(pdu.decode(first[0]), 0) is None
    assert r.add(pdu.decode(first[1]), 1)["text"] == "a" * 200
    assert r.add(pdu.decode(first[1]), 2) is None  # the modem handed the same parts over again
    assert r.add(pdu.decode(first[0]), 3) is None
    assert r.add(pdu.decode(again[1]), 4) is None
    assert r.add(pdu.decode(again[0]), 5)["text"] == "b" * 200
    assert r.expire(10000) == [] and r.pending() == 0
    # after the timeout the same copy counts as new again (delivered, never lost)
    assert r.add(pdu.decode(first[0]), 20000) is None
    assert r.add(pdu.decode(first[1]), 20001)["text"] == "a" * 200


def test_lenient_decode_survives_a_broken_smsc_clock():
    # SCTS month 00 and day 00: refused when strict, timestamp None with a warning when lenient.
    broken = "00040B912273103254F60000" "62000032901470" "02EF35"
    assert "valid date" in _raises(pdu.decode, broken)
    decoded = pdu.decode(broken, strict=False)
    assert decoded["text"] == "ok" and decoded["timestamp"] is None
    assert len(decoded["warnings"]) == 1 and "valid date" in decoded["warnings"][0]
    assert pdu.decode(broken.replace("620000", "621132"))["warnings"] == []


def test_odd_ucs2_octet_is_dropped_with_a_warning():
    decoded = pdu.decode("0001000B912273103254F6000803" + "025B00")
    assert decoded["text"] == "ɛ"
    assert decoded["warnings"] == ["UCS-2 user data of an odd number of octets: last octet dropped"]
