# The PCF8563 RTC driver (drivers/rtc/pcf8563.py) against the simulated chip (sim/chips/pcf8563.py), on the
# simulated I2C bus (sim/chips/i2c.py), alone or beside the accelerometer. Time comes from an injected
# clock the tests move by hand: nothing here waits or measures real time.
import gc
import sys

from drivers.rtc import RTCError, civil_from_days, days_from_civil, from_epoch, to_epoch, weekday
from drivers.rtc.pcf8563 import ALARM, MAX_EPOCH, PCF8563, TIMER
from sim.chips.i2c import SimI2C
from sim.chips.lis3dh import SimLIS3DH
from sim.chips.pcf8563 import SimPCF8563
from tests.dual.fake_i2c import FlakyI2C

MINUTE = 60 * 1000
HOUR = 60 * MINUTE


def rig(chip_cls=SimPCF8563, bus=None):
    t = [0]
    chip = chip_cls(clock=lambda: t[0])
    bus = SimI2C() if bus is None else bus
    bus.attach(chip)
    return t, chip, bus, PCF8563(bus)


def started(when=(2026, 12, 3, 3, 13, 0, 0)):
    t, chip, bus, rtc = rig()
    rtc.start()
    rtc.set_datetime(when)
    return t, chip, bus, rtc


def raises(fn, *words):
    try:
        fn()
    except RTCError as exc:
        text = str(exc)
        for w in words:
            assert w in text, text
        return text
    raise AssertionError("no RTCError")


def value_error(fn, *words):
    try:
        fn()
    except RTCError as exc:
        raise AssertionError("RTCError instead of ValueError: %s" % exc)
    except ValueError as exc:
        for w in words:
            assert w in str(exc), str(exc)
        return
    raise AssertionError("no ValueError")


# -- start ---------------------------------------------------------------------------------------------------------

def test_start_on_a_fresh_chip():
    t, chip, bus, rtc = rig()
    r = chip.regs
    assert r[0x0D] & 0x80 and r[0x00] == 0x08 and r[0x02] & 0x80  # power-on: CLKOUT on, TESTC, VL
    r[0x01] = 0x1F  # stale flags and interrupt enables from an earlier life
    assert rtc.start() is rtc
    assert rtc.lost_power is True
    assert r[0x0D] == 0x00  # CLKOUT off
    assert r[0x00] == 0x00  # normal mode, clock running, TESTC off
    assert r[0x01] == 0x00  # AF, TF cleared, AIE, TIE, TI_TP off
    assert list(r[0x09:0x0D]) == [0x80, 0x80, 0x80, 0x80]  # every alarm field ignored
    assert r[0x0E] == 0x03  # timer off, 1/60 Hz source (power saving)
    assert not chip.int_asserted


def test_lost_power_follows_vl_and_a_stopped_clock():
    t, chip, bus, rtc = started()
    assert rtc.lost_power is False and not chip.regs[0x02] & 0x80  # writing the seconds cleared VL
    assert PCF8563(bus).start().lost_power is False
    chip.regs[0x00] |= 0x20  # someone left STOP set: the clock stood still
    again = PCF8563(bus).start()
    assert again.lost_power is True and not chip.regs[0x00] & 0x20
    chip.power_on()
    assert PCF8563(bus).start().lost_power is True
    rtc.set_datetime((2026, 1, 1, 0, 0, 0, 0))
    chip.regs[0x02] |= 0x80  # VL rising later (a brown-out) is seen by datetime()
    rtc.datetime()
    assert rtc.lost_power is True


def test_absent_chip_is_a_clear_error():
    raises(lambda: PCF8563(SimI2C()).start(), "PCF8563", "0x51", "does not answer", "wiring", "power")
    raises(lambda: PCF8563(SimI2C(), address=0x52).start(), "0x52", "does not answer")
    t, chip, bus, rtc = rig()
    chip.absent = True
    raises(rtc.start, "PCF8563", "0x51", "does not answer")


