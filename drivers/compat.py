"""The only module that branches on the runtime (MicroPython or CPython).

Ticks wrap like MicroPython's (period 2**30 ms) on CPython too, so code that is correct on the device is the code
the CPython tests exercise.
"""
import sys

MICROPYTHON = sys.implementation.name == "micropython"

if MICROPYTHON:
    import asyncio  # noqa: F401
    import time

    from micropython import const  # noqa: F401

    ticks_ms = time.ticks_ms  # type: ignore[attr-defined]  # MicroPython-only names
    ticks_diff = time.ticks_diff  # type: ignore[attr-defined]
    ticks_add = time.ticks_add  # type: ignore[attr-defined]
    sleep_ms = time.sleep_ms  # type: ignore[attr-defined]

    def asleep_ms(ms):
        return asyncio.sleep_ms(ms)

    def wall_time():
        """Seconds since the Unix epoch (MicroPython's unix port counts from 1970 too)."""
        return time.time()

else:
    import asyncio
    import time

    _TICKS_PERIOD = 1 << 30
    _TICKS_MAX = _TICKS_PERIOD - 1
    _TICKS_HALFPERIOD = _TICKS_PERIOD // 2

    def const(value):
        return value

    def ticks_ms():
        return int(time.monotonic() * 1000) & _TICKS_MAX

    def ticks_add(ticks, delta):
        return (ticks + delta) & _TICKS_MAX

    def ticks_diff(end, start):
        return ((end - start + _TICKS_HALFPERIOD) & _TICKS_MAX) - _TICKS_HALFPERIOD

    def sleep_ms(ms):
        time.sleep(ms / 1000)

    def asleep_ms(ms):
        return asyncio.sleep(ms / 1000)

    def wall_time():
        return int(time.time())
