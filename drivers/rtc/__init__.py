"""External real-time clocks over an injected bus with the machine.I2C memory interface (drivers/rtc/pcf8563.py).

Also the calendar arithmetic they share, in integers only (no `time` module), so it gives the same result on
MicroPython and CPython: seconds since 2000-01-01 00:00:00 (MicroPython's epoch on most ports), proleptic
Gregorian calendar, weekday 0 = Monday .. 6 = Sunday (as MicroPython's time.localtime and machine.RTC).
"""

EPOCH_YEAR = 2000
_DAYS_1970_TO_2000 = 10957
MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = 0, 1, 2, 3, 4, 5, 6


class RTCError(OSError):
    """The clock chip is missing, is another chip, or the bus failed; the message names the chip, its address and
    what to check. An OSError, like the bus errors it replaces, so `except OSError` around I2C code still works."""


def is_leap(year):
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year, month):
    if month == 2:
        return 29 if is_leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def days_from_civil(year, month, day):
    """Days from 2000-01-01 to the date (negative before). H. Hinnant's days_from_civil, in integers."""
    y = year - 1 if month <= 2 else year
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month - 3 if month > 2 else month + 9) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468 - _DAYS_1970_TO_2000


def civil_from_days(days):
    """(year, month, day) of the date `days` after 2000-01-01. H. Hinnant's civil_from_days, in integers."""
    z = days + _DAYS_1970_TO_2000 + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    return year, month, day


def weekday(days):
    """Weekday (0 = Monday) of the date `days` after 2000-01-01, a Saturday."""
    return (days + SATURDAY) % 7


def check_datetime(year, month, day, hour, minute, second, first_year=EPOCH_YEAR, last_year=2199):
    """Raises ValueError naming the first field out of range (years limited to what the chip can hold)."""
    if not first_year <= year <= last_year:
        raise ValueError("year %r outside %d..%d" % (year, first_year, last_year))
    if not 1 <= month <= 12:
        raise ValueError("month %r outside 1..12" % (month,))
    if not 1 <= day <= days_in_month(year, month):
        raise ValueError("day %r outside 1..%d for %04d-%02d" % (day, days_in_month(year, month), year, month))
    if not 0 <= hour <= 23:
        raise ValueError("hour %r outside 0..23" % (hour,))
    if not 0 <= minute <= 59:
        raise ValueError("minute %r outside 0..59" % (minute,))
    if not 0 <= second <= 59:
        raise ValueError("second %r outside 0..59" % (second,))


def to_epoch(year, month, day, hour, minute, second):
    """Seconds since 2000-01-01 00:00:00 (a big int on a 32-bit port after 2034: do not call it per sample)."""
    return ((days_from_civil(year, month, day) * 24 + hour) * 60 + minute) * 60 + second


def from_epoch(seconds):
    """(year, month, day, weekday, hour, minute, second) of `seconds` since 2000-01-01 00:00:00."""
    days = seconds // 86400
    rest = seconds - days * 86400
    year, month, day = civil_from_days(days)
    return year, month, day, weekday(days), rest // 3600, rest // 60 % 60, rest % 60
