"""A simulated NXP PCF8563 real-time clock, for the simulator's board and the tests: the firmware runs the REAL
driver (drivers/rtc/pcf8563.py) against a register map that keeps time like the chip.

MicroPython and CPython, for the simulated board and the tests alike. It plugs into the simulated I2C bus of
sim/chips/i2c.py, which indexes chips by `address` and calls `read(reg, buf)` / `write(reg, data)`:

    bus = SimI2C()
    chip = bus.attach(SimPCF8563(clock=...)) # 0x51, beside a SimLIS3DH at 0x18
    rtc = PCF8563(bus).start()

Behaviour modelled (PCF8563 data sheet Rev. 11): the 16 registers with the power-on values of Table 27
(Control_status_1 08h: TESTC = 1; VL set; CLKOUT on; every alarm field ignored; Timer_control 03h); the time
registers' content at power-on is undefined on the chip: here 2000-01-01 00:00:00 with weekday register 0. Time
advances from `clock` (milliseconds, wrapping like ticks_ms: default drivers.compat.ticks_ms, compared with
ticks_diff; the milliseconds short of a second are kept, so no time is lost between reads) and from
`advance_ms(ms)`, which tests use to jump an hour at once. Between two looks at the clock, less than 2**29 ms
(6.2 days) may pass; jump further with advance_ms. BCD counters carry seconds -> minutes -> hours -> days ->
months -> years and toggle the century bit at 99 -> 00 (section 8.4); February has 29 days when the years counter
is divisible by 4, 00 included (the chip's rule); the weekday register counts 0..6 with the days. Each bus
transaction is atomic: the time counters are blocked during an access and a pending second is served after it
(section 8.5). STOP holds the prescaler in reset (no time, no 1 Hz or 1/60 Hz timer ticks); after its release the
first second lasts 508 ms (section 8.10); TEST1 (EXT_CLK test mode, no edges on CLKOUT here) freezes time too.
The address auto-increments after each byte and wraps from 0Fh to 00h. VL is set at power-on and cleared by
writing the seconds register with bit 7 = 0. AF and TF are written by logic AND (0 clears, 1 leaves unchanged).
The countdown timer (section 8.8) counts the 1 Hz tick (each second increment) or the 1/60 Hz tick (each minute
increment) while TE = 1 and its value n != 0: from n down to 1, then TF rises and n is reloaded; enabled at an
arbitrary moment, the first period is therefore between n - 1 and n source periods, as the data sheet allows.
The 4096 Hz and 64 Hz sources are not counted (the driver does not use them). The alarm (section 8.6) sets AF at a
minute increment when every field whose AE_x = 0 matches. `int_asserted`: the INT pin's state (True = pulled low):
(AF and AIE) or, with TI_TP = 0, (TF and TIE); with TI_TP = 1 the timer part is a 1/64 s pulse after each
countdown end (Table 7), ended early here when TF is cleared. Bits marked N or x read as `x_fill` (0 by default;
the data sheet says they may read 0 or 1: a test sets 0xFF to prove a driver masks them).

Fault knobs: `absent = True` (no acknowledge: unpowered or unsoldered), `fail = k` (the next k transactions raise
OSError(EIO): a loose wire). Counters: `transactions`, `timer_fires`, `alarm_fires`; `timer_fired_ms` and
`now_ms` (simulated milliseconds since power-on: when TF last rose, and now).
"""
from drivers.compat import ticks_diff, ticks_ms
from sim.chips.i2c import EIO, ENODEV

# The bits each register holds (data sheet Table 4); the N and x bits read as x_fill.
_MASKS = b"\xa8\x1f\xff\x7f\x3f\x3f\x07\x9f\xff\xff\xbf\xbf\x87\x83\x83\xff"
_STOP_RELEASE_MS = 508  # section 8.10; NXP's PCA8565 (the same design) gives 0.507813..0.507935 s
_PULSE_MS = 16  # 1/64 s, Table 7


def _dec(v):
    return (v >> 4) * 10 + (v & 0x0F)