class DeafTimer(SimPCF8563):
    """Writes to the Timer register do not stick (a broken chip, or another chip at 0x51)."""

    def write(self, reg, data):
        if reg == 0x0F:
            SimPCF8563.write(self, reg, b"\x00")
        else:
            SimPCF8563.write(self, reg, data)


class AllOnes(SimPCF8563):
    """Reads 0xFF whatever was written."""

    def read(self, reg, buf):
        SimPCF8563.read(self, reg, buf)
        for i in range(len(buf)):
            buf[i] = 0xFF


class StuckTest1(SimPCF8563):
    """TEST1 stays set: the chip would count CLKOUT edges, not its crystal."""

    def write(self, reg, data):
        SimPCF8563.write(self, reg, data)
        self.regs[0] |= 0x80


def test_misbehaving_registers_are_a_clear_error():
    text = raises(rig(DeafTimer)[3].start, "PCF8563", "0x51", "Timer register (0Fh)", "read back 0x00", "0xa5")
    assert "another chip" in text
    raises(rig(AllOnes)[3].start, "read back 0xff")
    raises(rig(StuckTest1)[3].start, "Control_status_1/2", "0x80", "misbehaves")


def test_unused_bits_reading_one_are_masked():
    t, chip, bus, rtc = rig()
    chip.x_fill = 0xFF  # the data sheet: N bits "could be either logic 0 or logic 1", x bits "not relevant"
    rtc.start()
    rtc.set_datetime((2031, 7, 14, 0, 9, 8, 7))
    assert rtc.datetime() == (2031, 7, 14, 0, 9, 8, 7)
    assert rtc.set_timer(10) == 10
    t[0] += 10 * 1000
    assert rtc.fired() == TIMER and not chip.int_asserted


# -- calendar ------------------------------------------------------------------------------------------------------

def test_set_and_read_datetime():
    t, chip, bus, rtc = started((2026, 12, 3, 6, 13, 41, 25))  # the weekday given is recomputed
    assert rtc.datetime() == (2026, 12, 3, 3, 13, 41, 25)  # a Thursday
    assert list(chip.regs[0x02:0x09]) == [0x25, 0x41, 0x13, 0x03, 0x03, 0x12, 0x26]
    t[0] += 1000  # the first second after STOP's release lasts 0.508 s, then whole seconds
    assert rtc.datetime()[6] == 26
    t[0] += 59 * 1000
    assert rtc.datetime() == (2026, 12, 3, 3, 13, 42, 25)
    rtc.set_datetime((2026, 12, 3, 3, 13, 41, 25, 0))  # machine.RTC's 8-tuple
    assert rtc.datetime() == (2026, 12, 3, 3, 13, 41, 25)


def test_rollovers_end_of_month_leap_day_year_century():
    cases = [
        ((2024, 2, 28, 23, 59, 59), (2024, 2, 29, 0, 0, 0)),
        ((2024, 2, 29, 23, 59, 59), (2024, 3, 1, 0, 0, 0)),
        ((2023, 2, 28, 23, 59, 59), (2023, 3, 1, 0, 0, 0)),
        ((2000, 2, 28, 23, 59, 59), (2000, 2, 29, 0, 0, 0)),
        ((2026, 4, 30, 23, 59, 59), (2026, 5, 1, 0, 0, 0)),
        ((2026, 1, 31, 23, 59, 59), (2026, 2, 1, 0, 0, 0)),
        ((2026, 6, 30, 9, 59, 59), (2026, 6, 30, 10, 0, 0)),
        ((2026, 12, 31, 23, 59, 59), (2027, 1, 1, 0, 0, 0)),
        ((2099, 12, 31, 23, 59, 59), (2100, 1, 1, 0, 0, 0)),
    ]
    for (y, mo, d, h, mi, s), after in cases:
        t, chip, bus, rtc = started((y, mo, d, 0, h, mi, s))
        t[0] += 1000
        got = rtc.datetime()
        wd = weekday(days_from_civil(after[0], after[1], after[2]))
        assert got == (after[0], after[1], after[2], wd, after[3], after[4], after[5]), (y, mo, d, got)
        assert rtc.epoch() == to_epoch(y, mo, d, h, mi, s) + 1
    assert chip.regs[0x07] & 0x80  # 2100: the century bit toggled at 99 -> 00


