"""The simulated board, for the MicroPython unix port: the same interface as firmware/board.py (see
hardware/README.md, "Board interface"), with each peripheral on a pseudo-terminal held by the simulator
(hub/sim/wearable.py): the modem's UART, the GPS's UART, and a control line for the button, motor, LED,
battery and the modem's PWRKEY.

Control protocol (text lines): simulator -> board "btn 1", "btn 0", "bat <percent>";
board -> simulator "motor 1", "motor 0", "led 1", "led 0", "pwrkey".
"""
import select
import termios

from drivers.compat import asleep_ms

_VMIN = 6
_VTIME = 5


class PtyUART:
    """machine.UART's non-blocking subset (any, read, write) over a pty: VMIN=0/VTIME=0 makes read() return
    what is there at once, so bytes are pulled into a buffer and any() can tell exactly how many wait."""

    def __init__(self, path, rxbuf=2048):
        self.path = path
        self._file = open(path, "r+b")
        fd = self._file.fileno()
        termios.setraw(fd)
        attrs = termios.tcgetattr(fd)
        attrs[6][_VMIN] = 0
        attrs[6][_VTIME] = 0
        termios.tcsetattr(fd, termios.TCSANOW, attrs)
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN)
        self._chunk = bytearray(256)
        self._rx = bytearray()
        self._rxbuf = rxbuf

    def _pull(self):
        for _ in range(16):  # bounded: at most 4 KiB per call
            if not self._poll.poll(0):
                return
            n = self._file.readinto(self._chunk)
            if not n:
                return
            room = self._rxbuf - len(self._rx)
            if room <= 0:
                return  # like a real UART: the ring buffer overflows and bytes are lost
            self._rx.extend(self._chunk[:min(n, room)])

    def any(self):
        self._pull()
        return len(self._rx)

    def read(self, n=None):
        self._pull()
        if not self._rx:
            return None
        if n is None or n >= len(self._rx):
            data = bytes(self._rx)
            self._rx = bytearray()
        else:
            data = bytes(self._rx[:n])
            self._rx = self._rx[n:]
        return data

    def write(self, data):
        return self._file.write(data)


class _Control:
    def __init__(self, uart):
        self.uart = uart
        self.button = False
        self.battery = 100
        self._line = bytearray()

    def pump(self):
        data = self.uart.read()
        if not data:
            return
        for byte in data:
            if byte == 10:
                self._apply(bytes(self._line).decode().strip())
                self._line = bytearray()
            elif len(self._line) < 80:
                self._line.append(byte)

    def _apply(self, line):
        parts = line.split()
        if len(parts) != 2:
            return
        if parts[0] == "btn":
            self.button = parts[1] == "1"
        elif parts[0] == "bat" and parts[1].isdigit():
            self.battery = int(parts[1])

    def send(self, line):
        self.uart.write(line.encode() + b"\n")


class SimButton:
    def __init__(self, control):
        self.control = control

    def pressed(self):
        self.control.pump()
        return self.control.button

    def irq(self, handler):
        pass  # the app polls; the simulator has no interrupt line


class SimOutput:
    def __init__(self, control, name):
        self.control = control
        self.name = name
        self.state = False

    def on(self):
        self.state = True
        self.control.send(self.name + " 1")

    def off(self):
        if self.state:
            self.control.send(self.name + " 0")
        self.state = False

    def is_on(self):
        return self.state

    def strength(self, percent):
        if percent > 0:
            self.on()
        else:
            self.off()


class SimModemPower:
    timing = {"boot": 500}

    def __init__(self, control):
        self.control = control

    async def cycle(self):
        self.control.send("pwrkey")
        await asleep_ms(self.timing["boot"])

    async def on(self):
        pass

    async def off(self):
        pass


class SimBoard:
    mcu = "unix"
    modem_dtr = None
    modem_ri = None
    gps_enable = None
    i2c = None
    imu_int = None

    def __init__(self, control_path, modem_path, gps_path, name="sim", modem_model=None, gps_model="ublox"):
        self.name = name
        self.modem_model = modem_model
        self.gps_model = gps_model
        self.imu_model = None
        self._control = _Control(PtyUART(control_path, rxbuf=512))
        self.button = SimButton(self._control)
        self.motor = SimOutput(self._control, "motor")
        self.led = SimOutput(self._control, "led")
        self.modem_uart = PtyUART(modem_path, rxbuf=2048)
        self.modem_power = SimModemPower(self._control)
        self.gps_uart = PtyUART(gps_path, rxbuf=1024)

    def battery_percent(self):
        self._control.pump()
        return self._control.battery

    def battery_mv(self):
        return 3500 + 7 * self.battery_percent()

    def charging(self):
        return None
