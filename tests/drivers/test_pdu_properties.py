"""Properties of the PDU codec (CPython only): Hypothesis round trips, totality of the decoder on garbage and on
mutated PDUs, and agreement with an independent decoder (the PyPI package smspdudecoder)."""
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from smspdudecoder.easy import read_incoming_sms, read_outgoing_sms

from drivers import gsm7, pdu

GSM7_CHARS = [c for c in gsm7.BASIC if c != "\x1b"] + sorted(gsm7.EXTENSION.values())
# Any character a person can type: surrogate code points are not characters.
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=400)
GSM7_TEXT = st.text(st.sampled_from(GSM7_CHARS), max_size=500)
TEXTS = st.one_of(GSM7_TEXT, ANY_TEXT)
NUMBERS = st.from_regex(r"\+?[0-9]{1,20}", fullmatch=True)
REFS = st.one_of(st.none(), st.integers(0, 65535))
TIMESTAMPS = st.tuples(
    st.integers(2000, 2099), st.integers(1, 12), st.integers(1, 28), st.integers(0, 23), st.integers(0, 59),
    st.integers(0, 59), st.integers(-48, 56),
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _reassemble(pdus):
    r = pdu.Reassembler()
    out = [m for m in (r.add(pdu.decode(p), 0) for p in pdus) if m is not None]
    assert len(out) == 1 and r.pending() == 0
    return out[0]


@SETTINGS
@given(number=NUMBERS, text=TEXTS, ref=REFS, status_report=st.booleans())
def test_submit_round_trip(number, text, ref, status_report):
    parts = pdu.encode_submit(number, text, concat_ref=ref, status_report=status_report)
    assert len(parts) == pdu.parts_needed(text, concat_ref=ref)
    for pdu_hex, length in parts:
        assert len(pdu_hex) == 2 + 2 * length
        assert length <= 164  # an SMS-SUBMIT TPDU is at most 164 octets (TS 23.040 §9.2.2.2)
    message = _reassemble([p for p, _n in parts])
    assert message["text"] == text
    assert message["number"] == number
    assert message["status_report"] is status_report
    assert message["encoding"] == ("gsm7" if pdu.is_gsm7(text) else "ucs2")


@SETTINGS
@given(sender=st.one_of(NUMBERS, st.text(st.sampled_from(GSM7_CHARS[32:127]), min_size=1, max_size=11)),
       text=TEXTS, ref=REFS, ts=TIMESTAMPS)
def test_deliver_round_trip(sender, text, ref, ts):
    if pdu.septets(sender) > 11 and not pdu._is_number(sender):
        return  # an alphanumeric address holds 11 septets at most; covered by test_alphanumeric_too_long
    pdus = pdu.encode_deliver(sender, text, ts, concat_ref=ref)
    message = _reassemble(pdus)
    assert message["text"] == text
    assert message["number"] == sender
    stamp = datetime.fromisoformat(message["timestamp"])
    assert stamp.utcoffset() == timedelta(minutes=15 * ts[6])
    assert stamp.replace(tzinfo=None) == datetime(*ts[:6])


def test_alphanumeric_too_long():
    try:
        pdu.encode_deliver("€€€€€€", "x", (2026, 1, 1, 0, 0, 0, 0))
    except pdu.PDUError as exc:
        assert "11" in str(exc)
    else:
        raise AssertionError("a 12-septet alphanumeric sender was accepted")


def _total(pdu_hex, strict):
    """The undecorated decoder (no catch-all): it alone must give a dict or PDUError."""
    try:
        result = pdu._decode(pdu_hex, True, strict)
    except pdu.PDUError as exc:
        assert str(exc)
        return None
    assert isinstance(result, dict) and result["type"] in ("deliver", "submit", "status-report")
    assert isinstance(result["text"], str)
    return result


@SETTINGS
@given(st.text(max_size=300))
def test_any_string_gives_dict_or_pdu_error(text):
    _total(text, True)
    _total(text, False)


@SETTINGS
@given(st.binary(max_size=200), st.booleans())
def test_random_hex_gives_dict_or_pdu_error(data, strict):
    _total(data.hex(), strict)


@st.composite
def mutated_pdus(draw):
    kind = draw(st.sampled_from(["submit", "deliver", "status"]))
    text = draw(TEXTS)
    if kind == "submit":
        base = draw(st.sampled_from(pdu.encode_submit("+22370123456", text, concat_ref=draw(REFS))))[0]
    elif kind == "deliver":
        base = draw(st.sampled_from(pdu.encode_deliver("Orange", text, (2026, 11, 23, 10, 15, 0, 4))))
    else:
        base = pdu.encode_status_report("+22370123456", 5, (2026, 1, 1, 0, 0, 0, 0), (2026, 1, 1, 0, 0, 1, 0), 0)
    data = bytearray(bytes.fromhex(base))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["set", "cut", "insert", "delete"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "set" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
        elif data:
            del data[at]
    return data.hex()


@SETTINGS
@given(mutated_pdus(), st.booleans())
def test_mutated_pdus_give_dict_or_pdu_error(pdu_hex, strict):
    _total(pdu_hex, strict)
    _total(pdu_hex + "0", strict)


# --- smspdudecoder: an independent decoder reads what we encode -----------------------------------------


def _their_text(pdu_hex, ours):
    """What smspdudecoder shows for one of our parts. It decodes every septet of the user data, header and spare
    bits included, into characters, then slices those characters by septet counts. Two quirks follow, both
    its own: a 0x1B septet inside the header swallows the next one (the slice then starts a character late), and
    with extension characters (2 septets, 1 character) the padding septet of 7 zero spare bits lands inside the
    slice as an '@'. Emulated here with our unpacking and tables; without those quirks it must equal ours."""
    if ours["encoding"] != "gsm7":
        return ours["text"]
    header = 1 + sum(2 + len(data) // 2 for _iei, data in ours["udh"]) if ours["udh"] else 0
    header_septets = (header * 8 + 6) // 7
    udl = header_septets + pdu.septets(ours["text"])
    ud = bytes.fromhex(pdu_hex)[-gsm7.packed_length(udl):]
    septets = gsm7.unpack(ud, 0, 0, len(ud) * 8 // 7)
    chars = []
    escaped = False
    for s in septets:
        if s == gsm7.ESCAPE and not escaped:
            escaped = True
            continue
        chars.append(gsm7.EXTENSION.get(s, " ") if escaped else gsm7.BASIC[s])
        escaped = False
    theirs = "".join(chars)[header_septets:udl]
    quirky = gsm7.ESCAPE in septets[:header_septets] or (
        (-udl * 7) % 8 == 7 and any(gsm7.char_septets(c) == 2 for c in ours["text"]))
    if not quirky:
        assert theirs == ours["text"], (theirs, ours["text"])
    return theirs


def _their_number(ours):
    """smspdudecoder decodes every septet of an alphanumeric address, ignoring its length in semi-octets: 7 zero
    spare bits come out as an '@'."""
    if not pdu._is_number(ours) and pdu.septets(ours) % 8 == 7:
        return ours + "@"
    return ours


def _their_partial(concat):
    if concat is None:
        return False
    return {"reference": f"{concat['ref']}-{concat['total']}", "parts_count": concat["total"],
            "part_number": concat["part"]}


@SETTINGS
@given(number=NUMBERS, text=TEXTS, ref=REFS)
def test_smspdudecoder_reads_our_submits(number, text, ref):
    for pdu_hex, _n in pdu.encode_submit(number, text, concat_ref=ref):
        ours = pdu.decode(pdu_hex)
        theirs = read_outgoing_sms(pdu_hex)
        assert theirs["recipient"] == ours["number"] == number
        assert theirs["content"] == _their_text(pdu_hex, ours)


@SETTINGS
@given(sender=st.one_of(NUMBERS, st.text(st.sampled_from(GSM7_CHARS[32:127]), min_size=1, max_size=11)),
       text=TEXTS, ref=REFS, ts=TIMESTAMPS)
def test_smspdudecoder_reads_our_delivers(sender, text, ref, ts):
    if not pdu._is_number(sender) and pdu.septets(sender) > 11:
        return
    for pdu_hex in pdu.encode_deliver(sender, text, ts, concat_ref=ref):
        ours = pdu.decode(pdu_hex)
        theirs = read_incoming_sms(pdu_hex)
        assert theirs["sender"] == _their_number(ours["number"])
        assert theirs["content"] == _their_text(pdu_hex, ours)
        assert theirs["partial"] == _their_partial(ours["concat"])
        assert theirs["date"] == datetime.fromisoformat(ours["timestamp"]).astimezone(UTC)


@SETTINGS
@given(text=st.text(st.sampled_from("ab€ɛ😀"), min_size=161, max_size=700), ref=st.integers(0, 65535),
       order=st.randoms(use_true_random=False), duplicates=st.lists(st.integers(0, 20), max_size=5))
def test_reassembly_in_any_order_with_duplicates(text, ref, order, duplicates):
    pdus = pdu.encode_deliver("+22370123456", text, (2026, 11, 23, 10, 15, 0, 4), concat_ref=ref)
    arrivals = list(pdus) + [pdus[i % len(pdus)] for i in duplicates]
    order.shuffle(arrivals)
    r = pdu.Reassembler()
    done = []
    for t, p in enumerate(arrivals):
        message = r.add(pdu.decode(p), t)
        if message is not None:
            done.append(message)
    assert len(done) == 1 and done[0]["text"] == text and done[0]["parts"] == len(pdus)
    assert r.expire(10**6) == [] and r.pending() == 0
