"""NXP PCF8563 real-time clock (and the pin- and register-compatible Belling BM8563): calendar, countdown timer and
alarm whose open-drain INT pin wakes the microcontroller.

Register facts used (PCF8563 product data sheet Rev. 11, 26 October 2015):
Control_status_1 00h (TEST1 bit 7, STOP bit 5, TESTC bit 3; Table 5), Control_status_2 01h (TI_TP bit 4, AF bit 3,
TF bit 2, AIE bit 1, TIE bit 0; Table 6), VL_seconds 02h (VL bit 7), Minutes 03h, Hours 04h, Days 05h, Weekdays 06h,
Century_months 07h (C bit 7), Years 08h, all BCD (section 8.4); Minute_alarm 09h, Hour_alarm 0Ah, Day_alarm 0Bh,
Weekday_alarm 0Ch (AE_x bit 7: 1 = field ignored; section 8.6); CLKOUT_control 0Dh (FE bit 7); Timer_control 0Eh
(TE bit 7, TD[1:0]: 4096, 64, 1, 1/60 Hz; Table 23); Timer 0Fh (section 8.8). I2C address 51h (A2h/A3h).
Bits marked N in Table 4 "should always be written with logic 0; if read they could be either logic 0 or logic 1",
and the x bits of the time registers are "not relevant": every read here masks them, and no check relies on them.

Weekdays are numbered 0 = Monday .. 6 = Sunday, as MicroPython's time.localtime and machine.RTC (the data sheet
allows the assignment to be chosen, section 8.4.5). The century bit C = 0 means 20xx, C = 1 means 21xx.
"""
from drivers.compat import const
from drivers.rtc import RTCError, check_datetime, days_from_civil, from_epoch, to_epoch
from drivers.rtc import weekday as _weekday

_CONTROL_STATUS_1 = const(0x00)
_CONTROL_STATUS_2 = const(0x01)
_VL_SECONDS = const(0x02)
_MINUTE_ALARM = const(0x09)
_TIMER_CONTROL = const(0x0E)
_TIMER = const(0x0F)

_TEST1 = const(0x80)
_STOP = const(0x20)
_TESTC = const(0x08)
_TI_TP = const(0x10)
_AF = const(0x08)
_TF = const(0x04)
_AIE = const(0x02)
_TIE = const(0x01)
_VL = const(0x80)
_CENTURY = const(0x80)
_AE = const(0x80)
_TE = const(0x80)
_TD_1HZ = const(0x02)
_TD_1_60HZ = const(0x03)

TIMER = const(0x01)  # fired(): the countdown timer ran out (TF)
ALARM = const(0x02)  # fired(): the alarm time came (AF)
ADDRESS = const(0x51)
MAX_TIMER_S = const(255 * 60)
MAX_EPOCH = 6311433599  # 2199-12-31 23:59:59: the last second the century bit can hold


def _bcd(v):
    lo = v & 0x0F
    if lo > 9:
        return -1  # not BCD: refused by check_datetime
    return (v >> 4) * 10 + lo


