"""The best position for an alert, now: an alert never waits for a fix (MicroPython and CPython).

best_position(gnss_fix, last_fix, modem_gnss, cell, now_ms) weighs every position it is given by its honest
accuracy today: the accuracy the source reported plus DRIFT_MPS for each second of age (the wearer may have walked
since), and returns the smallest circle:
  "gnss"        the wearable's receiver, fix younger than max_fresh_ms;
  "modem_gnss"  the modem's own GNSS (A7670 +CGNSSINFO, SIM7000 +CGNSINF), younger than max_fresh_ms;
  "last"        an older fix (the receiver's last fix, or either source past max_fresh_ms);
  "cell"        the serving cell, when the caller resolved its position (cell["lat"], cell["lon"], cell["acc_m"])
                and it beats every fix;
  "none"        no position at all: lat/lon None. The alert still goes, with the cell identity if known.
Result: {"source", "lat", "lon", "acc_m", "age_s", "cell"}; "cell" always carries the caller's cell dict.

Fix dicts are those of drivers.gps.GPS.fix()/last_fix() (age_ms inside). Modem dicts are those of the parsers
below, plus "at_ms" (the now_ms when the modem answered) or "age_ms".

parse_cgnssinfo / parse_cgnsinf are total: a dict for a reply with a fix, None for anything else (no fix, other
line, garbage); they never raise.
"""
from drivers.compat import ticks_diff

DEFAULT_MAX_FRESH_MS = 10000
DRIFT_MPS = 1.5  # a walking person: how fast an old fix loses its worth
_KNOT_MPS = 1852.0 / 3600.0
_UERE_M = 5.0  # same convention as drivers.gps: acc = HDOP x UERE x 2 (95 %)


def _age_ms(fix, now_ms):
    if "at_ms" in fix and fix["at_ms"] is not None:
        return ticks_diff(now_ms, fix["at_ms"])  # ticks wrap: never subtract them directly
    age = fix.get("age_ms")
    return age if age is not None else 0


def _usable(fix):
    return fix is not None and fix.get("lat") is not None and fix.get("lon") is not None


