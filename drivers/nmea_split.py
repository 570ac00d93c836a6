"""The CPython half of drivers.nmea: the split decoder, a fast path for the hub's logs:

    parser = NMEAParser(decoder=SplitDecoder)    # NMEAParser() decodes in place, as the device does

This module builds on drivers.nmea (its tables and sentence layouts); drivers.nmea never imports it, the code
that picks this decoder does (hub/commands/nmea_cmd.py, the benchmarks, the agreement tests). MicroPython
never imports it, so its code and tables cost the wearable no heap. Results and errors are those of the in-place
decoder: tests/drivers/test_nmea_fuzz.py compares both on random input, tests/drivers/test_nmea_split.py on fields
in every odd form.

Where the time goes (CPython 3.11, ~6 us a sentence on the 2-core dev box): framing, checksum and split about a
third, the fields the rest; so the layouts avoid a Python call per field, and whatever a table or a C method can
check and convert at once goes through it.
"""
from drivers.nmea import (
    _CHR,
    _F60POW10,
    _FPOW10,
    _HEX,
    _POW10,
    _PRINTABLE,
    _TALKERS,
    _TYPES,
    MAX_FIELDS,
    NMEAError,
    _check_date,
    _Sentences,
    _talker_and_kind,
)


class _Slow(Exception):
    """Raised inside a fast layout when a field is not in its everyday form: the generic layout decodes instead."""


def _slow():
    raise _Slow


_EMPTY = (b"",) * MAX_FIELDS  # pads a short sentence so a fast layout can index its last field
_CLEAN = bytes(c for c in range(32, 127) if c != 42)  # printable but '*': what a sentence body may hold
_NUMBER = b"0123456789.+-"  # float() accepts exactly our number syntax once the bytes are all from this set
_HEX2 = {}  # b"4F" -> 0x4F: one lookup for the two checksum digits
for _a, _b in _HEX.items():
    for _c, _d in _HEX.items():
        _HEX2[bytes((_a, _c))] = (_b << 4) | _d
_SMALL = dict.fromkeys((b"",))  # b"" -> None; b"7", b"07", b"007" ... b"999" -> int: counts, PRNs, angles, SNR
for _i in range(1000):
    for _w in range(len(str(_i)), 4):
        _SMALL[b"%0*d" % (_w, _i)] = _i
_small = _SMALL.__getitem__  # KeyError (anything else: sign, 4 digits, junk) -> the generic layout


def _xor_fold(x, n):
    """XOR of the n little-endian bytes of x, by folding it in halves: a few big-int operations in C instead of
    a Python loop per byte. Bits above the live half are never masked: only the low byte is read at the end.
    SplitDecoder.parse has the same folds inline for sentences up to 128 bytes."""
    if n > 128:
        shift = 1024
        while shift < n * 8:
            shift <<= 1
        while shift > 1024:
            shift >>= 1
            x ^= x >> shift
        x ^= x >> 512
        x ^= x >> 256
        x ^= x >> 128
        x ^= x >> 64
    elif n > 8:
        if n > 32:
            if n > 64:
                x ^= x >> 512
            x ^= x >> 256
        if n > 16:
            x ^= x >> 128
        x ^= x >> 64
    x ^= x >> 32
    x ^= x >> 16
    x ^= x >> 8
    return x & 255


# Tables for the fields every epoch repeats: a lookup both converts and validates (KeyError -> generic layout).
_HOUR_MS = {}  # b"00".."23" -> ms
_MIN_MS = {}  # b"00".."59" -> ms
_SEC_MS = {}  # b"00".."60" (leap second) -> ms
_MINUTES = {}  # b"00".."59" -> minutes
_LAT_MIN = {}  # b"00".."89" -> degrees * 60 (90 itself: generic layout, which checks the range)
_LON_MIN = {}  # b"000".."179" -> degrees * 60
for _i in range(180):
    if _i < 24:
        _HOUR_MS[b"%02d" % _i] = _i * 3600000
    if _i < 61:
        _SEC_MS[b"%02d" % _i] = _i * 1000
    if _i < 60:
        _MIN_MS[b"%02d" % _i] = _i * 60000
        _MINUTES[b"%02d" % _i] = _i
    if _i < 90:
        _LAT_MIN[b"%02d" % _i] = _i * 60
    _LON_MIN[b"%03d" % _i] = _i * 60