def test_sixty_days_through_a_leap_february():
    t, chip, bus, rtc = started((2028, 1, 31, 0, 12, 0, 0))
    start = rtc.epoch()
    for k in range(1, 61):
        chip.advance_ms(24 * HOUR)
        e = start + k * 86400
        assert rtc.epoch() == e, k
        assert rtc.datetime() == from_epoch(e), k  # the chip's own weekday counter agrees


def test_set_datetime_refuses_impossible_dates():
    t, chip, bus, rtc = started()
    value_error(lambda: rtc.set_datetime((2026, 13, 1, 0, 0, 0, 0)), "month")
    value_error(lambda: rtc.set_datetime((2026, 4, 31, 0, 0, 0, 0)), "day")
    value_error(lambda: rtc.set_datetime((2023, 2, 29, 0, 0, 0, 0)), "day")
    value_error(lambda: rtc.set_datetime((1999, 12, 31, 0, 23, 59, 59)), "year")
    value_error(lambda: rtc.set_datetime((2200, 1, 1, 0, 0, 0, 0)), "year")
    value_error(lambda: rtc.set_datetime((2026, 1, 1, 0, 24, 0, 0)), "hour")
    value_error(lambda: rtc.set_epoch(-1), "epoch")
    value_error(lambda: rtc.set_epoch(MAX_EPOCH + 1), "epoch")
    assert rtc.datetime() == (2026, 12, 3, 3, 13, 0, 0)  # nothing was written


def test_garbage_in_the_time_registers_is_a_clear_error():
    t, chip, bus, rtc = started()
    chip.regs[0x03] = 0x5A  # minutes not BCD
    raises(rtc.datetime, "PCF8563", "no valid time", "set_datetime")
    rtc.set_datetime((2026, 12, 3, 3, 13, 0, 0))
    chip.regs[0x07] = 0x13  # month 13
    raises(rtc.epoch, "no valid time", "month")


def test_epoch_round_trip_through_the_chip():
    t, chip, bus, rtc = started()
    last = to_epoch(2099, 12, 31, 23, 59, 59)
    n = 0
    for s in range(0, last + 1, 1000003):  # a prime step: every second, minute, hour and day of month come up
        rtc.set_epoch(s)
        assert rtc.epoch() == s, s
        n += 1
    assert n > 3000
    rtc.set_epoch(MAX_EPOCH)
    assert rtc.datetime() == (2199, 12, 31, 1, 23, 59, 59)
    assert from_epoch(0) == (2000, 1, 1, 5, 0, 0, 0)  # a Saturday
    assert to_epoch(2026, 12, 3, 13, 41, 25) == 849620485


def test_calendar_arithmetic_every_day_2000_to_2199():
    days = days_from_civil(2200, 1, 1)
    assert days == 73049
    y, m, d = 2000, 1, 1
    for k in range(days):
        assert civil_from_days(k) == (y, m, d), k
        assert days_from_civil(y, m, d) == k
        d += 1
        if d > (29 if m == 2 and y % 4 == 0 and (y % 100 or y % 400 == 0) else
                28 if m == 2 else 30 if m in (4, 6, 9, 11) else 31):
            d = 1
            m += 1
            if m > 12:
                m = 1
                y += 1
    if sys.implementation.name == "cpython":  # the same answer as the C library's
        import time

        for s in range(0, MAX_EPOCH, 9999991):
            g = time.gmtime(946684800 + s)
            assert from_epoch(s) == (g.tm_year, g.tm_mon, g.tm_mday, g.tm_wday, g.tm_hour, g.tm_min, g.tm_sec)


