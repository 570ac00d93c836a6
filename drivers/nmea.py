"""NMEA 0183 parser: bytes in, small dicts out (MicroPython and CPython).

Decodes RMC, GGA, GSA, GSV, GLL, VTG, ZDA, GNS and GST from any talker (GP, GL, GA, GB, BD, GQ, GN, GI...),
NMEA 2.x to 4.11 (mode indicator, navigational status, GSA/GSV system and signal ids). Proprietary sentences
($P...) and types we do not decode are recognised and skipped.

Contract
- `parse_sentence(line)` is total: it returns a dict, None (a well-formed sentence of a type we do not decode,
  proprietary included), or raises `NMEAError` (and nothing else) whose `kind` is one of ERROR_KINDS.
  Without a '*hh' checksum the line is accepted (like pynmea2) unless `require_checksum=True`.
- `NMEAParser.feed(data)` frames a byte stream ('$' ... '\\n'), never raises, never grows: a line longer than
  MAX_LINE is dropped ("overflow"), a line cut by a new '$' is dropped ("truncated"), bytes outside sentences
  (binary UBX, noise) are counted in `noise_bytes`. Errors are counted in `parser.errors[kind]`. In a stream a
  checksum is required: every receiver sends one, and a line without one is most often a cut line.

Every sentence dict has "talker" ("GP", "GN"...) and "type" ("RMC"...); fields absent from the sentence are None.
Times are milliseconds since UTC midnight ("time_ms"), dates (year, month, day) with a 2-digit year pivoted at 80
(00-79 -> 2000s), positions signed float degrees (south and west negative). Per type:
  RMC: time_ms status lat lon speed_kn course magvar date mode navstatus
  GGA: time_ms lat lon quality sats hdop alt geoid_sep dgps_age dgps_station
  GSA: opmode fix used prns pdop hdop vdop system   (fix 1=none 2=2D 3=3D; used: count; prns: tuple of PRNs)
  GSV: total num in_view sats signal                (sats: tuple of (prn, elev, az, snr) in this sentence)
  GLL: lat lon time_ms status mode
  VTG: course course_mag speed_kn speed_kmh mode
  ZDA: time_ms day month year tz_h tz_m
  GNS: time_ms lat lon mode sats hdop alt geoid_sep dgps_age navstatus   (mode: one letter per system, "AAN")
  GST: time_ms rms sd_major sd_minor orient sd_lat sd_lon sd_alt   (the receiver's 1-sigma errors, metres)

Two field decoders give identical results (tests/drivers/test_nmea_fuzz.py checks they agree on random input):
- in place (this module's, the device's, NMEAParser's default on both runtimes): the scan works on the caller's
  bytes (or on the parser's fixed line buffer when a sentence straddles two reads), numbers are decoded digit by
  digit, talker and type names are shared constants: a sentence costs its result dict and its float fields;
- split (CPython only: `NMEAParser(decoder=SplitDecoder)` with drivers.nmea_split.SplitDecoder, which builds on
  this module; this module never imports it, so MicroPython never loads it): feed() cuts a read into lines with
  one bytes.split, each sentence into fields with another, the checksum is folded as one big int, and a fast
  layout per type converts everyday fields with C calls and small tables (remembering the last time and
  coordinates, which an epoch's sentences repeat); any other field form goes to the generic per-field methods.
  For the hub's speed on logs (3x pynmea2 or more on the same fields, tools/bench_nmea.py; `deme nmea` uses it),
  at the price of a bytes object per field, which CPython does not mind.
NMEAParser(satellites=False, reuse=True), what drivers.gps uses, also skips satellite tuples and overwrites one
dict per sentence type. tools/bench_nmea.py measures sentences per second and bytes allocated per sentence.

Strictness worth knowing: coordinates must be zero-padded ddmm.mmmm / dddmm.mmmm (decimal degrees written by
mistake would misplace the wearer, so they are an error); feed() takes bytes or bytearray.
"""

MAX_LINE = 120  # NMEA 0183 allows 82 characters; some receivers exceed it a little (long GSV, TXT)
MAX_FIELDS = 40  # GSV with 4 satellites and a 4.11 signal id has 21 fields

