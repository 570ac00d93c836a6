"""GPS fix state over the NMEA parser, its async UART reader, and receiver power commands (MicroPython and CPython).

    gps = GPS()
    gps.wake(now_ms)                  # starts the time-to-first-fix clock (optionally writes the wake command)
    gps.feed(data, now_ms)            # bytes as read from the UART
    gps.fix(now_ms)                   # dict (below) while the receiver has a valid fix, else None
    gps.last_fix(now_ms)              # the last valid fix with its age, kept after the fix is lost
    await gps.run(uart)               # task: polls uart.any()/read() and feeds; gps.stop() ends it

Fix dict: lat, lon (degrees, float), alt_m, mode ("none"/"2d"/"3d"), quality (GGA 0-8), sats (used), hdop,
acc_m, utc ("YYYY-MM-DDTHH:MM:SSZ" or None before the receiver sent a date), epoch_s (int, or None),
speed_mps, course_deg, age_ms (ticks_diff(now_ms, fix_ms)), fix_ms (the now_ms of the feed that brought the
position). now_ms is drivers.compat.ticks_ms() on the wearable; ages use ticks_diff, so the wrap is harmless.
rp2's MicroPython floats are 32-bit: a coordinate keeps about 0.1 m of resolution at Segou (13 N, 6 W) and
about 1.7 m near 180 degrees, finer than any receiver's accuracy.

acc_m, a 95 % horizontal radius estimate. When the receiver sends GST (its own 1-sigma latitude and longitude
errors) for the current epoch: 2 x sqrt(sd_lat^2 + sd_lon^2) (2DRMS, ~95 %). Otherwise HDOP x UERE x 2 with
UERE = 5 m (1-sigma, autonomous single-frequency GPS), x1.5 with fewer than 5 satellites used, x2 for a 2D fix;
HDOP missing counts as 5; DGPS (quality 2) uses UERE 2 m; dead reckoning (quality 6) is x5. Floor 3 m either
way. Conservative on purpose: an operator must never believe a fix is better than it is.

Time: the date comes from RMC or ZDA; sentences carrying only a time of day (GGA, GLL) take the date of the last
dated sentence, a day later when their time is more than 12 h before it (they crossed midnight first). Receivers
with the GPS week-number rollover bug report dates 1024 weeks (19.6 years) early: any date before `min_date`
(default 2024-01-01) is moved forward by 1024 weeks until it is not (`rollovers` counts the corrections).

Power commands (module functions standby(uart, model) / wake(uart, model), models "NEO-M8N" and "L76K" as the
pinout spells them, any case; "ublox" is the NEO-M8N):
- u-blox NEO-M8N (u-blox 8 / M8 Receiver Description incl. Protocol Specification, UBX-RXM-PMREQ, class 0x02
  id 0x41, 16-byte form): version 0, duration 0 (= until woken), flags 0x02 (backup), wakeupSources 0x08 (UART
  RX). The receiver enters backup; any byte on its RX wakes it (the first bytes are lost), so wake() sends a run
  of 0xFF, then the receiver restarts from its backup RAM (hot start if ephemerides are still valid).
  The 8-byte form (duration, flags) of older firmware has no wake sources: it needs EXTINT or a timeout.
- Quectel L76K (CASIC protocol of its AT6558-class chip, "CASIC Multimode Satellite Navigation Receiver Protocol
  Specification" V4.2: $PCAS commands): standby is `$PCAS12,<seconds>` (standby for up to 65535 s; seconds=0
  here sends 65535); any UART byte wakes it. Field reports say some L76K boards ignore PCAS12: the reliable path
  there is the module's WAKEUP/power pin, which firmware/board.py owns. wake() also sends `$PCAS10,0` (hot
  start) so the receiver runs even if standby had expired or was never entered. Our frames match published
  strings ($PCAS12,65535*1E, $PCAS10,3*1F; UBX-CFG-RXM B5 62 06 11 02 00 08 01 22 92), see
  tests/dual/test_gps_reader.py.
"""
from drivers import compat
from drivers.nmea import NMEAParser, frame

UERE_M = 5.0
UERE_DGPS_M = 2.0
ACC_FLOOR_M = 3.0
DEFAULT_STALE_MS = 5000  # a 1 Hz receiver silent for 5 s: its last fix is "last", not current
ROLLOVER_DAYS = 1024 * 7
_HALF_DAY_MS = 12 * 3600 * 1000
_DAY_MS = 24 * 3600 * 1000
_KNOT_MPS = 1852.0 / 3600.0
# GNS mode letters as GGA qualities: Autonomous, Differential, Precise, RTK fixed/Float, Estimated, Manual, Sim
_GNS_QUALITY = {"A": 1, "D": 2, "P": 3, "R": 4, "F": 5, "E": 6, "M": 7, "S": 8}


