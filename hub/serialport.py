"""The hub's serial transport for drivers.at: a pyserial port shaped like MicroPython's machine.UART.

drivers.at polls `any()` and reads without blocking, so the same driver code runs on the wearable's UART and
on the hub's USB serial adapter or a simulator's pseudo-terminal.
"""
import serial


class SerialPortError(OSError):
    """The port cannot be opened or used; the message names the port and what went wrong."""


class SerialUART:
    """`any()` -> bytes waiting, `read(n)` -> bytes or None (never blocks), `write(data)` -> bytes written."""

    def __init__(self, port, baudrate=115200, write_timeout_s=2.0):
        self.port = port
        self.baudrate = baudrate
        self.write_timeout_s = write_timeout_s
        self._serial = None

    def open(self):
        try:
            # timeout=0: read() returns at once with what is there; the driver does the waiting.
            self._serial = serial.Serial(self.port, self.baudrate, timeout=0, write_timeout=self.write_timeout_s)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise SerialPortError(f"cannot open serial port {self.port!r}: {exc}") from exc
        return self

    def close(self):
        if self._serial is not None:
            try:
                self._serial.close()
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
            raise SerialPortError(f"serial port {self.port!r} is not open")
        return self._serial

    def any(self):
        try:
            return self._port().in_waiting
        except (serial.SerialException, OSError) as exc:
            raise SerialPortError(f"serial port {self.port!r}: {exc}") from exc

    def read(self, n=-1):
        port = self._port()
        try:
            if n is None or n < 0:
                n = port.in_waiting
            data = port.read(n) if n else b""
        except (serial.SerialException, OSError) as exc:
            raise SerialPortError(f"serial port {self.port!r}: {exc}") from exc
        return data or None

    def write(self, data):
        try:
            written = self._port().write(bytes(data))
        except serial.SerialTimeoutException as exc:
            raise SerialPortError(f"serial port {self.port!r}: write timed out") from exc
        except (serial.SerialException, OSError) as exc:
            raise SerialPortError(f"serial port {self.port!r}: {exc}") from exc
        return len(data) if written is None else written