ERROR_KINDS = ("checksum", "nochecksum", "format", "truncated", "overflow")


class NMEAError(ValueError):
    """The one error `parse_sentence` raises; `kind` says why (one of ERROR_KINDS)."""

    def __init__(self, kind, detail=""):
        super().__init__(kind, detail)
        self.kind = kind


def _names(pairs):
    table = {}
    for name in pairs:
        table[(ord(name[0]) << 8) | ord(name[1]) if len(name) == 2 else
              (ord(name[0]) << 16) | (ord(name[1]) << 8) | ord(name[2])] = name
    return table


# Shared name constants, looked up by an int built from the characters: no string is allocated per sentence.
_TALKERS = _names(("GP", "GL", "GA", "GB", "BD", "GQ", "QZ", "GN", "GI", "IN", "II", "EC", "HC"))
_TYPES = _names(("RMC", "GGA", "GSA", "GSV", "GLL", "VTG", "ZDA", "GNS", "GST"))
_CHR = tuple(chr(i) for i in range(128))
_POW10 = tuple(10 ** i for i in range(19))
_FPOW10 = tuple(float(10 ** i) for i in range(19))
_F60POW10 = tuple(60.0 * 10 ** i for i in range(19))  # exact: one float fewer per coordinate
_PRINTABLE = bytes(range(32, 127))
_HEX = {}
for _i, _c in enumerate(b"0123456789ABCDEF"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"abcdef"):
    _HEX[_c] = 10 + _i


