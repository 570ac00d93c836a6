"""A simulated GNSS receiver: the NMEA a real one sends, second by second, for demos and tests.

Cold start as real receivers do it: before `fix_after_s` the receiver already talks (RMC status V, GGA quality 0,
GSA mode 1, satellites appearing in GSV), then it reports a 3D fix at the given place, optionally walking.
`receiver` picks the dialect: "ublox" (u-blox M8, NMEA 4.10: GN talker, mode indicator, nav status, one GSA per
constellation with its system id), "l76k" (Quectel L76K, NMEA 4.1: GN talker, GPS+BeiDou) or "gp" (an older
GPS-only receiver, NMEA 2.3). `noise` (0..1) is the probability per sentence of one of the faults seen on real
UARTs: a flipped byte (bad checksum), a cut sentence, or binary bytes between sentences.
"""
import argparse
import math
import random
import sys
import threading
import time
from datetime import UTC, datetime

from drivers.nmea import frame

SEGOU = (13.4317, -6.2157)
DEFAULT_START = "2026-01-15T09:00:00Z"
_EARTH_M_PER_DEG = 111_320.0
_MPS_PER_KNOT = 1852.0 / 3600.0

# (system, talker, PRNs as numbered in NMEA, NMEA 4.10 system id)
_CONSTELLATIONS = {
    "ublox": [("GPS", "GP", [2, 5, 12, 13, 15, 18, 20, 25, 29, 31], 1), ("GLONASS", "GL", [65, 66, 72, 73, 80, 81], 2)],
    "l76k": [("GPS", "GP", [3, 6, 11, 17, 19, 22, 24, 28, 32], 1), ("BeiDou", "GB", [6, 9, 14, 16, 21, 26], 4)],
    "gp": [("GPS", "GP", [1, 4, 7, 8, 10, 14, 16, 21, 23, 27, 30], 1)],
}


def _parse_start(start_utc):
    if isinstance(start_utc, (int, float)):
        return int(start_utc)
    return int(datetime.strptime(start_utc, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def _lat_field(lat):
    a = abs(lat)
    deg = int(a)
    return "%02d%08.5f,%s" % (deg, (a - deg) * 60.0, "S" if lat < 0 else "N")


def _lon_field(lon):
    a = abs(lon)
    deg = int(a)
    return "%03d%08.5f,%s" % (deg, (a - deg) * 60.0, "W" if lon < 0 else "E")


class NMEAFeeder:
    def __init__(self, lat=SEGOU[0], lon=SEGOU[1], alt_m=300.0, receiver="ublox", start_utc=DEFAULT_START,
                 fix_after_s=5, hdop=0.9, seed=None, walk_mps=0.0, noise=0.0, geoid_sep_m=17.0):
        if receiver not in _CONSTELLATIONS:
            raise ValueError(f"unknown receiver {receiver!r}; choose one of {sorted(_CONSTELLATIONS)}")
        self.lat = lat
        self.lon = lon
        self.alt_m = alt_m
        self.receiver = receiver
        self.start_s = _parse_start(start_utc)
        self.fix_after_s = fix_after_s
        self.hdop = hdop
        self.seed = seed
        self.walk_mps = walk_mps
        self.noise = noise
        self.geoid_sep_m = geoid_sep_m

    # ---- truth ----
    def position(self, i):
        """(lat, lon, speed_mps, course_deg) at second i: a slow deterministic walk when walk_mps > 0."""
        if not self.walk_mps:
            return self.lat, self.lon, 0.0, None
        rng = random.Random(self.seed)
        heading = rng.uniform(0, 360)
        lat, lon = self.lat, self.lon
        for _ in range(i):
            heading = (heading + rng.uniform(-15, 15)) % 360
            lat += self.walk_mps * math.cos(math.radians(heading)) / _EARTH_M_PER_DEG
            lon += self.walk_mps * math.sin(math.radians(heading)) / (
                _EARTH_M_PER_DEG * math.cos(math.radians(lat)))
        return lat, lon, self.walk_mps, round(heading, 1)

    def has_fix(self, i):
        return i >= self.fix_after_s

    # ---- sentences ----
    def sentences_for_second(self, i):
        """The NMEA lines (bytes, with CR LF) the receiver sends during second i after power-on."""
        rng = random.Random((self.seed or 0) * 100_003 + i)
        t = time.gmtime(self.start_s + i)
        hms = "%02d%02d%02d.00" % (t.tm_hour, t.tm_min, t.tm_sec)
        dmy = "%02d%02d%02d" % (t.tm_mday, t.tm_mon, t.tm_year % 100)
        fix = self.has_fix(i)
        lat, lon, speed, course = self.position(i)
        v4 = self.receiver != "gp"
        tk = "GN" if v4 else "GP"
        hdop = round(self.hdop + rng.uniform(-0.05, 0.05), 2) if fix else None
        systems = _CONSTELLATIONS[self.receiver]
        # satellites visible grow during acquisition, then a stable set is used
        visible = [(name, talker, prns[:min(len(prns), 2 + i)], sysid) for name, talker, prns, sysid in systems]
        used = [(talker, prns[:8] if fix else [], sysid) for _, talker, prns, sysid in visible]
        nused = sum(len(p) for _, p, _ in used)
        out = []
        mode = "A" if fix else "N"
        pos = f"{_lat_field(lat)},{_lon_field(lon)}" if fix else ",,,"
        kn = "%.3f" % (speed / _MPS_PER_KNOT) if fix else ""
        crs = ("%.1f" % course if course is not None else "") if fix else ""
        rmc = f"{tk}RMC,{hms},{'A' if fix else 'V'},{pos},{kn},{crs},{dmy},,"
        rmc += f",{mode},V" if self.receiver == "ublox" else f",{mode}"
        out.append(rmc)
        vtg = f"{tk}VTG,{crs},T,,M,{kn},N,{'%.3f' % (speed * 3.6) if fix else ''},K"
        out.append(vtg + f",{mode}")
        alt = "%.1f" % (self.alt_m + rng.uniform(-1.5, 1.5)) if fix else ""
        sep = "%.1f" % self.geoid_sep_m if fix else ""
        out.append(f"{tk}GGA,{hms},{pos},{1 if fix else 0},{nused:02d},{hdop if fix else '99.99'},"
                   f"{alt},M,{sep},M,,")
        pdop = "%.2f" % (hdop * 1.6) if fix else "99.99"
        vdop = "%.2f" % (hdop * 1.3) if fix else "99.99"
        for _talker, prns, sysid in used:
            ids = [("%02d" % p) for p in prns] + [""] * (12 - len(prns))
            gsa = f"{tk}GSA,A,{3 if fix else 1},{','.join(ids)},{pdop},{hdop if fix else '99.99'},{vdop}"
            if self.receiver == "ublox":
                gsa += f",{sysid}"
            out.append(gsa)
            if not v4:
                break
        for _name, talker, prns, _sysid in visible:
            out.extend(self._gsv(talker, prns, rng, i))
        out.append(f"{tk}GLL,{pos},{hms},{'A' if fix else 'V'},{mode}")
        lines = [frame(body.encode()) for body in out]
        if self.noise:
            lines = self._inject(lines, rng)
        return lines

    def _gsv(self, talker, prns, rng, i):
        n = len(prns)
        total = max(1, (n + 3) // 4)
        sentences = []
        for k in range(total):
            group = prns[4 * k:4 * k + 4]
            fields = []
            for p in group:
                el = 10 + (p * 7) % 75
                az = (p * 37) % 360
                snr = "%02d" % (20 + (p * 3 + i) % 25) if i >= 1 else ""
                fields.append(f"{p:02d},{el:02d},{az:03d},{snr}")
            line = f"{talker}GSV,{total},{k + 1},{n:02d}" + ("," + ",".join(fields) if fields else "")
            if self.receiver == "ublox":
                line += ",1"  # NMEA 4.10 signal id (L1 C/A, L1OF), as u-blox M8 firmware 3.01 sends it
            sentences.append(line)
        return sentences

    def _inject(self, lines, rng):
        out = []
        for line in lines:
            if rng.random() < self.noise:
                fault = rng.randrange(3)
                if fault == 0:
                    b = bytearray(line)
                    k = rng.randrange(1, len(b) - 5)
                    b[k] ^= 0x04
                    line = bytes(b)
                elif fault == 1:
                    line = line[: rng.randrange(2, len(line) - 2)]
                else:
                    out.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))))
            out.append(line)
        return out

    def stream(self, seconds):
        """All bytes of the first `seconds` seconds, concatenated."""
        return b"".join(b"".join(self.sentences_for_second(i)) for i in range(seconds))

    def run_to(self, write, stop_event, speed=1.0, max_seconds=None):
        """Write each second's sentences with write(bytes), paced at `speed` x real time, until stop_event is
        set (a threading.Event) or max_seconds have been sent. Returns the number of seconds sent."""
        i = 0
        t0 = time.monotonic()
        while not stop_event.is_set() and (max_seconds is None or i < max_seconds):
            write(b"".join(self.sentences_for_second(i)))
            i += 1
            delay = t0 + i / speed - time.monotonic()
            if delay > 0 and stop_event.wait(delay):
                break
        return i


