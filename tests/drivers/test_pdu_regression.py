"""Fixed PDUs written for Deme (not copied from ../shared), so `make test` covers decoding without the shared data.
Each was checked once against smspdudecoder where that decoder reads the type; now frozen to catch regressions."""
import pytest

from drivers import pdu

CONCAT = "Alerte reçue, la police arrive. Restez où vous êtes. " * 3

VECTORS = [
    # SMSC +22366000000 | DELIVER | +22376543210 | GSM-7 | 2026-11-23 09:41:07 UTC | an AML-style alert
    ("07912263060000F0040B912273563412F000006211329014700026D3E7749726F762B79DBB4793EDD8617A2F2673D96639D98EFD"
     "76F75A38170C26CB01",
     {"type": "deliver", "smsc": "+22366000000", "number": "+22376543210", "encoding": "gsm7",
      "timestamp": "2026-11-23T09:41:07+00:00", "text": "SOS;id=17;n=42;lat=12.6392;lon=-8.0029"}),
    # UCS-2 Bambara (ɲ ɔ ɛ are outside GSM-7)
    ("00040B912273563412F000086211329014700038004100770020006E0069002000630065002C00200272025400670254006E0020"
     "0062025B0020007300650020006B00610020006E0061003F",
     {"type": "deliver", "smsc": None, "number": "+22376543210", "encoding": "ucs2",
      "text": "Aw ni ce, ɲɔgɔn bɛ se ka na?"}),
    # Alphanumeric sender "Orange ML" (TON 0x50), extension characters { } [ ], time zone -03:00
    ("000410D04F79D87D2E839A4C00006220823295952922D3379B5CD6816235180C641C1A83A00D4AFC76D7E79B1468C393C14A1B1F",
     {"number": "Orange ML", "text": "Solde: 1500 FCFA {bonus} [20%]", "timestamp": "2026-02-28T23:59:59-03:00"}),
    # STATUS-REPORT for TP-MR 42: delivered (TP-ST 0)
    ("00062A0B912273563412F0621132901470006211329014210000",
     {"type": "status-report", "reference": 42, "number": "+22376543210", "status": 0,
      "timestamp": "2026-11-23T09:41:07+00:00", "discharge": "2026-11-23T09:41:12+00:00"}),
    # SUBMIT with a status report request, TP-MR 42, validity 1 hour (TP-VP 11)
    ("00312A0B912273563412F000000B06C1E11214BB01",
     {"type": "submit", "reference": 42, "status_report": True, "validity_minutes": 60, "text": "ACK 17"}),
    # The classic 7-bit packing of "hellohello" (TS 23.038)
    ("0001000B912273103254F600000AE8329BFD4697D9EC37", {"text": "hellohello"}),
]

PARTS = [
    "00440B913316325476F80008621132012003408B060804123403010041006C006500720074006500200072006500E700750065002C"
    "0020006C006100200070006F006C0069006300650020006100720072006900760065002E002000520065007300740065007A002000"
    "6F00F900200076006F00750073002000EA007400650073002E00200041006C006500720074006500200072006500E700750065002C",
    "00440B913316325476F80008621132012003408B060804123403020020006C006100200070006F006C00690063006500200061007200"
    "72006900760065002E002000520065007300740065007A0020006F00F900200076006F00750073002000EA007400650073002E0020"
    "0041006C006500720074006500200072006500E700750065002C0020006C006100200070006F006C006900630065002000610072",
    "00440B913316325476F80008621132012003403D060804123403030072006900760065002E002000520065007300740065007A0020"
    "006F00F900200076006F00750073002000EA007400650073002E0020",
]

INVALID = [
    ("0003", "reserved"),  # TP-MTI 3
    ("00040B912273563412F0000062113290147000", "ends"),  # no TP-UDL
    ("00440B912273563412F0000462113290147000030700FF", "header"),  # UDH of 7 octets in 3
    ("00040B912273563412F00000621332901470000100", "valid date"),  # month 31
    ("00040B912273563412F000006211329014700005E8329BFD", "ends inside the user data"),  # UDL 5, 4 octets
    ("hello", "hex digit"),
]


@pytest.mark.parametrize("pdu_hex,expected", VECTORS)
def test_vector_decodes(pdu_hex, expected):
    decoded = pdu.decode(pdu_hex)
    for key, value in expected.items():
        assert decoded[key] == value, key


def test_concatenated_vector_reassembles_in_any_order():
    r = pdu.Reassembler()
    assert r.add(pdu.decode(PARTS[1]), 0) is None
    assert r.add(pdu.decode(PARTS[2]), 10) is None
    message = r.add(pdu.decode(PARTS[0]), 20)
    assert message["text"] == CONCAT
    assert message["number"] == "+33612345678"
    assert message["timestamp"] == "2026-11-23T10:02:30+01:00"
    assert [pdu.decode(p)["concat"] for p in PARTS] == [
        {"ref": 0x1234, "part": n, "total": 3} for n in (1, 2, 3)]


@pytest.mark.parametrize("pdu_hex,words", INVALID)
def test_invalid_vector_raises_a_clear_error(pdu_hex, words):
    with pytest.raises(pdu.PDUError, match=words):
        pdu.decode(pdu_hex)


def test_encoder_still_makes_the_vectors():
    # The encoder is deterministic: the same inputs give the same bytes (the modem simulator relies on it).
    assert pdu.encode_submit("+22376543210", "ACK 17", status_report=True, reference=42,
                             validity_minutes=60) == [(VECTORS[4][0], 20)]
    assert pdu.encode_deliver("+33612345678", CONCAT, (2026, 11, 23, 10, 2, 30, 4), concat_ref=0x1234) == PARTS