class _Sentences:
    """Sentence layouts, over field accessors a subclass provides: _int, _float, _char, _char_or_none, _coord,
    _time, _date, _letters (field index i; missing or empty -> None; malformed -> NMEAError) and _nf.

    With reuse, each type's dict is allocated once and overwritten by the next sentence of that type (the
    allocation the wearable's GPS saves, since it copies what it needs at once)."""

    satellites = True
    reuse = False
    _cache = None
    WHOLE_LINES = False  # True: NMEAParser hands it whole lines cut with one bytes.split (a CPython speed-up)

    def _out(self, kind, talker):
        if self.reuse:
            d = self._cache.get(kind)
            if d is None:
                d = self._cache[kind] = {}
        else:
            d = {}
        d["talker"] = talker
        d["type"] = kind
        return d

    def _sentence(self, buf, kind, talker):
        if kind == "GGA":
            return self._gga(buf, talker)
        if kind == "RMC":
            return self._rmc(buf, talker)
        if kind == "GSA":
            return self._gsa(buf, talker)
        if kind == "GSV":
            return self._gsv(buf, talker)
        if kind == "GLL":
            return self._gll(buf, talker)
        if kind == "VTG":
            return self._vtg(buf, talker)
        if kind == "GNS":
            return self._gns(buf, talker)
        if kind == "GST":
            return self._gst(buf, talker)
        return self._zda(buf, talker)

    def _rmc(self, buf, talker):
        d = self._out("RMC", talker)
        d["time_ms"] = self._time(buf, 1)
        d["status"] = self._char(buf, 2)
        d["lat"] = self._coord(buf, 3, "S")
        d["lon"] = self._coord(buf, 5, "W")
        d["speed_kn"] = self._float(buf, 7)
        d["course"] = self._float(buf, 8)
        d["date"] = self._date(buf, 9)
        magvar = self._float(buf, 10)
        if magvar is not None and self._char(buf, 11) == "W":
            magvar = -magvar
        d["magvar"] = magvar
        d["mode"] = self._char(buf, 12)
        d["navstatus"] = self._char(buf, 13)
        return d

    def _gga(self, buf, talker):
        d = self._out("GGA", talker)
        d["time_ms"] = self._time(buf, 1)
        d["lat"] = self._coord(buf, 2, "S")
        d["lon"] = self._coord(buf, 4, "W")
        d["quality"] = self._int(buf, 6)
        d["sats"] = self._int(buf, 7)
        d["hdop"] = self._float(buf, 8)
        d["alt"] = self._float(buf, 9)
        d["geoid_sep"] = self._float(buf, 11)
        d["dgps_age"] = self._float(buf, 13)
        d["dgps_station"] = self._int(buf, 14)
        return d

    def _gsa(self, buf, talker):
        d = self._out("GSA", talker)
        d["opmode"] = self._char(buf, 1)
        d["fix"] = self._int(buf, 2)
        prns = [] if self.satellites else None
        used = 0
        k = 3
        while k < 15:
            p = self._int(buf, k)
            if p is not None:
                used += 1
                if prns is not None:
                    prns.append(p)
            k += 1
        d["used"] = used
        d["prns"] = tuple(prns) if prns is not None else None
        d["pdop"] = self._float(buf, 15)
        d["hdop"] = self._float(buf, 16)
        d["vdop"] = self._float(buf, 17)
        d["system"] = self._lenient_int(buf, 18)
        return d

    def _lenient_int(self, buf, i):
        # Optional trailing ids: SiRF-TriG writes a DOP-like "3.3" where NMEA 4.11 puts the system id.
        try:
            return self._int(buf, i)
        except NMEAError:
            return None

    def _gsv(self, buf, talker):
        d = self._out("GSV", talker)
        nf = self._nf
        # 4.11 appends a signal id: 4 + 4*n fields plus one.
        nsat = (nf - 4) // 4
        signal = self._int(buf, nf - 1) if (nf - 4) % 4 == 1 else None
        sats = None
        if self.satellites:
            lst = []
            k = 0
            while k < nsat:
                f = 4 + 4 * k
                prn = self._int(buf, f)
                if prn is not None:
                    lst.append((prn, self._int(buf, f + 1), self._int(buf, f + 2), self._int(buf, f + 3)))
                k += 1
            sats = tuple(lst)
        d["total"] = self._int(buf, 1)
        d["num"] = self._int(buf, 2)
        d["in_view"] = self._int(buf, 3)
        d["sats"] = sats
        d["signal"] = signal
        return d

    def _gll(self, buf, talker):
        d = self._out("GLL", talker)
        d["lat"] = self._coord(buf, 1, "S")
        d["lon"] = self._coord(buf, 3, "W")
        d["time_ms"] = self._time(buf, 5)
        d["status"] = self._char(buf, 6)
        d["mode"] = self._char(buf, 7)
        return d

    def _vtg(self, buf, talker):
        d = self._out("VTG", talker)
        # NMEA 2.x+: course,T,course_mag,M,knots,N,kmh,K,mode. Some old receivers omit the unit letters:
        # then field 2 is not 'T' and the layout is course,course_mag,knots,kmh.
        d["course"] = self._float(buf, 1)
        if self._nf > 2 and self._char_or_none(buf, 2) not in ("T", None):
            d["course_mag"] = self._float(buf, 2)
            d["speed_kn"] = self._float(buf, 3)
            d["speed_kmh"] = self._float(buf, 4)
            d["mode"] = None
        else:
            d["course_mag"] = self._float(buf, 3)
            d["speed_kn"] = self._float(buf, 5)
            d["speed_kmh"] = self._float(buf, 7)
            d["mode"] = self._char(buf, 9)
        return d

    def _zda(self, buf, talker):
        d = self._out("ZDA", talker)
        d["time_ms"] = self._time(buf, 1)
        day = self._int(buf, 2)
        month = self._int(buf, 3)
        if day is not None and not 1 <= day <= 31:
            raise NMEAError("format", "date")
        if month is not None and not 1 <= month <= 12:
            raise NMEAError("format", "date")
        d["day"] = day
        d["month"] = month
        d["year"] = self._int(buf, 4)
        d["tz_h"] = self._int(buf, 5)
        d["tz_m"] = self._int(buf, 6)
        return d

    def _gst(self, buf, talker):
        d = self._out("GST", talker)
        d["time_ms"] = self._time(buf, 1)
        d["rms"] = self._float(buf, 2)
        d["sd_major"] = self._float(buf, 3)
        d["sd_minor"] = self._float(buf, 4)
        d["orient"] = self._float(buf, 5)
        d["sd_lat"] = self._float(buf, 6)
        d["sd_lon"] = self._float(buf, 7)
        d["sd_alt"] = self._float(buf, 8)
        return d

    def _gns(self, buf, talker):
        d = self._out("GNS", talker)
        d["time_ms"] = self._time(buf, 1)
        d["lat"] = self._coord(buf, 2, "S")
        d["lon"] = self._coord(buf, 4, "W")
        d["mode"] = self._letters(buf, 6)
        d["sats"] = self._int(buf, 7)
        d["hdop"] = self._float(buf, 8)
        d["alt"] = self._float(buf, 9)
        d["geoid_sep"] = self._float(buf, 10)
        d["dgps_age"] = self._float(buf, 11)
        d["navstatus"] = self._char(buf, 13)
        return d