def main(argv=None):
    """`python -m sim.gps`: the simulated receiver's NMEA to a file, a pty (from `socat`) or stdout."""
    parser = argparse.ArgumentParser(prog="python -m sim.gps", description=main.__doc__.split(": ", 1)[1])
    parser.add_argument("--out", default="-", help="path to write to (a pty from `socat` or a file); - = stdout")
    parser.add_argument("--seconds", type=int, default=None, help="stop after this many simulated seconds")
    parser.add_argument("--speed", type=float, default=1.0, help="x real time (0 = as fast as possible)")
    parser.add_argument("--lat", type=float, default=SEGOU[0])
    parser.add_argument("--lon", type=float, default=SEGOU[1])
    parser.add_argument("--receiver", default="ublox", choices=["ublox", "l76k", "gp"])
    parser.add_argument("--fix-after", type=int, default=5, metavar="S", help="cold start: seconds without a fix")
    parser.add_argument("--walk", type=float, default=0.0, metavar="M/S", help="walk at this speed")
    parser.add_argument("--noise", type=float, default=0.0, help="probability of a UART fault per sentence")
    args = parser.parse_args(argv)
    if args.speed < 0:
        parser.error("--speed cannot be negative")
    feeder = NMEAFeeder(args.lat, args.lon, receiver=args.receiver, fix_after_s=args.fix_after,
                        walk_mps=args.walk, noise=args.noise)
    if args.out == "-":
        target = sys.stdout.buffer
    else:
        try:
            target = open(args.out, "wb", buffering=0)  # noqa: SIM115 - closed below, kept open while streaming
        except OSError as exc:
            parser.error(f"cannot open {args.out}: {exc.strerror}")

    def write(data):
        target.write(data)
        target.flush()

    try:
        if args.speed == 0:
            for i in range(args.seconds if args.seconds is not None else 60):
                write(b"".join(feeder.sentences_for_second(i)))
        else:
            feeder.run_to(write, threading.Event(), speed=args.speed, max_seconds=args.seconds)
    except BrokenPipeError:
        pass
    finally:
        if target is not sys.stdout.buffer:
            target.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
