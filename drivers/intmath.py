"""Integer helpers for the detectors: no floats on the sample path (the RP2040 has no FPU)."""


def isqrt(n):
    """Integer square root of 0 <= n < 2**30, bounded loop (Newton from above)."""
    if n <= 0:
        return 0
    x = n
    y = (x + 1) >> 1
    i = 0
    while y < x and i < 40:
        x = y
        y = (x + n // x) >> 1
        i += 1
    return x
