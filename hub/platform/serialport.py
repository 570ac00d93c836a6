"""The hub's serial transport for drivers.at: a pyserial port shaped like MicroPython's machine.UART.

drivers.at polls `any()` and reads without blocking, so the same driver code runs on the wearable's UART and
on the hub's USB serial adapter or a simulator's pseudo-terminal.

A USB adapter that is unplugged (or a modem that re-enumerates after a power cycle) makes the port fail: the
port is then closed, the error raised once (the driver sees a transient link error), and every later call tries
to reopen the same path, at most once per `reopen_s`. With a stable udev name (/dev/serial/by-id/...) the link
comes back by itself when the device does.
"""
import time

import serial


class SerialPortError(OSError):
    """The port cannot be opened or used; the message names the port and what went wrong."""


class SerialUART:
    """`any()` -> bytes waiting, `read(n)` -> bytes or None (never blocks), `write(data)` -> bytes written."""

    def __init__(self, port, baudrate=115200, write_timeout_s=2.0, reopen_s=1.0):
        self.port = port
        self.baudrate = baudrate
        self.write_timeout_s = write_timeout_s
        self.reopen_s = reopen_s
        self.reopens = 0
        self._serial = None
        self._wanted = False  # open() was called and close() was not: failures are healed by reopening
        self._last_try = 0.0

    def open(self):
        self._serial = self._connect()
        self._wanted = True
        return self

    def _connect(self):
        try:
            # timeout=0: read() returns at once with what is there; the driver does the waiting.
            return serial.Serial(self.port, self.baudrate, timeout=0, write_timeout=self.write_timeout_s)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise SerialPortError(f"cannot open serial port {self.port!r}: {exc}") from exc

    def close(self):
        self._wanted = False
        self._drop()

    def _drop(self):
        if self._serial is not None:
            try:
                self._serial.close()
            except (serial.SerialException, OSError):
                pass
            finally:
                self._serial = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()

    @property
    def is_open(self):
        return self._serial is not None

    def _port(self):
        if self._serial is None:
            if not self._wanted:
                raise SerialPortError(f"serial port {self.port!r} is not open")
            now = time.monotonic()
            if now - self._last_try < self.reopen_s:
                raise SerialPortError(f"serial port {self.port!r} is gone; retrying")
            self._last_try = now
            self._serial = self._connect()
            self.reopens += 1
        return self._serial

    def _failed(self, exc, what):
        self._drop()
        self._last_try = time.monotonic()
        return SerialPortError(f"serial port {self.port!r}: {what}: {exc}")

    def any(self):
        port = self._port()
        try:
            return port.in_waiting
        except (serial.SerialException, OSError) as exc:
            raise self._failed(exc, "status") from exc

    def read(self, n=-1):
        port = self._port()
        try:
            if n is None or n < 0:
                n = port.in_waiting
            data = port.read(n) if n else b""
        except (serial.SerialException, OSError) as exc:
            raise self._failed(exc, "read") from exc
        return data or None

    def write(self, data):
        port = self._port()
        try:
            written = port.write(bytes(data))
        except (serial.SerialException, OSError) as exc:  # SerialTimeoutException included
            raise self._failed(exc, "write") from exc
        return len(data) if written is None else written
