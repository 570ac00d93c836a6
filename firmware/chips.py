"""The drivers of the chips on the board's I2C bus that the firmware uses beside the board itself: the
accelerometer and the external real-time clock. Each driver module is imported only when the board has its chip,
so the heap holds only the drivers in use."""


def build_imu(board):
    """The accelerometer driver for board.imu_model on board.i2c (not started), or None when the board has none."""
    if not board.imu_model or board.i2c is None:
        return None
    from drivers.imu import build

    return build(board.i2c, board.imu_model, address=board.imu_address, range_g=8, rate_hz=100)


def build_rtc(board):
    """The external RTC's driver (started), or None when the board has none or it does not answer (the board then
    sleeps on its own timer, which costs more: logged by the caller)."""
    if not getattr(board, "rtc_model", None) or board.i2c is None:
        return None
    if board.rtc_model not in ("PCF8563", "BM8563"):  # the BM8563 is register-compatible
        raise ValueError("no driver for the RTC %r" % (board.rtc_model,))
    from drivers.rtc.pcf8563 import PCF8563

    return PCF8563(board.i2c, address=board.rtc_address or 0x51).start()