def _talker_and_kind(t0, t1, t2, t3, t4):
    """(talker, kind) of a 5-letter address, kind None for types we do not decode."""
    if not (65 <= t0 <= 90 and 65 <= t1 <= 90):
        raise NMEAError("format", "talker")
    kind = _TYPES.get((t2 << 16) | (t3 << 8) | t4)
    if kind is None:
        return None, None
    talker = _TALKERS.get((t0 << 8) | t1)
    if talker is None:
        talker = _CHR[t0] + _CHR[t1]
    return talker, kind


def _coord_value(deg, minutes, frac, dec, neg_letter, hemi):
    # One exact integer numerator over an exact power of ten: a single, correctly rounded division (and a single
    # float allocated on MicroPython).
    if minutes >= 60:
        raise NMEAError("format", "minutes")
    if dec > 0:
        num = (deg * 60 + minutes) * _POW10[dec] + frac
        den = _F60POW10[dec]
    else:
        num = deg * 60 + minutes
        den = 60.0
    if hemi == neg_letter:
        num = -num
    elif hemi != ("N" if neg_letter == "S" else "E"):
        raise NMEAError("format", "hemisphere")
    value = num / den
    limit = 90.0 if neg_letter == "S" else 180.0
    if not -limit <= value <= limit:
        raise NMEAError("format", "coordinate range")
    return value


