"""hub.platform.serialport over real pseudo-terminals: the machine.UART shape drivers.at expects, and a port that
disappears (adapter unplugged) and comes back under the same name (udev symlink) heals without a restart."""
import asyncio
import os
import select
import threading
import tty

import pytest

from drivers.at import ATChannel, ATError
from hub.platform.serialport import SerialPortError, SerialUART


class OkPeer:
    """A pty whose far end answers every command line with OK."""

    def __init__(self):
        master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self.slave = slave  # kept open so the slave side exists until the peer is "unplugged"
        self.master = master
        self.running = True
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while self.running:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready and self.running:
                try:
                    data = os.read(self.master, 1024)
                except OSError:
                    return
                for _ in range(data.count(b"\r")):
                    os.write(self.master, b"\r\nOK\r\n")

    def unplug(self):
        self.running = False
        self.thread.join(timeout=2)
        os.close(self.master)
        os.close(self.slave)


def test_uart_shape_on_a_pty():
    peer = OkPeer()
    uart = SerialUART(peer.path).open()
    try:
        assert uart.any() == 0 and uart.read(10) is None
        assert uart.write(b"AT\r") == 3
        for _ in range(200):
            if uart.any() >= 6:
                break
            select.select([], [], [], 0.005)
        assert uart.read(100) == b"\r\nOK\r\n"
    finally:
        uart.close()
        peer.unplug()
    with pytest.raises(SerialPortError, match="not open"):
        uart.any()


def test_unplugged_adapter_is_reopened_under_the_same_name(tmp_path):
    link = tmp_path / "ttyMODEM"
    first = OkPeer()
    link.symlink_to(first.path)
    uart = SerialUART(str(link), reopen_s=0.05).open()
    ch = ATChannel(uart, poll_ms=2)

    async def run():
        ch.start()
        assert await ch.command("AT") == []
        first.unplug()
        second = OkPeer()
        link.unlink()
        link.symlink_to(second.path)
        failures = 0
        for _ in range(100):
            try:
                await ch.command("AT", timeout_ms=200)
                break
            except ATError:
                failures += 1
                await asyncio.sleep(0.02)
        ch.stop()
        second.unplug()
        return failures

    try:
        failures = asyncio.run(run())
    finally:
        uart.close()
    assert failures >= 1 and uart.reopens >= 1