# -- timer ---------------------------------------------------------------------------------------------------------

def test_timer_10_s():
    t, chip, bus, rtc = started()
    rtc.set_alarm(hour=20, minute=0)  # armed, far away: must stay untouched
    t[0] += 300  # arm at some point inside a second
    assert rtc.set_timer(10) == 10
    assert chip.regs[0x0E] == 0x82 and chip.regs[0x0F] == 10  # TE, 1 Hz
    assert chip.regs[0x01] & 0x13 == 0x03  # TIE, AIE kept, TI_TP = 0
    t[0] += 8999  # the first period lasts between 9 and 10 s
    assert not chip.int_asserted
    t[0] += 1001
    assert chip.int_asserted
    first = chip.timer_fired_ms
    t[0] += 5000
    assert chip.int_asserted  # a level: stays until cleared
    assert rtc.fired() == TIMER
    assert not chip.int_asserted
    assert chip.regs[0x01] & 0x08 == 0 and chip.regs[0x01] & 0x02  # AF not set, AIE kept
    assert list(chip.regs[0x09:0x0D]) == [0x00, 0x20, 0x80, 0x80]
    assert rtc.fired() == 0
    t[0] += 10000  # the timer reloaded itself
    assert chip.int_asserted and chip.timer_fired_ms - first == 10000
    assert rtc.fired() == TIMER and not chip.int_asserted


def test_timer_60_min_with_a_jumped_clock():
    t, chip, bus, rtc = started((2026, 12, 3, 3, 13, 0, 30))
    assert rtc.set_timer(3600) == 3600
    assert chip.regs[0x0E] == 0x83 and chip.regs[0x0F] == 60  # TE, 1/60 Hz, 60 minutes
    t[0] += 59 * MINUTE - 1  # the first period lasts between 59 and 60 minutes
    assert not chip.int_asserted
    assert rtc.fired() == 0
    t[0] += MINUTE + 1
    assert chip.int_asserted
    first = chip.timer_fired_ms
    assert rtc.fired() == TIMER
    assert not chip.int_asserted and chip.regs[0x01] & 0x0C == 0
    for k in range(2, 5):  # then exactly hourly, without arming it again
        t[0] += HOUR
        assert chip.int_asserted
        assert chip.timer_fired_ms - first == (k - 1) * HOUR
        assert rtc.fired() == TIMER
    assert chip.timer_fires == 4 and chip.alarm_fires == 0


def test_timer_with_advance_ms():
    t, chip, bus, rtc = started()
    rtc.set_timer(3 * 3600)
    chip.advance_ms(3 * HOUR - MINUTE - 1)
    assert not chip.int_asserted
    chip.advance_ms(MINUTE + 1)
    assert chip.int_asserted and rtc.fired() == TIMER


def test_timer_periods_and_limits():
    t, chip, bus, rtc = started()
    assert rtc.set_timer(1) == 1
    assert rtc.set_timer(255) == 255 and chip.regs[0x0E] == 0x82
    assert rtc.set_timer(256) == 240 and chip.regs[0x0F] == 4 and chip.regs[0x0E] == 0x83
    assert rtc.set_timer(3629) == 3600
    assert rtc.set_timer(3630) == 3660
    assert rtc.set_timer(15300) == 15300 and chip.regs[0x0F] == 255
    value_error(lambda: rtc.set_timer(15330), "255 min", "chain")
    value_error(lambda: rtc.set_timer(0), ">= 1")
    value_error(lambda: rtc.set_timer(-5))
    value_error(lambda: rtc.set_timer(1.5))


