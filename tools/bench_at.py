"""AT channel figures: command round trip over a real pseudo-terminal (driver vs raw pyserial, against a minimal
OK peer and against the modem simulator), SMS submission through the simulator, and the line framer's throughput
on CPython and on the MicroPython unix port. Figures, not pass/fail."""
import asyncio
import os
import select
import statistics
import threading
import time
import tty

import serial

from drivers.at import ATChannel, ATTimeout
from drivers.modem import Modem
from hub.platform.serialport import SerialUART
from sim.modem import SimulatedModem
from tests.support.micropython import REPO, run_micropython

ROUND_TRIPS = 300


class OkPeer:
    """The smallest modem: answers every command line with OK, at once."""

    def __init__(self):
        self.master = None
        self.path = None
        self.running = False
        self.thread = None

    def start(self):
        master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        os.close(slave)
        self.master = master
        self.running = True
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        return self

    def _loop(self):
        while self.running:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                time.sleep(0.01)
                continue
            for _ in range(data.count(b"\r")):
                os.write(self.master, b"\r\nOK\r\n")

    def stop(self):
        self.running = False
        self.thread.join(timeout=2)
        os.close(self.master)


def _summary(samples_s):
    ms = sorted(s * 1000 for s in samples_s)
    return f"median {statistics.median(ms):.3f} ms, p95 {ms[int(len(ms) * 0.95) - 1]:.3f} ms"


def raw_round_trips(path, n=ROUND_TRIPS):
    port = serial.Serial(path, 115200, timeout=1)
    out = []
    try:
        for _ in range(n):
            t = time.perf_counter()
            port.write(b"AT\r")
            buf = b""
            while not buf.endswith(b"OK\r\n"):
                buf += port.read(port.in_waiting or 1)
            out.append(time.perf_counter() - t)
    finally:
        port.close()
    return out


def driver_round_trips(path, poll_ms, n=ROUND_TRIPS):
    uart = SerialUART(path).open()
    ch = ATChannel(uart, poll_ms=poll_ms)

    async def run():
        ch.start()
        for _ in range(10):  # warm-up: a simulator that just booted may drop the very first bytes
            try:
                await ch.command("AT", timeout_ms=500)
                break
            except ATTimeout:
                pass
        out = []
        for _ in range(n):
            t = time.perf_counter()
            await ch.command("AT")
            out.append(time.perf_counter() - t)
        ch.stop()
        return out

    try:
        return asyncio.run(run())
    finally:
        uart.close()


def sms_submissions(n=50):
    sim = SimulatedModem("+22376000001", profile="sim800l", time_scale=0).start()
    sim.wait_ready()
    uart = SerialUART(sim.pty_path).open()
    modem = Modem(uart, poll_ms=1, auto_fetch=False)

    async def run():
        await modem.start()
        out = []
        for i in range(n):
            t = time.perf_counter()
            await modem.send_sms("+22376000002", "SOS id=7 n=%d lat=12.6392 lon=-8.0029" % i)
            out.append(time.perf_counter() - t)
        await modem.stop()
        return out

    try:
        return asyncio.run(run())
    finally:
        uart.close()
        sim.stop()


FRAMER_SCRIPT = """
import time
from drivers.at import ATChannel, ATTimeout
class U:
    def any(self): return 0
    def read(self, n): return None
    def write(self, d): return len(d)
n = []
ch = ATChannel(U(), urc_handler=lambda l, e: n.append(1))
chunk = (b'\\r\\n+CSQ: 18,0\\r\\n\\r\\n+CMTI: "SM",3\\r\\n' * 7
         + b'\\r\\n+CDS: 150\\r\\n0791' + b'A5' * 150 + b'\\r\\n')
t = time.ticks_ms() if hasattr(time, 'ticks_ms') else int(time.time() * 1000)
for _ in range(200):
    ch.feed(chunk)
t2 = time.ticks_ms() if hasattr(time, 'ticks_ms') else int(time.time() * 1000)
print(len(n), t2 - t)
"""


def framer_throughput():
    ns = {"print": lambda *a: None}
    t = time.perf_counter()
    exec(compile(FRAMER_SCRIPT, "framer", "exec"), ns)
    cpython_s = time.perf_counter() - t
    script = REPO / "build" / "bench_at_framer.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(FRAMER_SCRIPT)
    result = run_micropython(script, heap="256k")
    return cpython_s, result.stdout.strip()


def main():
    peer = OkPeer().start()
    try:
        raw = raw_round_trips(peer.path)
        print(f"OK peer, raw pyserial write+read:        {_summary(raw)}")
        for poll in (1, 5):
            drv = driver_round_trips(peer.path, poll)
            print(f"OK peer, ATChannel.command (poll {poll} ms):  {_summary(drv)}; overhead vs raw "
                  f"{(statistics.median(drv) - statistics.median(raw)) * 1000:.3f} ms")
    finally:
        peer.stop()
    sim = SimulatedModem("+22376000001", profile="a7670e", time_scale=0).start()
    sim.wait_ready()
    try:
        print(f"simulator (A7670E), ATChannel AT (poll 1 ms): {_summary(driver_round_trips(sim.pty_path, 1))}")
    finally:
        sim.stop()
    sms = sms_submissions()
    print(f"simulator (SIM800L, no network delay), send_sms of one part: {_summary(sms)}")
    cpython_s, mp = framer_throughput()
    lines = 200 * 16
    print(f"framer+router, {lines} lines (1 in 16 a 304-digit PDU): CPython {cpython_s * 1000:.1f} ms "
          f"({lines / cpython_s:.0f} lines/s); MicroPython unix port: {mp.split()[-1] if mp else '?'} ms")


if __name__ == "__main__":
    main()