def _result(source, fix, acc, age_ms, cell):
    return {"source": source, "lat": fix["lat"], "lon": fix["lon"], "acc_m": acc,
            "age_s": age_ms // 1000 if age_ms > 0 else 0, "cell": cell}


def best_position(gnss_fix, last_fix, modem_gnss, cell, now_ms, max_fresh_ms=DEFAULT_MAX_FRESH_MS):
    best = None
    for source, candidate in (("gnss", gnss_fix), ("modem_gnss", modem_gnss), ("last", last_fix)):
        if not _usable(candidate):
            continue
        age = _age_ms(candidate, now_ms)
        if age < 0:
            age = 0
        acc = (candidate.get("acc_m") or 50.0) + DRIFT_MPS * age / 1000.0
        if age > max_fresh_ms:
            source = "last"
        if best is None or acc < best[2]:  # ties keep the earlier source: the receiver's own fix first
            best = (source, candidate, acc, age)
    if cell is not None and cell.get("lat") is not None and cell.get("lon") is not None:
        cell_acc = cell.get("acc_m") or 2000.0
        if best is None or cell_acc < best[2]:
            return _result("cell", cell, cell_acc, max(0, _age_ms(cell, now_ms)), cell)
    if best is not None:
        return _result(best[0], best[1], best[2], best[3], cell)
    return {"source": "none", "lat": None, "lon": None, "acc_m": None, "age_s": None, "cell": cell}


# ---- modem GNSS replies ----
def _f(s):
    s = s.strip()
    if not s:
        return None
    try:
        return float(s)
    except ValueError:
        return None


def _i(s):
    s = s.strip()
    if not s:
        return None
    try:
        return int(s)
    except ValueError:
        return None


def _coord(value, hemi, neg):
    """Decimal degrees (A76xx) or NMEA ddmm.mmmm (SIM7600-era firmware): four or more digits before the point
    can only be degrees-and-minutes."""
    v = _f(value)
    if v is None:
        return None
    whole = value.strip().split(".")[0].lstrip("-")
    if len(whole) >= 4:
        deg = int(v // 100)
        v = deg + (v - deg * 100) / 60.0
    if hemi == neg:
        v = -v
    return v


def _body(line, prefix):
    line = line.strip()
    k = line.find(prefix)
    if k < 0:
        return None
    return line[k + len(prefix):].strip()


def _epoch(y, mo, d, hh, mi, ss):
    # local import keeps position.py usable without the GPS state machine loaded first
    from drivers.gps import days_from_civil, utc_string
    days = days_from_civil(y, mo, d)
    tod = (hh * 3600 + mi * 60 + ss) * 1000
    return days * 86400 + tod // 1000, utc_string(days, tod)


def _acc(hdop, mode):
    acc = (hdop if hdop else 5.0) * _UERE_M * 2.0
    if mode == "2d":
        acc *= 2.0
    return acc if acc > 3.0 else 3.0


def parse_cgnssinfo(line):
    """SIMCom A76xx/SIM76xx `+CGNSSINFO: ...` -> fix dict or None.

    Layouts differ by firmware (A76XX manual: mode,GPS-SVs,BEIDOU-SVs,GLONASS-SVs,GALILEO-SVs,lat,N/S,log,E/W,
    date,UTC-time,alt,speed,course,PDOP,HDOP,VDOP[,NoSV]; SIM7600: mode,GPS-SVs,GLONASS-SVs,BEIDOU-SVs,lat,...;
    some A7608 builds have three counts), so the lat,N/S,lon,E/W block is found by its hemisphere letters and
    everything else is read relative to it. Speed is in knots, date ddmmyy, time hhmmss.s.
    """
    try:
        body = _body(line, "+CGNSSINFO:")
        if body is None:
            return None
        f = [x.strip() for x in body.split(",")]
        k = -1
        for j in range(1, len(f) - 3):
            if f[j] in ("N", "S") and f[j + 2] in ("E", "W") and f[j - 1] and f[j + 1]:
                k = j - 1
                break
        if k < 1:
            return None
        mode_n = _i(f[0])
        if mode_n not in (2, 3):
            return None
        lat = _coord(f[k], f[k + 1], "S")
        lon = _coord(f[k + 2], f[k + 3], "W")
        if lat is None or lon is None or not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            return None
        counts = [_i(x) for x in f[1:k]]
        rest = f[k + 4:] + [""] * 9
        date, tm = rest[0], rest[1]
        epoch_s = utc = None
        if len(date) == 6 and len(tm) >= 6 and (date + tm[:6]).isdigit():
            epoch_s, utc = _epoch(2000 + int(date[4:6]), int(date[2:4]), int(date[0:2]),
                                  int(tm[0:2]), int(tm[2:4]), int(tm[4:6]))
        speed = _f(rest[3])
        hdop = _f(rest[6])
        nosv = _i(rest[8])
        sats = nosv if nosv is not None else sum(c for c in counts if c)
        mode = "3d" if mode_n == 3 else "2d"
        return {"lat": lat, "lon": lon, "alt_m": _f(rest[2]), "mode": mode, "sats": sats, "hdop": hdop,
                "acc_m": _acc(hdop, mode), "utc": utc, "epoch_s": epoch_s,
                "speed_mps": speed * _KNOT_MPS if speed is not None else None, "course_deg": _f(rest[4])}
    except Exception:  # total by contract: a reply we cannot read is no fix
        return None


def parse_cgnsinf(line):
    """SIMCom SIM7000/SIM808 `+CGNSINF: run,fix,yyyyMMddhhmmss.sss,lat,lon,alt,speed_kmh,course,fix_mode,,HDOP,
    PDOP,VDOP,,in_view,used,glonass_used,,cn0_max,HPA,VPA` -> fix dict or None (lat/lon in decimal degrees)."""
    try:
        body = _body(line, "+CGNSINF:")
        if body is None:
            return None
        f = [x.strip() for x in body.split(",")] + [""] * 21
        if f[0] != "1" or f[1] != "1":
            return None
        lat = _f(f[3])
        lon = _f(f[4])
        if lat is None or lon is None or not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            return None
        ts = f[2]
        epoch_s = utc = None
        if len(ts) >= 14 and ts[:14].isdigit():
            epoch_s, utc = _epoch(int(ts[0:4]), int(ts[4:6]), int(ts[6:8]), int(ts[8:10]), int(ts[10:12]),
                                  int(ts[12:14]))
        speed_kmh = _f(f[6])
        hdop = _f(f[10])
        used = _i(f[15])
        glo = _i(f[16])
        sats = (used or 0) + (glo or 0) if used is not None or glo is not None else None
        hpa = _f(f[19])
        alt = _f(f[5])
        mode = "3d" if alt is not None else "2d"
        acc = _acc(hdop, mode)
        if hpa:
            acc = hpa * 2.0 if hpa * 2.0 > 3.0 else 3.0  # HPA is 1-sigma; keep the 95 % convention
        return {"lat": lat, "lon": lon, "alt_m": alt, "mode": mode, "sats": sats, "hdop": hdop, "acc_m": acc,
                "utc": utc, "epoch_s": epoch_s, "speed_mps": speed_kmh / 3.6 if speed_kmh is not None else None,
                "course_deg": _f(f[7])}
    except Exception:  # total by contract
        return None