def test_cancel_timer():
    t, chip, bus, rtc = started()
    rtc.set_timer(10)
    t[0] += 10000
    assert chip.int_asserted
    rtc.cancel_timer()
    assert not chip.int_asserted
    assert chip.regs[0x0E] == 0x03 and chip.regs[0x01] == 0x00
    t[0] += HOUR
    assert not chip.int_asserted and rtc.fired() == 0 and chip.timer_fires == 1


# -- alarm ---------------------------------------------------------------------------------------------------------

def test_alarm_matching():
    t, chip, bus, rtc = started((2026, 12, 3, 3, 13, 44, 30))
    rtc.set_timer(3600)  # armed: must stay untouched
    rtc.set_alarm(minute=45)
    assert list(chip.regs[0x09:0x0D]) == [0x45, 0x80, 0x80, 0x80] and chip.regs[0x01] & 0x03 == 0x03
    t[0] += 29 * 1000
    assert not chip.int_asserted
    t[0] += 2000
    assert chip.int_asserted
    assert rtc.fired() == ALARM
    assert not chip.int_asserted
    assert chip.regs[0x01] & 0x01 and chip.regs[0x0E] == 0x83 and chip.regs[0x0F] == 59  # the timer counts on
    rtc.set_datetime((2026, 12, 3, 3, 13, 59, 0))
    rtc.set_alarm(hour=14, minute=0)
    chip.advance_ms(59 * 1000)  # 13:59:59.5
    assert rtc.datetime()[4:] == (13, 59, 59) and not chip.int_asserted
    chip.advance_ms(1000)
    assert rtc.datetime()[4:] == (14, 0, 0) and chip.int_asserted
    assert rtc.fired() == ALARM


def test_alarm_on_day_and_weekday():
    t, chip, bus, rtc = started((2026, 12, 3, 3, 23, 59, 0))  # Thursday
    rtc.set_alarm(weekday=4, hour=0, minute=0)  # Friday midnight
    chip.advance_ms(61 * 1000)
    assert chip.int_asserted and rtc.datetime()[:4] == (2026, 12, 4, 4)
    assert rtc.fired() == ALARM
    rtc.set_alarm(day=25, hour=8, minute=30)
    chip.advance_ms(20 * 24 * HOUR)  # to Dec 24, 00:00:01
    assert not chip.int_asserted
    chip.advance_ms(24 * HOUR + 8 * HOUR + 30 * MINUTE)  # Dec 25, 08:30:01
    assert chip.int_asserted and rtc.datetime()[1:3] == (12, 25) and rtc.datetime()[4:6] == (8, 30)
    assert rtc.fired() == ALARM and chip.alarm_fires == 2


def test_an_alarm_without_minute_fires_each_minute_of_its_hour():
    t, chip, bus, rtc = started((2026, 12, 3, 3, 6, 59, 0))
    rtc.set_alarm(hour=7)
    chip.advance_ms(61 * 1000)
    assert rtc.fired() == ALARM
    chip.advance_ms(MINUTE)
    assert rtc.fired() == ALARM
    chip.advance_ms(HOUR)
    assert chip.alarm_fires == 60


def test_alarm_arguments():
    t, chip, bus, rtc = started()
    value_error(rtc.set_alarm, "at least one")
    value_error(lambda: rtc.set_alarm(minute=60), "minute")
    value_error(lambda: rtc.set_alarm(hour=24), "hour")
    value_error(lambda: rtc.set_alarm(day=0), "day")
    value_error(lambda: rtc.set_alarm(weekday=7), "weekday")


def test_cancel_alarm():
    t, chip, bus, rtc = started((2026, 12, 3, 3, 13, 44, 30))
    rtc.set_alarm(minute=45)
    t[0] += MINUTE
    assert chip.int_asserted
    rtc.cancel_alarm()
    assert not chip.int_asserted
    assert list(chip.regs[0x09:0x0D]) == [0x80, 0x80, 0x80, 0x80] and chip.regs[0x01] == 0x00
    chip.advance_ms(2 * HOUR)
    assert rtc.fired() == 0 and chip.alarm_fires == 1