def _to_bcd(v):
    return ((v // 10) << 4) | (v % 10)


def _alarm_field(value, low, high, name):
    if value is None:
        return _AE  # AE_x = 1: this field takes no part in the comparison (section 8.6)
    if not low <= value <= high:
        raise ValueError("alarm %s %r outside %d..%d" % (name, value, low, high))
    return _to_bcd(value)


class PCF8563:
    NAME = "PCF8563"

    def __init__(self, i2c, address=ADDRESS):
        self.i2c = i2c
        self.address = address
        self.lost_power = None  # known after start(): True when the time cannot be trusted
        self._one = bytearray(1)
        self._two = bytearray(2)
        self._four = bytearray(4)
        self._seven = bytearray(7)

    # -- register access: every bus error becomes an RTCError naming the chip, its address and the register -------
    def _bus_error(self, reg, exc):
        return RTCError("%s RTC at I2C address 0x%02x stopped answering (register %02Xh, %r): check its power and "
                        "the SDA/SCL wiring" % (self.NAME, self.address, reg, exc))

    def _r(self, reg):
        try:
            self.i2c.readfrom_mem_into(self.address, reg, self._one)
        except OSError as exc:
            raise self._bus_error(reg, exc) from None
        return self._one[0]

    def _w(self, reg, value):
        self._one[0] = value
        try:
            self.i2c.writeto_mem(self.address, reg, self._one)
        except OSError as exc:
            raise self._bus_error(reg, exc) from None

    def _read(self, reg, buf):
        try:
            self.i2c.readfrom_mem_into(self.address, reg, buf)
        except OSError as exc:
            raise self._bus_error(reg, exc) from None

    def _write(self, reg, buf):
        try:
            self.i2c.writeto_mem(self.address, reg, buf)
        except OSError as exc:
            raise self._bus_error(reg, exc) from None

    def _control_2(self, set_bits, clear_bits, clear_flags):
        """Read-modify-write of Control_status_2. Flags are written 0 to clear them and 1 to leave them as they are
        (Table 6: "0 (write): flag is cleared; 1 (write): flag remains unchanged"), so a flag that rises between
        the read and the write is never lost."""
        v = self._r(_CONTROL_STATUS_2)
        keep = v & (_TI_TP | _AIE | _TIE) & ~clear_bits
        self._w(_CONTROL_STATUS_2, keep | set_bits | ((_AF | _TF) & ~clear_flags))

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def start(self):
        """Checks the chip answers and behaves like a PCF8563 (it has no WHO_AM_I), then: normal mode, clock
        running, CLKOUT off, timer and alarm off, their interrupts off and flags cleared. Sets `lost_power`."""
        two = self._two
        try:
            self.i2c.readfrom_mem_into(self.address, _CONTROL_STATUS_1, two)
        except OSError as exc:
            raise RTCError("%s RTC at I2C address 0x%02x does not answer (%r): check its power, the SDA/SCL wiring "
                           "it shares with the accelerometer and the bus pull-ups"
                           % (self.NAME, self.address, exc)) from None
        # STOP set: the clock stood still; TEST1 set: it counted CLKOUT edges (section 8.9). Either way the time
        # is not the time.
        was_stopped = two[0] & (_STOP | _TEST1)
        # Presence check on a harmless register: with TE = 0 the Timer register holds what was written (section
        # 8.8.2). Two complementary patterns catch stuck bits and a device that answers with a constant.
        self._w(_TIMER_CONTROL, _TD_1_60HZ)
        for pattern in (0xA5, 0x5A):
            self._w(_TIMER, pattern)
            got = self._r(_TIMER)
            if got != pattern:
                raise RTCError("%s expected at I2C address 0x%02x: its Timer register (0Fh) read back 0x%02x after "
                               "0x%02x was written; another chip answers at this address (a PCF85063 also uses "
                               "0x51) or this one is faulty" % (self.NAME, self.address, got, pattern))
        # 09h..0Fh in one access: alarm fields all ignored (AE_x = 1), so AF cannot rise; CLKOUT_control FE = 0
        # (CLKOUT high-impedance: on at power-on, it costs current, section 8.7); timer disabled with the 1/60 Hz
        # source, the data sheet's advice for an unused timer (Table 23 note 2); Timer 0.
        b = self._seven
        b[0] = b[1] = b[2] = b[3] = _AE
        b[4] = 0
        b[5] = _TD_1_60HZ
        b[6] = 0
        self._write(_MINUTE_ALARM, b)
        # Control_status_1 = 0: TEST1 = 0 normal mode, STOP = 0 clock runs, TESTC = 0 (POR override off: 1 after
        # power-on, "set to logic 0 for normal operation", Table 5). Control_status_2 = 0: TI_TP = 0, AF and TF
        # cleared (written 0), AIE = TIE = 0.
        two[0] = 0
        two[1] = 0
        self._write(_CONTROL_STATUS_1, two)
        self._read(_CONTROL_STATUS_1, two)
        if two[0] & (_TEST1 | _STOP | _TESTC) or two[1] & (_TI_TP | _AF | _TF | _AIE | _TIE):
            raise RTCError("%s at I2C address 0x%02x misbehaves: Control_status_1/2 read 0x%02x 0x%02x after 0x00 "
                           "0x00 was written (TEST1, STOP, TESTC, TI_TP, AF, TF, AIE and TIE must read back 0)"
                           % (self.NAME, self.address, two[0], two[1]))
        # VL (VL_seconds bit 7) is set at power-on and when VDD fell below V_low: "the integrity of the clock
        # information is not guaranteed" (section 8.4.1). Only writing the seconds register clears it.
        self.lost_power = bool(self._r(_VL_SECONDS) & _VL) or bool(was_stopped)
        return self

    # -- calendar ----------------------------------------------------------------------------------------------
    def datetime(self):
        """(year, month, day, weekday, hour, minute, second), weekday 0 = Monday. Raises RTCError when the
        registers hold no valid date (after a power loss: set the time)."""
        b = self._seven
        self._read(_VL_SECONDS, b)  # seconds to years in one access (section 8.5): no carry between two reads
        if b[0] & _VL:
            self.lost_power = True
        second = _bcd(b[0] & 0x7F)
        minute = _bcd(b[1] & 0x7F)
        hour = _bcd(b[2] & 0x3F)
        day = _bcd(b[3] & 0x3F)
        wday = b[4] & 0x07
        month = _bcd(b[5] & 0x1F)
        years = _bcd(b[6])
        year = 2000 + years + (100 if b[5] & _CENTURY else 0)
        try:
            if years < 0 or wday > 6:
                raise ValueError("not BCD")
            check_datetime(year, month, day, hour, minute, second)
        except ValueError as exc:
            raise RTCError("%s at I2C address 0x%02x holds no valid time (02h..08h: %02x %02x %02x %02x %02x %02x "
                           "%02x; %s): set it with set_datetime() or set_epoch()"
                           % (self.NAME, self.address, b[0], b[1], b[2], b[3], b[4], b[5], b[6], exc)) from None
        return year, month, day, wday, hour, minute, second

    def set_datetime(self, dt):
        """Sets the clock from (year, month, day, weekday, hour, minute, second[, ...]) as datetime() returns it
        (machine.RTC's 8-tuple works too). The weekday given is ignored: it is computed from the date. Years
        2000..2199. Clears VL, so `lost_power` becomes False. Raises ValueError for a field out of range.

        The chip's leap-year rule is "years divisible by 4, including 00" (section 8.4.4): right until 2099, so
        2100-02-29 will exist on the chip; set the time again after February 2100."""
        year, month, day, hour, minute, second = dt[0], dt[1], dt[2], dt[4], dt[5], dt[6]
        check_datetime(year, month, day, hour, minute, second)
        b = self._seven
        b[0] = _to_bcd(second)  # VL = 0
        b[1] = _to_bcd(minute)
        b[2] = _to_bcd(hour)
        b[3] = _to_bcd(day)
        b[4] = _weekday(days_from_civil(year, month, day))
        b[5] = _to_bcd(month) | (_CENTURY if year >= 2100 else 0)
        b[6] = _to_bcd(year % 100)
        # STOP holds the prescaler in reset while the time is written (section 8.10), so the new second starts
        # now, not at some unknown point of the old one: the first increment follows about 0.5 s after release.
        # A bus error in between leaves the clock stopped, which the next start() reports as lost_power.
        self._w(_CONTROL_STATUS_1, _STOP)
        self._write(_VL_SECONDS, b)  # one access (section 8.5)
        self._w(_CONTROL_STATUS_1, 0)
        self.lost_power = False

    def epoch(self):
        """Seconds since 2000-01-01 00:00:00 (MicroPython's epoch on most ports)."""
        year, month, day, _, hour, minute, second = self.datetime()
        return to_epoch(year, month, day, hour, minute, second)

    def set_epoch(self, seconds):
        if not 0 <= seconds <= MAX_EPOCH:
            raise ValueError("epoch %r outside 0..%d (2000-01-01..2199-12-31)" % (seconds, MAX_EPOCH))
        self.set_datetime(from_epoch(seconds))

    # -- wake-ups ----------------------------------------------------------------------------------------------
    def set_timer(self, seconds):
        """Countdown to a wake-up: INT goes low after `seconds` and stays low until fired() clears TF. 1..255 s
        count with the 1 Hz source; longer ones are rounded to whole minutes (the 1/60 Hz source, up to 255 min
        = 15300 s; beyond, ValueError: chain several wakes). Returns the period programmed, in seconds.

        The timer reloads itself (section 8.8): it keeps counting whole periods after each wake, so an hourly
        heartbeat stays hourly without being armed again. Only the FIRST period is short: TE is set from the I2C
        clock, asynchronous to the source clock, so the first period lasts between n - 1 and n source periods
        (NXP UM10301, section 17, "First period inaccuracy when using the timer", Table 11). With the 1/60 Hz source
        a heartbeat armed for 60 min can therefore come up to one minute early (after 59 min), with 1 Hz up to one
        second early; the periods after it are exact (crystal tolerance aside)."""
        if not isinstance(seconds, int) or seconds < 1:
            raise ValueError("timer period must be a whole number of seconds >= 1, got %r" % (seconds,))
        if seconds <= 255:
            td = _TD_1HZ
            n = seconds
            period = seconds
        else:
            n = (seconds + 30) // 60
            if n > 255:
                raise ValueError("timer period %d s is more than 255 min (%d s): chain shorter wakes"
                                 % (seconds, MAX_TIMER_S))
            td = _TD_1_60HZ
            period = n * 60
        # TE = 0 while n is loaded: a value written while the timer runs can corrupt the first period (UM10301
        # section 17). Then TF cleared (AF left as it is), TIE = 1, TI_TP = 0: INT follows TF (a level, not the
        # 1/64 s pulse of Table 7, which a sleeping microcontroller could miss).
        self._w(_TIMER_CONTROL, td)
        self._control_2(_TIE, _TI_TP, _TF)
        self._w(_TIMER, n)
        self._w(_TIMER_CONTROL, _TE | td)
        return period

    def cancel_timer(self):
        """Timer disabled (1/60 Hz source for power saving, Table 23 note 2), TIE off, TF cleared."""
        self._w(_TIMER_CONTROL, _TD_1_60HZ)
        self._control_2(0, _TIE, _TF)

    def set_alarm(self, minute=None, hour=None, day=None, weekday=None):
        """Alarm on the fields given (weekday 0 = Monday); a field left out matches any value (AE_x = 1). AF rises
        when the clock reaches a time whose given fields all match, so `hour=7` alone fires at each minute of
        07:xx once fired() cleared it: give `minute` too for once a day. AIE = 1, AF cleared (TF left as it is)."""
        b = self._four
        b[0] = _alarm_field(minute, 0, 59, "minute")
        b[1] = _alarm_field(hour, 0, 23, "hour")
        b[2] = _alarm_field(day, 1, 31, "day")
        b[3] = _alarm_field(weekday, 0, 6, "weekday")
        if b[0] & b[1] & b[2] & b[3] & _AE:
            raise ValueError("alarm needs at least one of minute, hour, day, weekday")
        self._write(_MINUTE_ALARM, b)
        self._control_2(_AIE, 0, _AF)

    def cancel_alarm(self):
        """Every alarm field ignored (AE_x = 1, AF cannot rise), AIE off, AF cleared."""
        b = self._four
        b[0] = b[1] = b[2] = b[3] = _AE
        self._write(_MINUTE_ALARM, b)
        self._control_2(0, _AIE, _AF)

    def fired(self):
        """What woke us: 0, TIMER, ALARM or TIMER | ALARM. Clears the flags it reports, which releases INT, and
        only those: the other flag is written 1 ("remains unchanged", Table 6), so one that rises meanwhile is
        reported by the next call. Allocates nothing: it runs after each wake."""
        v = self._r(_CONTROL_STATUS_2)
        flags = v & (_AF | _TF)
        if flags:
            self._w(_CONTROL_STATUS_2, (v & (_TI_TP | _AIE | _TIE)) | (flags ^ (_AF | _TF)))
        return flags >> 2  # TF (bit 2) -> TIMER, AF (bit 3) -> ALARM