def days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm; integers only)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z):
    """Inverse of days_from_civil: (year, month, day)."""
    z += 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return (y + (m <= 2), m, d)


def utc_string(days, tod_ms):
    y, mo, d = civil_from_days(days)
    s = tod_ms // 1000
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (y, mo, d, s // 3600, (s // 60) % 60, s % 60)


def accuracy_m(hdop, sats, mode, quality):
    """95 % horizontal accuracy radius estimate in metres (see module docstring)."""
    uere = UERE_DGPS_M if quality == 2 else UERE_M
    acc = (hdop if hdop else 5.0) * uere * 2.0
    if sats is not None and sats < 5:
        acc *= 1.5
    if mode == "2d":
        acc *= 2.0
    if quality == 6:
        acc *= 5.0
    if acc < ACC_FLOOR_M:
        acc = ACC_FLOOR_M
    return acc


class GPS:
    """Fix state of one receiver, fed with raw bytes and the time they arrived."""

    def __init__(self, min_date=(2024, 1, 1), stale_ms=DEFAULT_STALE_MS):
        self.parser = NMEAParser(satellites=False, reuse=True)
        self.min_days = days_from_civil(min_date[0], min_date[1], min_date[2])
        self.stale_ms = stale_ms
        self.rollovers = 0
        self.ttff_ms = None
        self.wake_ms = None
        self._running = False
        self._now = 0
        self._valid = False
        self._have_fix = False  # a valid position has been seen at least once
        self._last = None  # snapshot dict of the last valid fix, taken when it was lost
        # live values
        self.lat = None
        self.lon = None
        self.alt = None
        self.quality = 0
        self.sats = None
        self.hdop = None
        self.speed_kn = None
        self.course = None
        self.in_view = None
        self.fix_ms = 0  # now_ms of the feed that brought the last valid position
        self.tod_ms = None  # UTC time of day of the last position
        self.clock_tod_ms = None  # UTC time of day of the last time-tagged sentence, fix or not
        self._date_days = None  # date of the last dated sentence and its time of day
        self._date_tod = 0
        self._gsa_fix = 0
        self._gsa_ms = 0
        self._gsa_tod = None
        self._gsa_used = 0
        self._gsa_hdop = None
        self._gst_acc = None  # 2DRMS from the last GST, and the time of day it was for
        self._gst_tod = None

    # ---- input ----
    def feed(self, data, now_ms):
        self._now = now_ms
        if self.wake_ms is None:
            self.wake_ms = now_ms
        self.parser.feed_into(data, self._on_sentence)

    def update(self, sentence, now_ms):
        """Apply one sentence already decoded by drivers.nmea (for tools that parse themselves)."""
        self._now = now_ms
        if self.wake_ms is None:
            self.wake_ms = now_ms
        self._on_sentence(sentence)

    def wake(self, now_ms, uart=None, model=None):
        """The receiver is (re)starting now: time to first fix counts from here. Writes the wake command when a
        uart and model are given."""
        self._lose()
        self.wake_ms = now_ms
        self.ttff_ms = None
        if uart is not None and model is not None:
            wake(uart, model)

    def sleep(self, now_ms, uart=None, model=None):
        """The receiver is going to standby: the current fix becomes the last fix."""
        self._lose()
        if uart is not None and model is not None:
            standby(uart, model)

    @property
    def errors(self):
        return self.parser.errors

    def _lose(self):
        if self._valid:
            self._last = self._snapshot(True)
        self._valid = False

    def _valid_position(self, s):
        lat = s["lat"]
        lon = s["lon"]
        if lat is None or lon is None:
            return False
        if not self._valid:
            self._valid = True
            if self.ttff_ms is None and self.wake_ms is not None:
                self.ttff_ms = compat.ticks_diff(self._now, self.wake_ms)
        self.lat = lat
        self.lon = lon
        self.fix_ms = self._now
        self._have_fix = True
        return True

    def _set_date(self, days, tod):
        if days < self.min_days:
            # The week-number bug puts dates whole 1024-week cycles early; more than two cycles is not a date.
            cycles = (self.min_days - days + ROLLOVER_DAYS - 1) // ROLLOVER_DAYS
            if cycles > 2:
                return
            days += cycles * ROLLOVER_DAYS
            self.rollovers += 1
        elif days > self.min_days + 1000 * 366:
            return  # a ZDA year a millennium ahead is noise, not a date
        self._date_days = days
        self._date_tod = tod if tod is not None else 0

    def _on_sentence(self, s):
        kind = s["type"]
        tod = s.get("time_ms")
        if tod is not None:
            self.clock_tod_ms = tod
        if kind == "RMC":
            date = s["date"]
            if date is not None:
                self._set_date(days_from_civil(date[0], date[1], date[2]), tod)
            mode = s["mode"]
            if s["status"] == "A" and mode != "N" and self._valid_position(s):
                self.tod_ms = tod
                if s["speed_kn"] is not None:
                    self.speed_kn = s["speed_kn"]
                self.course = s["course"]
                if self.quality == 0:
                    self.quality = 6 if mode == "E" else 1
            elif s["status"] == "V" or mode == "N":
                self._lose()
                self.quality = 0
        elif kind == "GGA":
            q = s["quality"]
            if q is not None and q > 0 and self._valid_position(s):
                self.tod_ms = tod
                self.quality = q
                self.alt = s["alt"]
                if s["sats"] is not None:
                    self.sats = s["sats"]
                if s["hdop"] is not None:
                    self.hdop = s["hdop"]
            elif q == 0:
                self._lose()
                self.quality = 0
                self.sats = s["sats"]
        elif kind == "GNS":
            # One mode letter per constellation: the fix is valid when any system contributes.
            mode = s["mode"] or ""
            best = 0
            for c in mode:
                q = _GNS_QUALITY.get(c, 0)
                if q and (best == 0 or q == 2 or q == 4):
                    best = q
            if best and self._valid_position(s):
                self.tod_ms = tod
                self.quality = best
                self.alt = s["alt"]
                if s["sats"] is not None:
                    self.sats = s["sats"]
                if s["hdop"] is not None:
                    self.hdop = s["hdop"]
            elif mode and not best:
                self._lose()
                self.quality = 0
        elif kind == "GLL":
            mode = s["mode"]
            if s["status"] == "A" and mode != "N" and self._valid_position(s):
                self.tod_ms = tod
            elif s["status"] == "V" or mode == "N":
                self._lose()
        elif kind == "GSA":
            # Multi-constellation receivers send one GSA per system in the same epoch: add their satellites.
            if self._gsa_tod != self.tod_ms or compat.ticks_diff(self._now, self._gsa_ms) > 900:
                self._gsa_used = 0
                self._gsa_tod = self.tod_ms
            self._gsa_used += s["used"]
            self._gsa_ms = self._now
            if s["fix"] is not None:
                self._gsa_fix = s["fix"]
            if s["hdop"] is not None:
                self._gsa_hdop = s["hdop"]
        elif kind == "VTG":
            if s["speed_kn"] is not None:
                self.speed_kn = s["speed_kn"]
            elif s["speed_kmh"] is not None:
                self.speed_kn = s["speed_kmh"] / 1.852
            self.course = s["course"]
        elif kind == "GSV":
            if s["in_view"] is not None:
                self.in_view = s["in_view"]
        elif kind == "GST":
            sd_lat = s["sd_lat"]
            sd_lon = s["sd_lon"]
            if sd_lat is not None and sd_lon is not None:
                self._gst_acc = 2.0 * (sd_lat * sd_lat + sd_lon * sd_lon) ** 0.5
                self._gst_tod = tod
        elif kind == "ZDA":
            if s["year"] is not None and s["month"] is not None and s["day"] is not None:
                self._set_date(days_from_civil(s["year"], s["month"], s["day"]), tod)

    # ---- output ----
    def mode(self):
        if not self._valid:
            return "none"
        # The receiver's own GSA fix type decides when it is recent. A GSA saying "no fix" while a newer position
        # sentence says valid is from the previous epoch (many receivers send GSA before RMC/GGA): ignore it.
        if self._gsa_fix >= 2 and compat.ticks_diff(self._now, self._gsa_ms) <= 2500:
            return "3d" if self._gsa_fix >= 3 else "2d"
        # No usable GSA: an altitude from at least 4 satellites is a 3D fix.
        if self.quality and self.alt is not None and (self.sats is None or self.sats >= 4):
            return "3d"
        return "2d"

    def _days_for(self, tod):
        days = self._date_days
        if days is None or tod is None:
            return None
        if tod < self._date_tod - _HALF_DAY_MS:
            return days + 1
        if tod > self._date_tod + _HALF_DAY_MS:
            return days - 1
        return days

    def _snapshot(self, valid):
        mode = self.mode() if valid else "none"
        sats = self.sats
        if sats is None and self._gsa_used:
            sats = self._gsa_used
        hdop = self.hdop if self.hdop is not None else self._gsa_hdop
        tod = self.tod_ms
        days = self._days_for(tod)
        if self._gst_acc is not None and self._gst_tod == tod:
            acc = self._gst_acc if self._gst_acc > ACC_FLOOR_M else ACC_FLOOR_M
        else:
            acc = accuracy_m(hdop, sats, mode, self.quality)
        return {
            "lat": self.lat, "lon": self.lon, "alt_m": self.alt, "mode": mode, "quality": self.quality,
            "sats": sats, "hdop": hdop, "acc_m": acc,
            "utc": utc_string(days, tod) if days is not None else None,
            "epoch_s": days * 86400 + tod // 1000 if days is not None else None,
            "speed_mps": self.speed_kn * _KNOT_MPS if self.speed_kn is not None else None,
            "course_deg": self.course, "age_ms": 0, "fix_ms": self.fix_ms,
        }

    def receiver_time_ms(self):
        """UTC of the last time-tagged sentence as ms since the Unix epoch, or None before the receiver sent a
        date. Receivers know the time before they have a fix: enough to set a clock."""
        days = self._days_for(self.clock_tod_ms)
        if days is None:
            return None
        return days * 86400000 + self.clock_tod_ms

    def fix(self, now_ms=None):
        """The current fix (dict) or None: no valid position, or none for longer than stale_ms."""
        if not self._valid:
            return None
        if now_ms is None:
            now_ms = self._now
        age = compat.ticks_diff(now_ms, self.fix_ms)
        if age > self.stale_ms:
            return None
        f = self._snapshot(True)
        f["age_ms"] = age
        return f

    def last_fix(self, now_ms=None):
        """The last valid fix with its age_ms, even after the fix was lost or went stale; None if never."""
        if now_ms is None:
            now_ms = self._now
        if self._valid:
            f = self._snapshot(True)
        elif self._last is not None:
            f = dict(self._last)
        else:
            return None
        f["age_ms"] = compat.ticks_diff(now_ms, f["fix_ms"])
        return f

    def status(self, now_ms=None):
        """A small summary for installers: fix mode, satellites, hdop, ttff, errors."""
        return {
            "mode": self.mode() if self.fix(now_ms) is not None else "none",
            "sats": self.sats, "in_view": self.in_view, "hdop": self.hdop if self.hdop is not None else
            self._gsa_hdop, "ttff_ms": self.ttff_ms, "sentences": self.parser.sentences,
            "errors": sum(self.parser.errors.values()),
        }

    # ---- transport ----
    async def run(self, uart, poll_ms=50, chunk=256, clock=None):
        """Poll a UART-like object (any(), read(n) non-blocking) and feed what it gives; runs until stop()."""
        clock = clock or compat.ticks_ms
        self._running = True
        while self._running:
            n = uart.any()
            if n:
                data = uart.read(n if n < chunk else chunk)
                if data:
                    self.feed(data, clock())
                    await compat.asleep_ms(0)
                    continue
            await compat.asleep_ms(poll_ms)

    def stop(self):
        self._running = False


# ---- receiver power ----
def ubx_frame(cls, msg_id, payload):
    """A UBX frame: sync B5 62, class, id, little-endian length, payload, 8-bit Fletcher checksum over
    class..payload."""
    n = len(payload)
    body = bytes((cls, msg_id, n & 0xFF, n >> 8)) + bytes(payload)
    a = 0
    b = 0
    for c in body:
        a = (a + c) & 0xFF
        b = (b + a) & 0xFF
    return b"\xb5\x62" + body + bytes((a, b))


def _u32le(v):
    return bytes((v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF, (v >> 24) & 0xFF))


def ubx_pmreq_backup(duration_ms=0, wake_on_uart=True):
    """UBX-RXM-PMREQ (16-byte form): enter backup for duration_ms (0 = until woken)."""
    payload = b"\x00\x00\x00\x00" + _u32le(duration_ms) + _u32le(0x02) + _u32le(0x08 if wake_on_uart else 0)
    return ubx_frame(0x02, 0x41, payload)


MODELS = ("neo-m8n", "l76k")
# Spellings used elsewhere (hardware/*/pinout.json says "L76K" and "NEO-M8N"; the simulator says "ublox").
_ALIASES = {"neo-m8n": "neo-m8n", "neo-m8": "neo-m8n", "ublox": "neo-m8n", "u-blox": "neo-m8n",
            "l76k": "l76k", "quectel-l76k": "l76k"}


def receiver_model(model):
    """The canonical model name ("neo-m8n" or "l76k") for a spelling; ValueError names an unknown one."""
    name = _ALIASES.get(str(model).strip().lower())
    if name is None:
        raise ValueError("unknown receiver model: " + str(model) + " (known: NEO-M8N, L76K)")
    return name


def standby_command(model, seconds=0):
    model = receiver_model(model)
    if model == "neo-m8n":
        return ubx_pmreq_backup(seconds * 1000)
    return frame(b"PCAS12," + str(seconds if seconds else 65535).encode())


def wake_command(model):
    model = receiver_model(model)
    if model == "neo-m8n":
        return b"\xff" * 8
    return b"\xff" * 8 + frame(b"PCAS10,0")


def standby(uart, model, seconds=0):
    """Put the receiver in its low-power state (see the module docstring for the commands and their sources)."""
    uart.write(standby_command(model, seconds))


def wake(uart, model):
    uart.write(wake_command(model))