_FRAC_MS = {}  # b"4" -> 400, b"40" -> 400, b"408" -> 408: milliseconds of 1 to 3 decimals
for _i in range(1000):
    _FRAC_MS[b"%03d" % _i] = _i
    if _i % 10 == 0:
        _FRAC_MS[b"%02d" % (_i // 10)] = _i
    if _i % 100 == 0:
        _FRAC_MS[b"%d" % (_i // 100)] = _i


# The last time, position and date decoded, as one (input, value) tuple each (one assignment: safe across threads).
# A receiver repeats them in every sentence of an epoch (GGA, GLL, RMC...), the date all day: a repeat costs a
# bytes comparison.
_last_tod = (b"", None)
_last_lat = (None, None, None)
_last_lon = (None, None, None)
_last_date = (None, None)


def _tod(v):
    """hhmmss, hhmmss.s, hhmmss.ss or hhmmss.sss -> ms since midnight; None when empty."""
    global _last_tod
    last = _last_tod
    if v == last[0]:
        return last[1]
    n = len(v)
    if n > 7 and v[6] == 46:
        t = _HOUR_MS[v[:2]] + _MIN_MS[v[2:4]] + _SEC_MS[v[4:6]] + _FRAC_MS[v[7:]]
    elif n == 6:
        t = _HOUR_MS[v[:2]] + _MIN_MS[v[2:4]] + _SEC_MS[v[4:]]
    elif n:
        _slow()
    else:
        return None
    _last_tod = (v, t)
    return t


def _date(v):
    """ddmmyy -> (year, month, day), the year pivoted at 80 (as _check_date)."""
    global _last_date
    last = _last_date
    if v == last[0]:
        return last[1]
    if len(v) != 6 or not v.isdigit():
        _slow()
    x = int(v)
    day = x // 10000
    month = x // 100 % 100
    yy = x % 100
    if not (1 <= day <= 31 and 1 <= month <= 12):
        _slow()
    date = (2000 + yy if yy < 80 else 1900 + yy, month, day)
    _last_date = (v, date)
    return date


def _lat(v, hemi):
    """ddmm.m (1 to 12 decimals) and N/S -> degrees: the generic numerator (dd * 60 + mm) * 10**dec + frac over the
    same divisor, hence the same float. Degrees below 90 and minutes below 60 keep it in range."""
    global _last_lat
    last = _last_lat
    if v == last[0] and hemi == last[1]:
        return last[2]
    frac = v[5:]
    dec = len(frac)
    if not frac.isdigit() or dec > 12 or v[4] != 46:  # digits after the point: v[4] exists
        _slow()
    num = (_LAT_MIN[v[:2]] + _MINUTES[v[2:4]]) * _POW10[dec] + int(frac)
    if hemi == b"N":
        value = num / _F60POW10[dec]
    elif hemi == b"S":
        value = -num / _F60POW10[dec]
    else:
        _slow()
    _last_lat = (v, hemi, value)
    return value


def _lon(v, hemi):
    """dddmm.m (1 to 12 decimals) and E/W -> degrees (see _lat)."""
    global _last_lon
    last = _last_lon
    if v == last[0] and hemi == last[1]:
        return last[2]
    frac = v[6:]
    dec = len(frac)
    if not frac.isdigit() or dec > 12 or v[5] != 46:  # digits after the point: v[5] exists
        _slow()
    num = (_LON_MIN[v[:3]] + _MINUTES[v[3:5]]) * _POW10[dec] + int(frac)
    if hemi == b"E":
        value = num / _F60POW10[dec]
    elif hemi == b"W":
        value = -num / _F60POW10[dec]
    else:
        _slow()
    _last_lon = (v, hemi, value)
    return value


class SplitDecoder(_Sentences):
    """The same decoding with bytes methods that run in C on CPython: fast, but a bytes object per field.
    CPython only (bytes.translate, int.from_bytes on long lines, bytes.split): MicroPython always decodes in place.

    Each type has a fast layout for fields in their everyday form (digits, one point, a sign); anything else
    raises _Slow (or ValueError from float()) and the generic layout of _Sentences decodes the sentence again
    with the per-field methods below, so results and errors never depend on which path ran
    (tests/drivers/test_nmea_fuzz.py compares with the in-place decoder)."""

    WHOLE_LINES = True

    def __init__(self, satellites, reuse=False):
        self.satellites = satellites
        self.reuse = reuse
        self._cache = {}
        self._f = []
        self._nf = 0

    def _out(self, kind, talker):
        return {"talker": talker, "type": kind}  # parse() merges into the reused dict

    def _body(self, line, require_checksum):
        """The sentence between '$' (or '!') and '*hh' of a stripped line, its checksum verified; any framing
        error raised."""
        s = 1 if line[:1] in (b"$", b"!") else 0
        n = len(line)
        if n - s < 5:
            raise NMEAError("format", "too short")
        star = line.find(b"*", s)
        if star >= 0:
            if n - star != 3:
                raise NMEAError("format", "checksum field")
            want = _HEX2.get(line[star + 1:])
            if want is None:
                raise NMEAError("format", "checksum digits")
            body = line[s:star]
            if body.translate(None, _PRINTABLE):
                raise NMEAError("format", "control byte")
            if _xor_fold(int.from_bytes(body, "little"), star - s) != want:
                raise NMEAError("checksum")
            return body
        if require_checksum:
            raise NMEAError("nochecksum")
        body = line[s:] if s else line
        if body.translate(None, _PRINTABLE):
            raise NMEAError("format", "control byte")
        return body

    def parse(self, buf, start, end, require_checksum):
        line = buf[start:end]
        if line.__class__ is not bytes:
            line = bytes(line)
        line = line.strip(b" \r\n\t")
        n = len(line)
        star = n - 3
        if n >= 6 and line[0] == 36 and line[star] == 42:  # the everyday "$...*hh"
            want = _HEX2.get(line[star + 1:])
            body = line[1:star]
            if want is None or body.translate(None, _CLEAN):
                body = self._body(line, require_checksum)  # the general path names the error
            else:
                x = int.from_bytes(body, "little")
                k = star - 1
                if k > 128:
                    x = _xor_fold(x, k)
                elif k > 8:  # _xor_fold inline: a call costs as much as two folds
                    if k > 32:
                        if k > 64:
                            x ^= x >> 512
                        x ^= x >> 256
                    if k > 16:
                        x ^= x >> 128
                    x ^= x >> 64
                x ^= x >> 32
                x ^= x >> 16
                x ^= x >> 8
                if x & 255 != want:
                    raise NMEAError("checksum")
        else:
            body = self._body(line, require_checksum)
        if body[0] == 80:
            return None
        f = body.split(b",")
        nf = len(f)
        if nf > MAX_FIELDS:
            raise NMEAError("format", "too many fields")
        layout = _ADDRESSES.get(f[0])
        if layout is None:
            address = f[0]
            alen = len(address)
            if alen != 5:
                if alen == 0 or alen > 6:
                    raise NMEAError("format", "address")
                return None
            talker, kind = _talker_and_kind(address[0], address[1], address[2], address[3], address[4])
            if kind is None:
                return None
            fast = _FAST[kind]
        else:
            talker, kind, fast = layout
        try:
            d = fast(self, f, nf, talker)
        except (_Slow, ValueError, KeyError):  # not everyday fields (or malformed ones): the generic layout decides
            self._f = f
            self._nf = nf
            d = self._sentence(None, kind, talker)
        if self.reuse:
            kept = self._cache.get(kind)
            if kept is None:
                self._cache[kind] = d
            else:
                kept.update(d)
                d = kept
        return d

    # ---- fast layouts: f is the field list (padded in place with b"" up to the last field read) ----
    def _rmc_fast(self, f, nf, talker):
        if nf < 14:
            f += _EMPTY[nf:14]
        v = f[2]
        status = _CHR[v[0]] if len(v) == 1 else None if not v else _slow()
        lat = _lat(f[3], f[4]) if f[3] else None
        lon = _lon(f[5], f[6]) if f[5] else None
        v = f[7]
        speed = (float(v) if len(v) <= 16 and not v.strip(_NUMBER) else _slow()) if v else None
        v = f[8]
        course = (float(v) if len(v) <= 16 and not v.strip(_NUMBER) else _slow()) if v else None
        v = f[9]
        date = _date(v) if v else None
        v = f[10]
        magvar = (float(v) if len(v) <= 16 and not v.strip(_NUMBER) else _slow()) if v else None
        v = f[11]
        if magvar is not None and v == b"W":
            magvar = -magvar
        elif v and len(v) != 1:
            _slow()
        v = f[12]
        mode = _CHR[v[0]] if len(v) == 1 else None if not v else _slow()
        v = f[13]
        nav = _CHR[v[0]] if len(v) == 1 else None if not v else _slow()
        return {"talker": talker, "type": "RMC", "time_ms": _tod(f[1]), "status": status, "lat": lat,
                "lon": lon, "speed_kn": speed, "course": course, "date": date, "magvar": magvar, "mode": mode,
                "navstatus": nav}

    def _gga_fast(self, f, nf, talker):
        if nf < 15:
            f += _EMPTY[nf:15]
        tod = _tod(f[1])
        lat = _lat(f[2], f[3]) if f[2] else None
        lon = _lon(f[4], f[5]) if f[4] else None
        quality = _small(f[6])
        sats = _small(f[7])
        v = f[8]
        hdop = (float(v) if len(v) <= 16 and not v.strip(_NUMBER) else _slow()) if v else None
        v = f[9]
        alt = (float(v) if len(v) <= 16 and not v.strip(_NUMBER) else _slow()) if v else None
        v = f[11]
        sep = (float(v) if len(v) <= 16 and not v.strip(_NUMBER) else _slow()) if v else None
        v = f[13]
        age = (float(v) if len(v) <= 16 and not v.strip(_NUMBER) else _slow()) if v else None
        v = f[14]
        station = int(v) if v.isdigit() else None if not v else _slow()
        return {"talker": talker, "type": "GGA", "time_ms": tod, "lat": lat, "lon": lon, "quality": quality,
                "sats": sats, "hdop": hdop, "alt": alt, "geoid_sep": sep, "dgps_age": age, "dgps_station": station}

    def _gsa_fast(self, f, nf, talker):
        if nf < 19:
            f += _EMPTY[nf:19]
        v = f[1]
        opmode = _CHR[v[0]] if len(v) == 1 else None if not v else _slow()
        fix = _small(f[2])
        ids = f[3:15]
        joined = b"".join(ids)
        if joined and not joined.isdigit():
            _slow()
        if self.satellites:
            prns = tuple(map(int, filter(None, ids)))
            used = len(prns)
        else:
            prns = None
            used = 12 - ids.count(b"")
        v = f[15]
        pdop = (float(v) if len(v) <= 16 and not v.strip(_NUMBER) else _slow()) if v else None
        v = f[16]
        hdop = (float(v) if len(v) <= 16 and not v.strip(_NUMBER) else _slow()) if v else None
        v = f[17]
        vdop = (float(v) if len(v) <= 16 and not v.strip(_NUMBER) else _slow()) if v else None
        v = f[18]
        if v and not v.isdigit():
            self._f = f
            self._nf = nf
            system = self._lenient_int(None, 18)
        else:
            system = int(v) if v else None
        return {"talker": talker, "type": "GSA", "opmode": opmode, "fix": fix, "used": used, "prns": prns,
                "pdop": pdop, "hdop": hdop, "vdop": vdop, "system": system}

    def _gsv_fast(self, f, nf, talker):
        if nf < 4:
            _slow()
        nsat = (nf - 4) // 4
        signal = None
        if (nf - 4) % 4 == 1:
            v = f[nf - 1]
            signal = int(v) if v.isdigit() else None if not v else _slow()
        sats = None
        if self.satellites:
            n = list(map(_small, f[4:4 + 4 * nsat]))
            prns = n[0::4]
            sats = zip(prns, n[1::4], n[2::4], n[3::4])
            sats = tuple(sats) if None not in prns else tuple(s for s in sats if s[0] is not None)
        return {"talker": talker, "type": "GSV", "total": _small(f[1]), "num": _small(f[2]),
                "in_view": _small(f[3]), "sats": sats, "signal": signal}

    def _gll_fast(self, f, nf, talker):
        if nf < 8:
            f += _EMPTY[nf:8]
        lat = _lat(f[1], f[2]) if f[1] else None
        lon = _lon(f[3], f[4]) if f[3] else None
        v = f[6]
        status = _CHR[v[0]] if len(v) == 1 else None if not v else _slow()
        v = f[7]
        mode = _CHR[v[0]] if len(v) == 1 else None if not v else _slow()
        return {"talker": talker, "type": "GLL", "lat": lat, "lon": lon, "time_ms": _tod(f[5]),
                "status": status, "mode": mode}

    def _vtg_fast(self, f, nf, talker):
        if nf < 10:
            f += _EMPTY[nf:10]
        v = f[1]
        course = (float(v) if len(v) <= 16 and not v.strip(_NUMBER) else _slow()) if v else None
        if nf > 2 and f[2] and f[2] != b"T":  # old receivers: course,course_mag,knots,kmh without unit letters
            a, b, c = f[2], f[3], f[4]
            mode = None
        else:
            a, b, c = f[3], f[5], f[7]
            v = f[9]
            mode = _CHR[v[0]] if len(v) == 1 else None if not v else _slow()
        mag = (float(a) if len(a) <= 16 and not a.strip(_NUMBER) else _slow()) if a else None
        kn = (float(b) if len(b) <= 16 and not b.strip(_NUMBER) else _slow()) if b else None
        kmh = (float(c) if len(c) <= 16 and not c.strip(_NUMBER) else _slow()) if c else None
        return {"talker": talker, "type": "VTG", "course": course, "course_mag": mag, "speed_kn": kn,
                "speed_kmh": kmh, "mode": mode}

    def _zda_fast(self, f, nf, talker):
        if nf < 7:
            f += _EMPTY[nf:7]
        tod = _tod(f[1])
        day, month, year, tz_h, tz_m = [int(v) if v.isdigit() else None if not v else _slow() for v in f[2:7]]
        if (day is not None and not 1 <= day <= 31) or (month is not None and not 1 <= month <= 12):
            _slow()
        return {"talker": talker, "type": "ZDA", "time_ms": tod, "day": day, "month": month, "year": year,
                "tz_h": tz_h, "tz_m": tz_m}

    def _gns_fast(self, f, nf, talker):
        if nf < 14:
            f += _EMPTY[nf:14]
        tod = _tod(f[1])
        lat = _lat(f[2], f[3]) if f[2] else None
        lon = _lon(f[4], f[5]) if f[4] else None
        v = f[6]
        mode = v.decode() if v.isalpha() and v.isupper() else None if not v else _slow()
        sats = _small(f[7])
        hdop, alt, sep, age = [(float(v) if len(v) <= 16 and not v.strip(_NUMBER) else
                               _slow()) if v else None for v in f[8:12]]
        v = f[13]
        nav = _CHR[v[0]] if len(v) == 1 else None if not v else _slow()
        return {"talker": talker, "type": "GNS", "time_ms": tod, "lat": lat, "lon": lon, "mode": mode,
                "sats": sats, "hdop": hdop, "alt": alt, "geoid_sep": sep, "dgps_age": age, "navstatus": nav}

    def _gst_fast(self, f, nf, talker):
        if nf < 9:
            f += _EMPTY[nf:9]
        tod = _tod(f[1])
        rms, major, minor, orient, sd_lat, sd_lon, sd_alt = [
            (float(v) if len(v) <= 16 and not v.strip(_NUMBER) else _slow()) if v else None for v in f[2:9]]
        return {"talker": talker, "type": "GST", "time_ms": tod, "rms": rms, "sd_major": major, "sd_minor": minor,
                "orient": orient, "sd_lat": sd_lat, "sd_lon": sd_lon, "sd_alt": sd_alt}

    # ---- generic field accessors (field index i of self._f; buf unused) ----
    def _int(self, buf, i):
        f = self._f[i] if i < self._nf else b""
        if not f:
            return None
        if f.isdigit():
            return int(f)
        if f[0] == 45 and f[1:].isdigit():
            return -int(f[1:])
        raise NMEAError("format", "number")

    def _float(self, buf, i):
        f = self._f[i] if i < self._nf else b""
        if not f:
            return None
        if len(f) <= 16 and f.replace(b".", b"", 1).isdigit():
            return float(f)  # digits and at most one point, <= 15 digits: same value as m / 10**dec
        neg = False
        c = f[0]
        if c == 45 or c == 43:
            neg = c == 45
            f = f[1:]
        p = f.find(b".")
        if p < 0:
            whole, frac = f, b""
        else:
            whole, frac = f[:p], f[p + 1:]
        if (whole and not whole.isdigit()) or (frac and not frac.isdigit()) or not (whole or frac):
            raise NMEAError("format", "number")
        if len(whole) + len(frac) <= 15:
            v = float(f)  # correctly rounded, as m / 10**dec below: exact integers up to 15 digits
        else:
            if len(whole) > 18:
                raise NMEAError("format", "number")
            frac = frac[:18 - len(whole)]
            m = int(whole + frac)
            v = m / _FPOW10[len(frac)] if p >= 0 and frac else float(m)
        return -v if neg else v

    def _char(self, buf, i):
        f = self._f[i] if i < self._nf else b""
        if not f:
            return None
        if len(f) != 1:
            raise NMEAError("format", "flag")
        return _CHR[f[0]]

    def _char_or_none(self, buf, i):
        f = self._f[i] if i < self._nf else b""
        if len(f) != 1:
            return "?" if f else None
        return _CHR[f[0]]

    def _letters(self, buf, i):
        f = self._f[i] if i < self._nf else b""
        if not f:
            return None
        if not (f.isalpha() and f.isupper()):
            raise NMEAError("format", "mode letters")
        return f.decode()

    def _coord(self, buf, i, neg_letter):
        f = self._f[i] if i < self._nf else b""
        if not f:
            return None
        p = f.find(b".")
        if p < 0:
            whole, frac = f, b""
        else:
            whole, frac = f[:p], f[p + 1:]
            if frac and not frac.isdigit():
                raise NMEAError("format", "coordinate")
            if len(frac) > 12:
                frac = frac[:12]
        n = len(whole)
        if not whole.isdigit() or n > 5:
            raise NMEAError("format", "coordinate")
        if neg_letter == "W":
            if n < 4:
                raise NMEAError("format", "coordinate width")
        elif n < 3 or n > 4:
            raise NMEAError("format", "coordinate width")
        minutes = int(whole[-2:])
        if minutes >= 60:
            raise NMEAError("format", "minutes")
        dec = len(frac)
        if dec:
            num = (int(whole[:-2]) * 60 + minutes) * _POW10[dec] + int(frac)
            den = _F60POW10[dec]
        else:
            num = int(whole[:-2]) * 60 + minutes
            den = 60.0
        j = i + 1
        hemi = self._f[j] if j < self._nf else b""
        if neg_letter == "S":
            if hemi == b"S":
                num = -num
            elif hemi != b"N":
                raise NMEAError("format", "hemisphere")
            value = num / den
            if not -90.0 <= value <= 90.0:
                raise NMEAError("format", "coordinate range")
        else:
            if hemi == b"W":
                num = -num
            elif hemi != b"E":
                raise NMEAError("format", "hemisphere")
            value = num / den
            if not -180.0 <= value <= 180.0:
                raise NMEAError("format", "coordinate range")
        return value

    def _time(self, buf, i):
        f = self._f[i] if i < self._nf else b""
        if not f:
            return None
        hms = f[:6]
        if len(hms) < 6 or not hms.isdigit():
            raise NMEAError("format", "time")
        v = int(hms)
        h = v // 10000
        m = (v // 100) % 100
        sec = v % 100
        if h > 23 or m > 59 or sec > 60:
            raise NMEAError("format", "time")
        t = ((h * 60 + m) * 60 + sec) * 1000
        if len(f) == 6:
            return t
        fr = f[7:]
        if f[6] != 46 or (fr and not fr.isdigit()):
            raise NMEAError("format", "time")
        return t + (int((fr[:3] + b"00")[:3]) if fr else 0)

    def _date(self, buf, i):
        f = self._f[i] if i < self._nf else b""
        if not f:
            return None
        if len(f) != 6 or not f.isdigit():
            raise NMEAError("format", "date")
        return _check_date(int(f))


_FAST = {"RMC": SplitDecoder._rmc_fast, "GGA": SplitDecoder._gga_fast, "GSA": SplitDecoder._gsa_fast,
         "GSV": SplitDecoder._gsv_fast, "GLL": SplitDecoder._gll_fast, "VTG": SplitDecoder._vtg_fast,
         "ZDA": SplitDecoder._zda_fast, "GNS": SplitDecoder._gns_fast, "GST": SplitDecoder._gst_fast}
_ADDRESSES = {}  # b"GPGGA" -> ("GP", "GGA", fast layout) for the usual talkers: no names built per sentence
for _t in _TALKERS.values():
    for _k in _TYPES.values():
        _ADDRESSES[(_t + _k).encode()] = (_t, _k, _FAST[_k])