# -- fired(): both flags, and the one that rises meanwhile ---------------------------------------------------------

def test_fired_reports_both_and_clears_both():
    t, chip, bus, rtc = started((2026, 12, 3, 3, 13, 44, 50))
    rtc.set_alarm(minute=45)
    rtc.set_timer(5)
    t[0] += 20 * 1000
    assert rtc.fired() == TIMER | ALARM
    assert chip.regs[0x01] & 0x0C == 0 and not chip.int_asserted


def test_fired_does_not_clear_a_flag_that_rises_between_its_read_and_its_write():
    t = [0]
    chip = SimPCF8563(clock=lambda: t[0])
    hook = {"at": -1}

    def before():
        if bus.transactions == hook["at"]:
            chip.advance_ms(2000)  # the alarm minute comes while fired() is between its read and its write

    bus = SimI2C(before=before)
    bus.attach(chip)
    rtc = PCF8563(bus).start()
    rtc.set_datetime((2026, 12, 3, 3, 13, 44, 49))
    rtc.set_alarm(minute=45)
    rtc.set_timer(10)
    t[0] += 10 * 1000  # 13:44:59.5: the timer ran out, the alarm not yet
    assert chip.int_asserted and chip.regs[0x01] & 0x0C == 0x04
    hook["at"] = bus.transactions + 2  # fired(): read (transaction +1), then write (+2)
    assert rtc.fired() == TIMER
    assert chip.regs[0x01] & 0x0C == 0x08  # AF survived: written 1, "remains unchanged"
    assert chip.int_asserted
    assert rtc.fired() == ALARM and not chip.int_asserted


def test_sim_flags_follow_the_data_sheet_logic_and():
    t, chip, bus, rtc = started()
    chip.regs[0x01] = 0x0F  # AF, TF, AIE, TIE
    bus.writeto_mem(0x51, 0x01, b"\x0b")  # TF written 0: cleared; AF written 1: unchanged
    assert chip.regs[0x01] == 0x0B
    bus.writeto_mem(0x51, 0x01, b"\x0f")  # writing 1 never sets a flag
    assert chip.regs[0x01] == 0x0B
    bus.writeto_mem(0x51, 0x01, b"\x00")
    assert chip.regs[0x01] == 0x00


def test_sim_auto_increment_wraps_and_stop_freezes_time():
    t, chip, bus, rtc = started()
    bus.writeto_mem(0x51, 0x0F, b"\x07\x20")  # Timer, then wraps to Control_status_1: STOP
    assert chip.regs[0x0F] == 7 and chip.regs[0x00] == 0x20
    before = bus.readfrom_mem(0x51, 0x02, 7)
    chip.advance_ms(HOUR)
    assert bus.readfrom_mem(0x51, 0x02, 7) == before
    assert bus.readfrom_mem(0x51, 0x0F, 3) == b"\x07\x20\x00"
    bus.writeto_mem(0x51, 0x00, b"\x00")
    chip.advance_ms(507)
    assert rtc.datetime()[6] == 0
    chip.advance_ms(1)  # the first second after STOP's release: 0.508 s
    assert rtc.datetime()[6] == 1


def test_sim_pulse_mode():
    t, chip, bus, rtc = started()
    bus.writeto_mem(0x51, 0x0E, b"\x02\x02")  # 1 Hz source, n = 2, not yet enabled
    bus.writeto_mem(0x51, 0x01, b"\x1d")  # TI_TP, TIE (AF written 1: unchanged)
    bus.writeto_mem(0x51, 0x0E, b"\x82")  # TE
    t[0] += 1500  # the second ticks at 508 ms and 1508 ms after STOP's release
    assert not chip.int_asserted
    t[0] += 10
    assert chip.int_asserted and chip.regs[0x01] & 0x04
    t[0] += 20
    assert not chip.int_asserted and chip.regs[0x01] & 0x04  # the 1/64 s pulse is over, TF stays


