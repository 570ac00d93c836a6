"""The async UART reader and the receiver power commands (MicroPython too).

FakeReceiverUART simulates the receiver side of a UART: bytes arrive in bursts of the size a real UART FIFO
delivers, read(n) never blocks, and what the driver writes is recorded as the receiver would see it.
"""
import asyncio

from drivers.compat import asleep_ms
from drivers.gps import GPS, standby, standby_command, ubx_frame, ubx_pmreq_backup, wake, wake_command
from drivers.nmea import frame

EPOCH = b"".join(frame(b) for b in (
    b"GNRMC,120000.00,A,1325.90200,N,00612.94200,W,0.0,,230526,,,A,V",
    b"GNGGA,120000.00,1325.90200,N,00612.94200,W,1,08,1.00,300.0,M,17.0,M,,",
    b"GNGSA,A,3,02,05,12,13,15,18,20,25,,,,,1.80,1.00,1.50,1",
))


class FakeReceiverUART:
    def __init__(self, data, burst=32):
        self.pending = data
        self.burst = burst
        self.written = b""
        self.reads = 0

    def any(self):
        return min(len(self.pending), self.burst)

    def read(self, n):
        self.reads += 1
        if not self.pending:
            return None
        out = self.pending[:n]
        self.pending = self.pending[n:]
        return out

    def write(self, data):
        self.written += bytes(data)
        return len(data)


def test_run_feeds_everything_then_stops():
    uart = FakeReceiverUART(b"\x00\xff" + EPOCH * 3, burst=17)
    gps = GPS()
    ticks = [0]

    def clock():
        ticks[0] += 10
        return ticks[0]

    async def stopper():
        for _ in range(500):
            if not uart.pending:
                break
            await asleep_ms(1)
        gps.stop()

    async def main():
        await asyncio.gather(gps.run(uart, poll_ms=1, chunk=64, clock=clock), stopper())

    asyncio.run(main())
    assert uart.pending == b""
    f = gps.fix(ticks[0])
    assert f is not None and f["mode"] == "3d" and f["sats"] == 8
    assert gps.parser.sentences == 9
    assert gps.parser.noise_bytes == 2


def test_ubx_checksum_matches_a_published_frame():
    # UBX-CFG-RXM power-save as published with its checksum: B5 62 06 11 02 00 08 01 22 92
    assert ubx_frame(0x06, 0x11, b"\x08\x01") == bytes((0xB5, 0x62, 0x06, 0x11, 0x02, 0x00, 0x08, 0x01, 0x22, 0x92))


def test_neo_m8n_backup_request():
    cmd = ubx_pmreq_backup()
    assert cmd[:6] == bytes((0xB5, 0x62, 0x02, 0x41, 16, 0))
    payload = cmd[6:22]
    assert payload[0] == 0  # version
    assert payload[4:8] == bytes(4)  # duration 0: until woken
    assert payload[8:12] == bytes((2, 0, 0, 0))  # backup
    assert payload[12:16] == bytes((8, 0, 0, 0))  # wake on UART RX
    assert len(cmd) == 24
    uart = FakeReceiverUART(b"")
    standby(uart, "neo-m8n")
    assert uart.written == cmd
    wake(uart, "neo-m8n")
    assert uart.written.endswith(b"\xff" * 8)


def test_l76k_commands():
    # published strings: $PCAS12,65535*1E (standby), $PCAS10,3*1F (factory restart) share our checksum
    assert standby_command("l76k") == b"$PCAS12,65535*1E\r\n"
    assert standby_command("l76k", 60) == frame(b"PCAS12,60")
    assert wake_command("l76k").endswith(b"$PCAS10,0*1C\r\n")
    assert frame(b"PCAS10,3") == b"$PCAS10,3*1F\r\n"


def test_gps_wake_restarts_ttff_and_keeps_last_fix():
    gps = GPS()
    gps.wake(0)
    gps.feed(EPOCH, 30000)
    assert gps.ttff_ms == 30000
    uart = FakeReceiverUART(b"")
    gps.sleep(31000, uart, "l76k")
    assert uart.written.startswith(b"$PCAS12")
    assert gps.fix(31000) is None
    assert gps.last_fix(40000)["age_ms"] == 10000
    gps.wake(100000, uart, "l76k")
    assert gps.ttff_ms is None
    gps.feed(EPOCH, 104000)
    assert gps.ttff_ms == 4000


def test_unknown_model_is_a_clear_error():
    try:
        standby_command("sirf")
    except ValueError as exc:
        assert "sirf" in str(exc)
    else:
        raise AssertionError("no error for an unknown receiver model")


def test_model_spellings_from_the_pinout():
    assert standby_command("L76K") == standby_command("l76k")
    assert wake_command("NEO-M8N") == wake_command("ublox")
