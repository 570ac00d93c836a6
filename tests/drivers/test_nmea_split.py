"""The CPython split decoder (drivers/nmea_split.py) takes fast paths for everyday fields and falls back to the
generic per-field methods for anything else; its line-at-a-time feed cuts whole lines with bytes.split. Both must
be invisible: same values and errors as the in-place decoder on fields in every odd form, same counters as the
byte stream path for any chunking."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.nmea import NMEAError, NMEAParser, checksum, frame
from drivers.nmea_split import SplitDecoder, _xor_fold
from tests.drivers.test_nmea_fuzz import SEEDS

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Forms a field may take: everyday ones, and what float()/int() would accept but NMEA does not.
ODD = [b"", b"0", b"7", b"07", b"007", b"0007", b"999", b"1000", b"-1.5", b"+3", b"1.", b".5", b"-.5", b"-", b"+",
       b".", b"1.2.3", b"12345678901234567", b"1234567890123456", b"-123456789012345", b"123456789012345.6",
       b"1e5", b"1E5", b"INF", b"NAN", b" 1", b"1_0", b"4807.038", b"04807.0381", b"0807.038", b"807.038", b"4807",
       b"04807", b"4807.", b"4860.000", b"9000.0000", b"9000.0001", b"8959.9999", b"18000.0", b"18000.01",
       b"17959.9999", b"4807.0381234567890", b"48O7.038", b"123519", b"123519.5", b"123519.50", b"123519.500",
       b"123519.5000", b"123519.", b"240000", b"235960", b"236000", b"191194", b"320126", b"311326", b"N", b"S",
       b"E", b"W", b"A", b"V", b"T", b"M", b"NN", b"AAN", b"aA", b"-05", b"2026", b"31", b"12", b"13"]
IN_PLACE = NMEAParser()
SPLIT = NMEAParser(decoder=SplitDecoder)
LEAN_IN_PLACE = NMEAParser(satellites=False, reuse=True)
LEAN_SPLIT = NMEAParser(satellites=False, reuse=True, decoder=SplitDecoder)


def _outcome(parser, line):
    try:
        s = parser.parse_range(line, 0, len(line))
        return ("ok", dict(s) if s is not None else None)
    except NMEAError as exc:
        return ("error", exc.kind)


def _with_fields(line, edits, cut):
    fields = line.strip().lstrip(b"$").split(b"*")[0].split(b",")
    for index, value in edits:
        if len(fields) > 1:
            fields[1 + index % (len(fields) - 1)] = value
    if cut and len(fields) > 2:
        del fields[2 + cut % (len(fields) - 2):]
    return frame(b",".join(fields))


@SETTINGS
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 30), st.sampled_from(ODD)), max_size=3),
       st.integers(0, 30))
def test_odd_fields_decode_as_in_place(line, edits, cut):
    line = _with_fields(line, edits, cut)
    assert _outcome(SPLIT, line) == _outcome(IN_PLACE, line)
    assert _outcome(LEAN_SPLIT, line) == _outcome(LEAN_IN_PLACE, line)


def test_everyday_seeds_and_their_repeats_decode_as_in_place():
    # Twice in a row: the second time the remembered time and coordinates answer.
    for line in SEEDS + SEEDS:
        assert _outcome(SPLIT, line) == _outcome(IN_PLACE, line)


@SETTINGS
@given(st.binary(min_size=0, max_size=400))
def test_checksum_fold_any_length(body):
    assert _xor_fold(int.from_bytes(body, "little"), len(body)) == checksum(body)


def _run(parser, stream, chunk):
    out = []
    for i in range(0, len(stream), chunk):
        parser.feed_into(stream[i:i + chunk], lambda s: out.append(dict(s)))
    return out, parser.errors, parser.noise_bytes, parser.sentences, parser.skipped


@SETTINGS
@given(st.lists(st.one_of(st.sampled_from(SEEDS), st.binary(max_size=40), st.sampled_from([b"\n", b"$", b"\r\n"]),
                          st.just(b"$GPTXT," + b"A" * 130 + b"*00\r\n")), max_size=25),
       st.integers(1, 200), st.booleans())
def test_line_feed_counts_as_the_stream_path(pieces, chunk, as_bytearray):
    stream = b"".join(pieces)
    if as_bytearray:
        stream = bytearray(stream)
    lines = NMEAParser(decoder=SplitDecoder)
    streamed = NMEAParser(decoder=SplitDecoder)
    streamed._lines = False  # the byte-by-byte framing every platform has
    assert _run(lines, stream, chunk) == _run(streamed, stream, chunk)