def _check_time(v):
    h = v // 10000
    m = (v // 100) % 100
    s = v % 100
    if h > 23 or m > 59 or s > 60:
        raise NMEAError("format", "time")
    return ((h * 60 + m) * 60 + s) * 1000


def _check_date(v):
    day = v // 10000
    month = (v // 100) % 100
    yy = v % 100
    if not (1 <= day <= 31 and 1 <= month <= 12):
        raise NMEAError("format", "date")
    return (2000 + yy if yy < 80 else 1900 + yy, month, day)


class _InPlace(_Sentences):
    """Decodes a sentence where it lies: field boundaries in a preallocated list, numbers digit by digit."""

    def __init__(self, satellites, reuse=False):
        self.satellites = satellites
        self.reuse = reuse
        self._cache = {}
        self._pos = [0] * (MAX_FIELDS + 1)
        self._nf = 0

    def parse(self, buf, start, end, require_checksum):
        while start < end and buf[start] in (32, 13, 10, 9):
            start += 1
        while end > start and buf[end - 1] in (32, 13, 10, 9):
            end -= 1
        if start < end and buf[start] in (36, 33):  # '$' or '!'
            start += 1
        if end - start < 5:
            raise NMEAError("format", "too short")
        star = buf.find(b"*", start, end)
        if star >= 0:
            if end - star != 3:
                raise NMEAError("format", "checksum field")
            hi = _HEX.get(buf[star + 1], -1)
            lo = _HEX.get(buf[star + 2], -1)
            if hi < 0 or lo < 0:
                raise NMEAError("format", "checksum digits")
            x = 0
            k = start
            while k < star:
                c = buf[k]
                if c < 32 or c > 126:
                    raise NMEAError("format", "control byte")
                x ^= c
                k += 1
            if x != (hi << 4) | lo:
                raise NMEAError("checksum")
            end = star
        else:
            if require_checksum:
                raise NMEAError("nochecksum")
            k = start
            while k < end:
                c = buf[k]
                if c < 32 or c > 126:
                    raise NMEAError("format", "control byte")
                k += 1
        if buf[start] == 80:  # 'P': proprietary ($PUBX, $PMTK, $PQ..., $PSRF...), skipped before field limits
            return None
        # field boundaries: field i is buf[pos[i]:pos[i+1]-1]
        pos = self._pos
        pos[0] = start
        nf = 1
        p = start
        while True:
            c = buf.find(b",", p, end)
            if c < 0:
                break
            if nf >= MAX_FIELDS:
                raise NMEAError("format", "too many fields")
            p = c + 1
            pos[nf] = p
            nf += 1
        pos[nf] = end + 1
        self._nf = nf
        alen = pos[1] - 1 - start
        if alen != 5:
            if alen == 0 or alen > 6:
                raise NMEAError("format", "address")
            return None
        talker, kind = _talker_and_kind(buf[start], buf[start + 1], buf[start + 2], buf[start + 3],
                                        buf[start + 4])
        if kind is None:
            return None
        return self._sentence(buf, kind, talker)

    def _span(self, i):
        if i >= self._nf:
            return 0, 0
        pos = self._pos
        return pos[i], pos[i + 1] - 1

    def _int(self, buf, i):
        if i >= self._nf:
            return None
        pos = self._pos
        a = pos[i]
        b = pos[i + 1] - 1
        if a >= b:
            return None
        neg = False
        if buf[a] == 45:
            neg = True
            a += 1
            if a >= b:
                raise NMEAError("format", "number")
        v = 0
        while a < b:
            c = buf[a] - 48
            if c < 0 or c > 9:
                raise NMEAError("format", "number")
            v = v * 10 + c
            a += 1
        return -v if neg else v

    def _float(self, buf, i):
        if i >= self._nf:
            return None
        pos = self._pos
        a = pos[i]
        b = pos[i + 1] - 1
        if a >= b:
            return None
        neg = False
        c = buf[a]
        if c == 45 or c == 43:
            neg = c == 45
            a += 1
        v = 0
        digits = 0
        dec = -1
        while a < b:
            c = buf[a]
            if c == 46:
                if dec >= 0:
                    raise NMEAError("format", "number")
                dec = 0
            elif 48 <= c <= 57:
                if digits < 18:
                    v = v * 10 + c - 48
                    digits += 1
                    if dec >= 0:
                        dec += 1
                elif dec < 0:
                    raise NMEAError("format", "number")
            else:
                raise NMEAError("format", "number")
            a += 1
        if digits == 0:
            raise NMEAError("format", "number")
        if neg:
            v = -v
        return v / _FPOW10[dec] if dec > 0 else float(v)

    def _char(self, buf, i):
        if i >= self._nf:
            return None
        pos = self._pos
        a = pos[i]
        b = pos[i + 1] - 1
        if a >= b:
            return None
        if b - a != 1:
            raise NMEAError("format", "flag")
        return _CHR[buf[a]]

    def _char_or_none(self, buf, i):
        a, b = self._span(i)
        if b - a != 1:
            return "?" if b > a else None
        return _CHR[buf[a]]

    def _letters(self, buf, i):
        a, b = self._span(i)
        if a >= b:
            return None
        k = a
        while k < b:
            c = buf[k]
            if c < 65 or c > 90:
                raise NMEAError("format", "mode letters")
            k += 1
        return bytes(buf[a:b]).decode()

    def _coord(self, buf, i, neg_letter):
        """ddmm.mmmm (latitude) or dddmm.mmmm (longitude) and its hemisphere in field i+1 -> signed degrees, or
        None. Degrees are zero-padded in NMEA; a value with fewer integer digits (one short is tolerated) is
        decimal degrees written by mistake, and reading it as minutes would misplace the wearer: rejected."""
        if i >= self._nf:
            return None
        pos = self._pos
        a = pos[i]
        b = pos[i + 1] - 1
        if a >= b:
            return None
        whole = 0
        frac = 0
        dec = -1
        digits = 0
        while a < b:
            c = buf[a]
            if c == 46:
                if dec >= 0:
                    raise NMEAError("format", "coordinate")
                dec = 0
            elif 48 <= c <= 57:
                if dec < 0:
                    whole = whole * 10 + c - 48
                    digits += 1
                    if digits > 5:
                        raise NMEAError("format", "coordinate")
                elif dec < 12:
                    frac = frac * 10 + c - 48
                    dec += 1
            else:
                raise NMEAError("format", "coordinate")
            a += 1
        width = 5 if neg_letter == "W" else 4
        if digits < width - 1 or digits > width:
            raise NMEAError("format", "coordinate width")
        return _coord_value(whole // 100, whole % 100, frac, dec, neg_letter, self._char(buf, i + 1))

    def _time(self, buf, i):
        """hhmmss(.sss) -> ms since midnight, or None."""
        if i >= self._nf:
            return None
        pos = self._pos
        a = pos[i]
        b = pos[i + 1] - 1
        if a >= b:
            return None
        if b - a < 6:
            raise NMEAError("format", "time")
        v = 0
        k = 0
        while k < 6:
            c = buf[a + k] - 48
            if c < 0 or c > 9:
                raise NMEAError("format", "time")
            v = v * 10 + c
            k += 1
        t = _check_time(v)
        ms = 0
        a += 6
        if a < b:
            if buf[a] != 46:
                raise NMEAError("format", "time")
            a += 1
            scale = 100
            while a < b:
                c = buf[a] - 48
                if c < 0 or c > 9:
                    raise NMEAError("format", "time")
                ms += c * scale
                scale //= 10
                a += 1
        return t + ms

    def _date(self, buf, i):
        """ddmmyy -> (year, month, day), 2-digit year pivoted at 80, or None."""
        if i >= self._nf:
            return None
        pos = self._pos
        a = pos[i]
        b = pos[i + 1] - 1
        if a >= b:
            return None
        if b - a != 6:
            raise NMEAError("format", "date")
        v = 0
        while a < b:
            c = buf[a] - 48
            if c < 0 or c > 9:
                raise NMEAError("format", "date")
            v = v * 10 + c
            a += 1
        return _check_date(v)


class NMEAParser:
    """Frames a byte stream into sentences and decodes them. One parser per receiver.

    decoder: None decodes in place, without per-field allocation (the device's decoder, on both runtimes); a
    decoder class of the same interface otherwise, in practice drivers.nmea_split.SplitDecoder, which decodes
    with C-speed bytes methods on CPython (the caller that wants it imports it); results are identical.
    reuse: the dict given to a feed_into handler is overwritten by the next sentence of its type (no dict
    allocation per sentence); feed() then returns copies."""

    def __init__(self, require_checksum=True, satellites=True, reuse=False, decoder=None):
        self.require_checksum = require_checksum
        self.satellites = satellites  # False: no per-satellite GSV tuples nor GSA PRN tuple: less allocation
        self.reuse = reuse
        self._decoder = (_InPlace if decoder is None else decoder)(satellites, reuse)
        self.errors = {}
        for kind in ERROR_KINDS:
            self.errors[kind] = 0
        self.sentences = 0  # decoded
        self.skipped = 0  # well formed but not decoded (proprietary, other types)
        self.noise_bytes = 0
        self._line = bytearray(MAX_LINE)
        self._n = -1  # bytes held in _line; -1: hunting for '$'
        self._lines = self._decoder.WHOLE_LINES

    # ---- stream ----
    def feed(self, data):
        """Feed received bytes; returns a list of the sentences completed by them (possibly empty)."""
        out = []
        if self.reuse:
            self.feed_into(data, lambda s: out.append(dict(s)))
        else:
            self.feed_into(data, out.append)
        return out

    def feed_into(self, data, handler):
        """Feed received bytes and call handler(sentence_dict) for each decoded sentence. Never raises
        (except what handler raises)."""
        if self._lines:
            last = data.rfind(b"\n")
            if last >= 0:
                start = 0
                if self._n >= 0:  # the end of a line begun in an earlier read
                    start = data.find(b"\n") + 1
                    self._feed_stream(data[:start], handler)
                if start <= last:
                    self._feed_lines(data[start:last], handler)
                if last + 1 < len(data):
                    self._feed_stream(data[last + 1:], handler)
                return
        self._feed_stream(data, handler)

    def _feed_lines(self, data, handler):
        """CPython: complete lines (data ends just before a '\n') cut with one bytes.split; counts exactly as
        _feed_stream would (tests/drivers/test_nmea_fuzz.py feeds the same stream in chunks of every size)."""
        parse = self._decoder.parse
        require = self.require_checksum
        errors = self.errors
        noise = 0
        try:
            for seg in data.split(b"\n"):
                d = seg.find(b"$")
                if d < 0:
                    noise += len(seg) + 1
                    continue
                noise += d
                r = seg.rfind(b"$")
                if r != d:  # a new sentence began before this one ended: each earlier one was cut
                    errors["truncated"] += seg.count(b"$", d, r)
                n = len(seg)
                if n - r > MAX_LINE:
                    errors["overflow"] += 1
                    continue
                try:
                    sentence = parse(seg, r, n, require)
                except NMEAError as exc:
                    errors[exc.kind] += 1
                    continue
                if sentence is None:
                    self.skipped += 1
                else:
                    self.sentences += 1  # before handler: it may read the counters
                    handler(sentence)
        finally:  # even when handler raises
            self.noise_bytes += noise

    def _feed_stream(self, data, handler):
        i = 0
        size = len(data)
        line = self._line
        while i < size:
            n = self._n
            if n < 0:
                j = data.find(b"$", i)
                if j < 0:
                    self.noise_bytes += size - i
                    return
                self.noise_bytes += j - i
                i = j
                n = 0
            nl = data.find(b"\n", i + 1 if n == 0 else i)
            end = size if nl < 0 else nl
            start = i + 1 if n == 0 else i
            dollar = data.find(b"$", start, end)
            if dollar >= 0:
                # A new sentence began before this one ended: the receiver cut it (buffer overrun, reset).
                self._count("truncated")
                self._n = -1
                i = dollar
                continue
            if n == 0 and nl >= 0:
                # The whole line is in data: decode it there, no copy.
                if nl - i > MAX_LINE:
                    self._count("overflow")
                else:
                    self._decode(data, i, nl, handler)
                self._n = -1
                i = nl + 1
                continue
            # Partial line: keep it in the fixed buffer.
            take = end - i
            if n + take > MAX_LINE:
                self._count("overflow")
                self._n = -1
                i = end + 1 if nl >= 0 else size
                continue
            k = 0
            while k < take:
                line[n + k] = data[i + k]
                k += 1
            n += take
            if nl >= 0:
                self._decode(line, 0, n, handler)
                self._n = -1
                i = nl + 1
            else:
                self._n = n
                i = size

    def _count(self, kind):
        self.errors[kind] = self.errors[kind] + 1

    def _decode(self, buf, start, end, handler):
        try:
            sentence = self._decoder.parse(buf, start, end, self.require_checksum)
        except NMEAError as exc:
            self._count(exc.kind)
            return
        if sentence is None:
            self.skipped += 1
        else:
            self.sentences += 1
            handler(sentence)

    # ---- one sentence ----
    def parse_range(self, buf, start, end, require_checksum=False):
        """Decode buf[start:end] (one sentence, '$' optional, CR/LF/spaces around ignored)."""
        return self._decoder.parse(buf, start, end, require_checksum)


_default = None


def parse_sentence(line, require_checksum=False):
    """Decode one sentence (bytes, bytearray or str). Returns a dict, or None for a well-formed sentence of a type
    we do not decode; raises NMEAError for anything malformed."""
    global _default
    if _default is None:
        _default = NMEAParser(require_checksum=False)
    if isinstance(line, str):
        try:
            line = line.encode()
        except Exception:  # a str that does not encode (lone surrogates on CPython)
            raise NMEAError("format", "not ASCII") from None
    if not isinstance(line, (bytes, bytearray)):
        raise NMEAError("format", "not bytes")
    return _default.parse_range(line, 0, len(line), require_checksum)


def checksum(body):
    """XOR of the bytes between '$' and '*' (body excludes both), as an int."""
    x = 0
    for c in body:
        x ^= c
    return x


def frame(body):
    """b'GPGGA,...' -> b'$GPGGA,...*hh\\r\\n' (for simulators and receiver commands)."""
    return b"$" + body + b"*" + ("%02X" % checksum(body)).encode() + b"\r\n"
