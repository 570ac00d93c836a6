"""A minimal AT client over a serial device (pyserial), used to drive simulated modems from tests and the demo.

Not the hub's modem driver (drivers/at.py is): this one is deliberately simple, so that a test of the simulator
does not depend on the driver it is meant to exercise.
"""
import time

import serial

FINALS = (b"OK", b"ERROR", b"+CME ERROR:", b"+CMS ERROR:", b"NO CARRIER")


class ATPort:
    def __init__(self, path, baudrate=115200, timeout=5.0):
        self.path = path
        self.baudrate = baudrate
        self.timeout = timeout
        self.serial = None
        self.buffer = b""

    def open(self):
        self.serial = serial.Serial(self.path, self.baudrate, timeout=0.05)
        return self

    def close(self):
        if self.serial is not None:
            self.serial.close()
            self.serial = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()

    def write(self, data):
        self.serial.write(data)

    def _fill(self):
        chunk = self.serial.read(1)  # returns at the first byte (or after 50 ms of silence)
        if chunk and self.serial.in_waiting:
            chunk += self.serial.read(self.serial.in_waiting)
        self.buffer += chunk
        return chunk

    def read_until(self, predicate, timeout=None):
        """Read until predicate(buffer) is true; return and consume the buffer. TimeoutError names what came."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while not predicate(self.buffer):
            if time.monotonic() > deadline:
                raise TimeoutError("no match; received %r" % self.buffer)
            self._fill()
        out, self.buffer = self.buffer, b""
        return out

    def expect(self, needle, timeout=None):
        """Read until `needle` (bytes) has arrived; returns everything up to and including it, keeps the rest."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while needle not in self.buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("waiting for %r; received %r" % (needle, self.buffer))
            self._fill()
        end = self.buffer.index(needle) + len(needle)
        out, self.buffer = self.buffer[:end], self.buffer[end:]
        return out

    def drain(self, quiet=0.1):
        """Read whatever comes until the line has been quiet for `quiet` seconds."""
        last = time.monotonic()
        while time.monotonic() - last < quiet:
            if self._fill():
                last = time.monotonic()
        out, self.buffer = self.buffer, b""
        return out

    def command(self, cmd, timeout=None):
        """Send one command line; return (info lines, final result line) with the echo stripped."""
        if isinstance(cmd, str):
            cmd = cmd.encode()
        self.write(cmd + b"\r")
        return parse_response(self.read_final(timeout), cmd)

    def read_final(self, timeout=None):
        """Read through the next final result code (OK, ERROR, +CME/+CMS ERROR); keep what follows."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while True:
            end = _final_end(self.buffer)
            if end >= 0:
                out, self.buffer = self.buffer[:end], self.buffer[end:]
                return out
            if time.monotonic() > deadline:
                raise TimeoutError("no final result code; received %r" % self.buffer)
            self._fill()

    def urc(self, prefix, timeout=None):
        """Wait for a complete line starting with prefix (bytes); return it (str) and consume through it."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while True:
            pos = 0
            while True:
                nl = self.buffer.find(b"\n", pos)
                if nl < 0:
                    break
                line = self.buffer[pos:nl].strip(b"\r")
                if line.startswith(prefix):
                    self.buffer = self.buffer[nl + 1:]
                    return line.decode("latin-1")
                pos = nl + 1
            if time.monotonic() > deadline:
                raise TimeoutError("waiting for %r; received %r" % (prefix, self.buffer))
            self._fill()

    def send_pdu(self, length, pdu_hex, timeout=None):
        """AT+CMGS=<length>, wait for the prompt, send the PDU and Ctrl-Z; returns (info lines, final)."""
        self.write(b"AT+CMGS=%d\r" % length)
        self.expect(b"> ", timeout)
        self.write(pdu_hex.encode() + b"\x1a")
        return parse_response(self.read_final(timeout), pdu_hex.encode())


def _lines(raw):
    return [line for line in raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")]


def _final_end(buffer):
    """Index just past the first complete final result line, or -1."""
    pos = 0
    while True:
        nl = buffer.find(b"\n", pos)
        if nl < 0:
            return -1
        line = buffer[pos:nl].strip(b"\r")
        for cr_line in line.split(b"\r"):
            if cr_line.startswith(FINALS):
                return nl + 1
        pos = nl + 1


def parse_response(raw, echo=b""):
    lines = [line.decode("latin-1") for line in _lines(raw) if line and line != echo]
    for i, line in enumerate(lines):
        if line.encode().startswith(FINALS):
            return lines[:i], line
    return lines, None
