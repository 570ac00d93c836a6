"""Property tests: whatever bytes arrive, parse_sentence returns a value or raises NMEAError (nothing else),
NMEAParser.feed and GPS.feed never raise, and how the stream is cut into reads never changes what is decoded."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.gps import GPS
from drivers.nmea import NMEAError, NMEAParser, checksum, parse_sentence
from drivers.nmea_split import SplitDecoder
from drivers.position import parse_cgnsinf, parse_cgnssinfo
from sim.gps import NMEAFeeder
from tests.drivers.test_nmea_pynmea2 import OWN

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SIM_LINES = [line for r in ("ublox", "l76k", "gp") for i in (0, 6)
             for line in NMEAFeeder(receiver=r, seed=3, fix_after_s=3).sentences_for_second(i)]
SEEDS = SIM_LINES + OWN
ALPHABET = b"$*,.-+0123456789ABCDEFGNPSWVTMKQZ\r\n \x00\xff"


def _parse_total(line, **kw):
    try:
        parse_sentence(line, **kw)
    except NMEAError:
        pass


@SETTINGS
@given(st.binary(max_size=200), st.booleans())
def test_parse_sentence_random_bytes(data, require):
    _parse_total(data, require_checksum=require)
    _parse_total(b"$GPGGA," + data)
    _parse_total(b"$GNRMC," + data)


@SETTINGS
@given(st.lists(st.sampled_from(list(ALPHABET)), max_size=120))
def test_parse_sentence_nmea_alphabet(chars):
    _parse_total(bytes(chars))
    _parse_total(b"$GPGSV," + bytes(chars))


def _resign(line):
    """Recompute the checksum so the mutation reaches the field decoders instead of failing the checksum."""
    body = line.strip().lstrip(b"$").split(b"*")[0]
    return b"$" + body + b"*" + (b"%02X" % checksum(body))


@SETTINGS
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 200), st.integers(0, 3), st.integers(0, 255)),
                                        min_size=1, max_size=4), st.booleans())
def test_mutated_sentences(line, edits, resign):
    b = bytearray(line)
    for pos, op, val in edits:
        pos = pos % (len(b) + 1)
        if op == 0 and pos < len(b):
            b[pos] = val
        elif op == 1:
            b[pos:pos] = bytes((val,))
        elif op == 2 and pos < len(b):
            del b[pos]
        elif op == 3:
            b[pos:pos] = b","
    mutated = bytes(b)
    _parse_total(mutated)
    if resign and mutated.count(b"*") <= 1:
        _parse_total(_resign(mutated))


@SETTINGS
@given(st.lists(st.one_of(st.binary(max_size=60), st.sampled_from(SEEDS)), max_size=30),
       st.integers(1, 97))
def test_feed_never_raises_and_chunking_is_invisible(pieces, chunk):
    stream = b"".join(pieces)
    for decoder in (None, SplitDecoder):  # the device's, and the hub's fast path for logs
        whole = NMEAParser(decoder=decoder)
        expected = whole.feed(stream)
        parts = NMEAParser(decoder=decoder)
        got = []
        for i in range(0, len(stream), chunk):
            got.extend(parts.feed(stream[i:i + chunk]))
        assert got == expected
        assert parts.errors == whole.errors
    gps = GPS()
    for i in range(0, len(stream), chunk):
        gps.feed(stream[i:i + chunk], i)
    gps.fix(len(stream))
    gps.last_fix(len(stream))
    gps.status(len(stream))


def test_every_seed_sentence_decodes():
    for line in SEEDS:
        assert parse_sentence(line) is not None, line


def _outcome(parser, line):
    try:
        return ("ok", parser.parse_range(line, 0, len(line)))
    except NMEAError as exc:
        return ("error", exc.kind)


IN_PLACE = NMEAParser()
SPLIT = NMEAParser(decoder=SplitDecoder)


@SETTINGS
@given(st.one_of(st.binary(max_size=120),
                 st.sampled_from(SEEDS).flatmap(lambda line: st.tuples(st.just(line), st.integers(0, 120),
                                                                       st.sampled_from(list(ALPHABET))))))
def test_in_place_and_split_decoders_agree(case):
    if isinstance(case, tuple):
        line, pos, ch = case
        b = bytearray(line)
        b[pos % len(b)] = ch
        line = _resign(bytes(b)) if bytes(b).count(b"*") == 1 else bytes(b)
    else:
        line = case
    assert _outcome(IN_PLACE, line) == _outcome(SPLIT, line)


def test_decoders_agree_on_every_seed():
    for line in SEEDS:
        assert _outcome(IN_PLACE, line) == _outcome(SPLIT, line)


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(SEEDS), st.integers(0, 120), st.sampled_from(list(ALPHABET))),
                min_size=1, max_size=20))
def test_gps_state_survives_well_checksummed_nonsense(edits):
    """Mutations re-signed with a valid checksum reach the fix state machine: it must never raise or stall."""
    gps = GPS()
    for k, (line, pos, ch) in enumerate(edits):
        b = bytearray(line.strip())
        b[pos % len(b)] = ch
        mutated = bytes(b)
        if mutated.count(b"*") == 1:
            mutated = _resign(mutated)
        gps.feed(mutated + b"\r\n", k * 100)
    gps.fix(len(edits) * 100)
    gps.last_fix(len(edits) * 100)
    gps.receiver_time_ms()
    gps.status()


@SETTINGS
@given(st.text(alphabet="+CGNSINFO: ,.-0123456789NSEW", max_size=120), st.text(max_size=60))
def test_modem_gnss_parsers_are_total(text, noise):
    for line in (text, "+CGNSSINFO: " + text, "+CGNSINF: " + text, noise, "+CGNSSINFO: " + noise):
        for parse in (parse_cgnssinfo, parse_cgnsinf):
            result = parse(line)
            assert result is None or (-90 <= result["lat"] <= 90 and -180 <= result["lon"] <= 180)
