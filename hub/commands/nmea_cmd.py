"""`deme nmea FILE`: one JSON line per position-bearing sentence of an NMEA log (RMC, GGA, GLL, GNS).

Each line: talker, type, time (UTC HH:MM:SS.sss), date (YYYY-MM-DD, RMC only), lat, lon, alt, fix (none/2d/3d:
the receiver state after this sentence, as drivers.gps sees it), quality, sats, hdop, speed_mps, course; null
where the sentence does not carry the field. A summary of decoded sentences and errors goes to stderr.
"""
import json
import sys
from pathlib import Path

from drivers.gps import GPS
from drivers.nmea import NMEAParser
from drivers.nmea_split import SplitDecoder
from hub.cli import UsageError

POSITION_TYPES = ("RMC", "GGA", "GLL", "GNS")
KNOT_MPS = 1852.0 / 3600.0


def register(subparsers):
    parser = subparsers.add_parser("nmea", help="print the positions in an NMEA log as JSON lines")
    parser.add_argument("file", help="a file of raw NMEA 0183 (as a receiver's UART sends it); - for stdin")
    parser.add_argument("--lenient", action="store_true",
                        help="also accept sentences without a *hh checksum (a cut line may then give garbage)")
    parser.set_defaults(func=run)


def _time(ms):
    if ms is None:
        return None
    s, ms = divmod(ms, 1000)
    return "%02d:%02d:%02d.%03d" % (s // 3600, (s // 60) % 60, s % 60, ms)


def position_record(s, gps):
    date = s.get("date")
    speed_kn = s.get("speed_kn")
    return {
        "talker": s["talker"], "type": s["type"], "time": _time(s.get("time_ms")),
        "date": "%04d-%02d-%02d" % date if date else None,
        "lat": s.get("lat"), "lon": s.get("lon"), "alt": s.get("alt"),
        "fix": gps.mode() if gps.fix() is not None else "none",
        "quality": s.get("quality"), "sats": s.get("sats"), "hdop": s.get("hdop"),
        "speed_mps": round(speed_kn * KNOT_MPS, 3) if speed_kn is not None else None,
        "course": s.get("course"),
    }


def records(data, lenient=False):
    """(records, parser) for the bytes of an NMEA log."""
    # The split decoder: a log may hold days of sentences, which CPython decodes faster with it (tools/bench_nmea.py)
    parser = NMEAParser(require_checksum=not lenient, satellites=False, decoder=SplitDecoder)
    gps = GPS(min_date=(1990, 1, 1))  # a log is history: print the dates it holds
    out = []
    tick = 0
    for s in parser.feed(data):
        tick += 100
        gps.update(s, tick)
        if s["type"] in POSITION_TYPES:
            out.append(position_record(s, gps))
    return out, parser


def run(args):
    if args.file == "-":
        data = sys.stdin.buffer.read()
    else:
        path = Path(args.file)
        if not path.exists():
            raise UsageError(f"no such file: {args.file}")
        if not path.is_file():
            raise UsageError(f"not a file: {args.file}")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    out, parser = records(data, args.lenient)
    for rec in out:
        print(json.dumps(rec))
    errors = ", ".join(f"{k} {v}" for k, v in parser.errors.items() if v) or "none"
    print(f"{parser.sentences} sentences decoded, {parser.skipped} skipped, {len(out)} with a position; "
          f"errors: {errors}", file=sys.stderr)
    return 0