def _bcd(v):
    return ((v // 10) << 4) | (v % 10)


def _days_in_month(month, years):
    if month == 2:
        return 29 if years % 4 == 0 else 28
    if month in (4, 6, 9, 11):
        return 30
    return 31


class SimPCF8563:
    def __init__(self, address=0x51, clock=None):
        self.address = address
        self.clock = ticks_ms if clock is None else clock
        self.regs = bytearray(16)
        self.absent = False
        self.fail = 0
        self.x_fill = 0
        self.transactions = 0
        self.timer_fires = 0
        self.alarm_fires = 0
        self.power_on()

    def power_on(self):
        """The state after a power-on reset (Table 27), VL set."""
        r = self.regs
        for i in range(16):
            r[i] = 0
        r[0x00] = 0x08  # TESTC = 1
        r[0x02] = 0x80  # VL
        r[0x05] = 0x01
        r[0x07] = 0x01
        r[0x09] = r[0x0A] = r[0x0B] = r[0x0C] = 0x80  # AE_x = 1
        r[0x0D] = 0x80  # FE = 1: CLKOUT at 32.768 kHz
        r[0x0E] = 0x03  # TE = 0, 1/60 Hz
        self._reload = 0
        self._sub_ms = 0  # milliseconds into the current second
        self.now_ms = 0  # simulated milliseconds since power-on
        self.timer_fired_ms = -1 - _PULSE_MS  # simulated ms since power-on when TF last rose
        self._last = self.clock()

    # -- time ------------------------------------------------------------------------------------------------
    def _sync(self):
        now = self.clock()
        d = ticks_diff(now, self._last)
        self._last = now
        if d > 0:
            self._run(d)

    def advance_ms(self, ms):
        """Lets `ms` milliseconds of chip time pass at once (on top of what the clock says)."""
        self._sync()
        if ms > 0:
            self._run(ms)

    def _run(self, ms):
        self.now_ms += ms
        if self.regs[0] & 0xA0:
            return  # STOP (prescaler in reset) or TEST1 (counts CLKOUT edges, none here): time stands still
        ms += self._sub_ms
        secs = ms // 1000
        self._sub_ms = ms - secs * 1000
        if secs:
            self._tick(secs)

    def _tick(self, n):
        r = self.regs
        base = self.now_ms - self._sub_ms - n * 1000  # the second boundary before this batch
        done = 0
        while done < n:  # bounded: each pass moves at least one second
            s = _dec(r[2] & 0x7F)
            step = 60 - s if s < 60 else 1  # to the next minute increment
            timer = (r[0x0E] & 0x83) == 0x82 and r[0x0F]  # TE, 1 Hz source, n != 0
            if timer and r[0x0F] < step:
                step = r[0x0F]
            if step > n - done:
                step = n - done
            done += step
            at = base + done * 1000
            if timer:
                self._count(step, at)
            if s + step >= 60:
                r[2] &= 0x80
                self._minute(at)
            else:
                r[2] = (r[2] & 0x80) | _bcd(s + step)

    def _count(self, k, at):
        # k source ticks, never more than the count left: n, n-1, .., 1, then TF and the reload.
        r = self.regs
        if k >= r[0x0F]:
            r[0x0F] = self._reload
            r[1] |= 0x04
            self.timer_fired_ms = at
            self.timer_fires += 1
        else:
            r[0x0F] -= k

    def _minute(self, at):
        r = self.regs
        m = _dec(r[3] & 0x7F) + 1
        if m >= 60:
            m = 0
            h = _dec(r[4] & 0x3F) + 1
            if h >= 24:
                h = 0
                self._day()
            r[4] = _bcd(h)
        r[3] = _bcd(m)
        a_m = r[9]  # one by one: a 4-tuple assignment allocates on MicroPython
        a_h = r[10]
        a_d = r[11]
        a_w = r[12]
        if not (a_m & a_h & a_d & a_w & 0x80) and (a_m & 0x80 or a_m & 0x7F == r[3]) and (
                a_h & 0x80 or a_h & 0x3F == r[4]) and (a_d & 0x80 or a_d & 0x3F == r[5]) and (
                a_w & 0x80 or a_w & 0x07 == r[6]):
            r[1] |= 0x08
            self.alarm_fires += 1
        if (r[0x0E] & 0x83) == 0x83 and r[0x0F]:  # TE, 1/60 Hz source, n != 0
            self._count(1, at)

    def _day(self):
        r = self.regs
        w = r[6] & 0x07
        r[6] = w + 1 if w < 6 else 0
        d = _dec(r[5] & 0x3F) + 1
        mo = _dec(r[7] & 0x1F)
        if d > _days_in_month(mo, _dec(r[8])):
            d = 1
            mo += 1
            if mo > 12:
                mo = 1
                y = _dec(r[8]) + 1
                if y > 99:
                    y = 0
                    r[7] ^= 0x80  # the century bit toggles when the years overflow (section 8.4.6)
                r[8] = _bcd(y)
            r[7] = (r[7] & 0x80) | _bcd(mo)
        r[5] = _bcd(d)

    @property
    def int_asserted(self):
        """True while the open-drain INT pin is pulled low."""
        self._sync()
        c2 = self.regs[1]
        if c2 & 0x0A == 0x0A:
            return True  # AF and AIE: a level in both modes
        if not c2 & 0x01 or not c2 & 0x04:
            return False
        if c2 & 0x10:
            return self.now_ms - self.timer_fired_ms < _PULSE_MS
        return True

    # -- the bus side ------------------------------------------------------------------------------------------
    def _access(self, reg):
        self.transactions += 1
        if self.absent:
            raise OSError(ENODEV)
        if self.fail > 0:
            self.fail -= 1
            raise OSError(EIO)
        if not 0 <= reg <= 0x0F:
            raise ValueError("PCF8563 has registers 00h..0Fh, not %r" % (reg,))
        self._sync()

    def read(self, reg, buf):
        self._access(reg)
        r = self.regs
        fill = self.x_fill
        a = reg
        for i in range(len(buf)):
            m = _MASKS[a]
            buf[i] = (r[a] & m) | (fill & (0xFF ^ m))
            a = (a + 1) & 0x0F

    def write(self, reg, data):
        self._access(reg)
        r = self.regs
        a = reg
        for i in range(len(data)):
            v = data[i] & _MASKS[a]
            if a == 0x01:
                v = (v & 0x13) | (v & r[1] & 0x0C)  # AF, TF: logic AND
            elif a == 0x00:
                if v & 0x20 and not r[0] & 0x20:
                    self._sub_ms = 0  # STOP: prescaler reset
                elif r[0] & 0x20 and not v & 0x20:
                    self._sub_ms = 1000 - _STOP_RELEASE_MS
            elif a == 0x0F:
                self._reload = v  # takes effect at once, also while the timer runs
            r[a] = v
            a = (a + 1) & 0x0F