# -- buses and faults ----------------------------------------------------------------------------------------------

def test_on_the_simulator_bus_beside_the_accelerometer():
    t = [0]
    bus = SimI2C()
    bus.attach(SimLIS3DH(0x18))
    chip = bus.attach(SimPCF8563(clock=lambda: t[0]))
    assert bus.scan() == [0x18, 0x51]
    rtc = PCF8563(bus).start()
    rtc.set_timer(10)
    t[0] += 10000
    assert chip.int_asserted and rtc.fired() == TIMER


def test_on_a_bus_built_with_its_chips():
    t = [0]
    chip = SimPCF8563(clock=lambda: t[0])
    bus = SimI2C(SimLIS3DH(), chip)
    rtc = PCF8563(bus).start()
    rtc.set_epoch(849620485)
    assert rtc.datetime() == (2026, 12, 3, 3, 13, 41, 25)
    rtc.set_timer(60)
    t[0] += 60000
    assert rtc.fired() == TIMER and not chip.int_asserted


def test_default_clock():
    chip = SimPCF8563()  # drivers.compat.ticks_ms
    bus = SimI2C()
    bus.attach(chip)
    rtc = PCF8563(bus).start()
    rtc.set_datetime((2026, 12, 3, 3, 13, 41, 25))
    assert rtc.datetime()[:4] == (2026, 12, 3, 3)


def test_bus_failure_mid_run():
    t, chip, bus, rtc = started()
    rtc.set_timer(10)
    bus.fail = 1
    raises(rtc.fired, "PCF8563", "0x51", "stopped answering", "01h", "wiring")
    chip.fail = 1
    raises(rtc.datetime, "PCF8563", "0x51", "02h")
    chip.absent = True
    raises(lambda: rtc.set_alarm(minute=5), "stopped answering", "09h")
    chip.absent = False
    t[0] += 10000
    assert rtc.fired() == TIMER  # the bus is back: so is the driver


def test_bus_failure_while_setting_the_time_leaves_a_stopped_clock_that_start_reports():
    t = [0]
    chip = SimPCF8563(clock=lambda: t[0])
    bus = FlakyI2C(1000, chip)
    rtc = PCF8563(bus).start()
    rtc.set_datetime((2026, 12, 3, 3, 13, 41, 25))
    bus.ok = bus.transactions + 1  # STOP written, then the wire comes loose
    raises(lambda: rtc.set_datetime((2027, 1, 1, 4, 0, 0, 0)), "stopped answering", "02h")
    assert chip.regs[0x00] & 0x20
    bus.ok = 1 << 30
    again = PCF8563(bus).start()
    assert again.lost_power is True and chip.regs[0x00] == 0x00


# -- allocation ----------------------------------------------------------------------------------------------------

def test_fired_allocates_nothing():
    t, chip, bus, rtc = started()
    rtc.set_timer(10)
    t[0] += 10000
    assert rtc.fired() == TIMER  # warm-up
    keys = sorted(rtc.__dict__) if hasattr(rtc, "__dict__") else None
    if hasattr(gc, "mem_alloc"):  # MicroPython: count heap bytes, the simulated chip's time-keeping included
        gc.collect()
        gc.disable()
        before = gc.mem_alloc()
        for _ in range(8):  # 80 s: a minute change and its alarm comparison included
            t[0] += 10000
            r1 = rtc.fired()
            r2 = rtc.fired()
        after = gc.mem_alloc()
        gc.enable()
        assert after - before == 0, after - before
        assert r1 == TIMER and r2 == 0
    else:  # CPython: no state grows and the answer is a small int
        for _ in range(5):
            t[0] += 10000
            assert rtc.fired() == TIMER
        assert sorted(rtc.__dict__) == keys
        assert type(rtc.fired()) is int
