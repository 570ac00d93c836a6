"""The simulated board, for the MicroPython unix port: the same interface as firmware/board.py (see
hardware/README.md, "Board interface"), with each peripheral on a pseudo-terminal held by the simulator
(sim/wearable.py): the modem's UART, the GPS's UART, and a control line for the button, motor, LED,
battery and the modem's PWRKEY.

Control protocol (text lines): simulator -> board "btn 1", "btn 0", "bat <percent>", and the accelerometer's
samples "imu x,y,z;x,y,z;..." (milli-g ints, oldest first, one line per batch: 10 samples every 100 ms at 100 Hz);
board -> simulator "motor 1 <ms>", "motor 0 <ms>", "led 1 <ms>", "led 0 <ms>" (<ms>: the firmware's
ticks_ms at the edge), "pwrkey" (a power cycle), "pwron" (the power key pressed to switch an off modem on),
"sleep <ms>" and "awake <reason>" (the microcontroller's sleep, for the simulator's residency figures).

The accelerometer is a simulated chip (a LIS3DH by default, any model of drivers.imu.CHIPS: ACCELEROMETERS below)
on the simulated I2C bus (sim/chips/), so the firmware runs the real chip driver: each sample of an "imu" line is
one sample period of the chip (it lands in the chip's FIFO only once the driver has started it). Sample lines
are parsed in place, with no allocation per sample; a malformed sample is skipped (counted in `imu_bad`), a line
longer than the line buffer is dropped whole.
"""
import termios
import time

from drivers.compat import asleep_ms, ticks_diff, ticks_ms
from drivers.imu import chip_model
from sim.chips.i2c import SimI2C

_VMIN = 6
_VTIME = 5


class PtyUART:
    """machine.UART's non-blocking subset (any, read, readinto, write) over a pty: VMIN=0/VTIME=0 makes a read
    return what is there at once, so bytes are pulled into a receive buffer and any() can tell how many wait.

    The receive buffer is allocated once (rxbuf bytes) and reused: growing and replacing buffers on every read
    left the 256 kB heap in holes too small for the drivers' own buffers. When it is full, further bytes wait in
    the pty, as with hardware flow control."""

    def __init__(self, path, rxbuf=2048):
        self.path = path
        self._file = open(path, "r+b")
        fd = self._file.fileno()
        termios.setraw(fd)
        attrs = termios.tcgetattr(fd)
        attrs[6][_VMIN] = 0
        attrs[6][_VTIME] = 0
        termios.tcsetattr(fd, termios.TCSANOW, attrs)
        self._chunk = bytearray(256)
        self._chunk_mv = memoryview(self._chunk)
        self._buf = bytearray(rxbuf)
        self._mv = memoryview(self._buf)
        self._start = 0
        self._end = 0

    def _pull(self):
        size = len(self._buf)
        for _ in range(16):  # bounded: at most 4 KiB per call
            room = size - self._end
            if room == 0:
                if self._start == 0:
                    return
                self._compact()
                room = size - self._end
            n = self._file.readinto(self._chunk if room >= 256 else self._chunk_mv[:room])
            if not n:
                return
            self._mv[self._end:self._end + n] = self._chunk_mv[:n]
            self._end += n

    def _compact(self):
        buf = self._buf
        start = self._start
        count = self._end - start
        for i in range(count):  # rare (only when the buffer filled up): a loop copies without a temporary
            buf[i] = buf[start + i]
        self._start = 0
        self._end = count

    def _taken(self, count):
        self._start += count
        if self._start == self._end:
            self._start = self._end = 0

    def any(self):
        self._pull()
        return self._end - self._start

    def read(self, n=None):
        self._pull()
        avail = self._end - self._start
        if not avail:
            return None
        if n is not None and n < avail:
            avail = n
        data = bytes(self._mv[self._start:self._start + avail])
        self._taken(avail)
        return data

    def readinto(self, buf):
        """machine.UART.readinto: what is buffered first, then straight from the pty into buf. Returns the count
        or None; allocates nothing on the usual path (the control line's sample stream uses it)."""
        avail = self._end - self._start
        if avail:
            if avail > len(buf):
                avail = len(buf)
            buf[:avail] = self._mv[self._start:self._start + avail]
            self._taken(avail)
            return avail
        return self._file.readinto(buf) or None

    def write(self, data):
        return self._file.write(data)


_LINE_MAX = 256  # an "imu" line of 10 samples is at most 184 bytes


class _Control:
    def __init__(self, uart):
        self.uart = uart
        self.button = False
        self.battery = 100
        self.imu_sink = None  # push(x_mg, y_mg, z_mg) of the simulated accelerometer
        self.imu_samples = 0
        self.imu_bad = 0
        self.long_lines = 0
        self._line = bytearray(_LINE_MAX)
        self._len = 0
        self._too_long = False
        self._chunk = bytearray(256)

    def pump(self):
        # readinto a buffer made once: the sample stream (1.5 kB/s) must not churn the small heap.
        chunk = self._chunk
        for _ in range(16):  # bounded: at most 4 KiB per call
            n = self.uart.readinto(chunk)
            if not n:
                return
            self._feed(chunk, n)

    def _feed(self, data, n):
        line = self._line
        for i in range(n):
            byte = data[i]
            if byte == 10:
                if self._too_long:
                    self.long_lines += 1
                elif self._len > 4 and line[0] == 105 and line[1] == 109 and line[2] == 117 and line[3] == 32:
                    self._imu_line()  # "imu "
                else:
                    self._apply(bytes(line[:self._len]).decode().strip())
                self._len = 0
                self._too_long = False
            elif self._len < _LINE_MAX:
                line[self._len] = byte
                self._len += 1
            else:
                self._too_long = True

    def _imu_line(self):
        """Parses "imu x,y,z;x,y,z;..." in place and pushes each well-formed sample (ints, optional minus)."""
        i = 4
        end = self._len
        while i < end:
            i = self._imu_sample(i, end)

    def _imu_sample(self, i, end):
        # One sample: three signed decimal ints separated by ',', ended by ';' or the end of the line.
        line = self._line
        axis = 0
        ok = True
        value = 0
        digits = 0
        negative = False
        x = y = z = 0
        ended = False
        while i < end:
            c = line[i]
            i += 1
            if 48 <= c <= 57:
                value = value * 10 + c - 48
                digits += 1
            elif c == 45 and digits == 0 and not negative:
                negative = True
            elif c == 44 or c == 59:  # ',' or ';'
                if digits == 0 or digits > 6:
                    ok = False
                if negative:
                    value = -value
                if axis == 0:
                    x = value
                elif axis == 1:
                    y = value
                else:
                    z = value
                axis += 1
                value = 0
                digits = 0
                negative = False
                if c == 59:
                    ended = True
                    break
            elif c != 13 and c != 32:
                ok = False
        if not ended and (digits or negative):  # the line's last number, without a ';'
            if digits == 0 or digits > 6:
                ok = False
            z = -value if negative else value
            axis += 1
        if axis == 0:
            return i  # an empty sample (a trailing ';')
        if ok and axis == 3:
            self.imu_samples += 1
            if self.imu_sink is not None:
                self.imu_sink(x, y, z)
        else:
            self.imu_bad += 1
        return i

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
    """An output line; each edge goes to the simulator stamped with the firmware's own clock, because the
    simulator reads edges and log lines on two channels and cannot order them by when they arrive."""

    def __init__(self, control, name):
        self.control = control
        self.name = name
        self.state = False

    def on(self):
        self.state = True
        self.control.send("%s 1 %d" % (self.name, ticks_ms()))

    def off(self):
        if self.state:
            self.control.send("%s 0 %d" % (self.name, ticks_ms()))
        self.state = False

    def is_on(self):
        return self.state

    def strength(self, percent):
        if percent > 0:
            self.on()
        else:
            self.off()


class SimModemPower:
    """The modem's power key as the simulator sees it: cycle() is a full power cycle, on() a press that
    switches an off modem on (the simulated network boots it; one that is on ignores it). The power-down itself
    goes by AT command (drivers/modem.py power_down), as on the device."""

    timing = {"boot": 500}

    def __init__(self, control):
        self.control = control

    async def cycle(self):
        self.control.send("pwrkey")
        await asleep_ms(self.timing["boot"])

    async def on(self):
        self.control.send("pwron")
        await asleep_ms(self.timing["boot"])

    async def off(self):
        pass

    async def cut(self):
        pass


class SimRI:
    """The modem's RI line as the simulator has it: low (0) while the simulated modem has sent bytes the firmware
    has not read (a real modem pulses RI low on an incoming SMS or URC)."""

    def __init__(self, uart):
        self.uart = uart

    def value(self):
        return 0 if self.uart.any() else 1

    def irq(self, handler=None, trigger=None):
        pass  # the simulated board's sleep polls value()


def _sim_lis3dh(address):
    from sim.chips.lis3dh import SimLIS3DH

    return SimLIS3DH(address)


def _sim_mpu6050(address):
    from sim.chips.mpu6050 import SimMPU6050

    return SimMPU6050(address)


def _sim_mpu6500(address):
    from sim.chips.mpu6050 import SimMPU6050

    return SimMPU6050(address, who_am_i=0x70)


# The simulation of each accelerometer of drivers.imu.CHIPS, by the same names (tests/dual/test_motion_imu_sim.py
# checks that every chip Deme drives has one): rows, and a chip's module loaded only when the board has that chip,
# so the simulated wearable's heap holds one chip simulation.
ACCELEROMETERS = (
    ("MPU6050", _sim_mpu6050),
    ("MPU6500", _sim_mpu6500),
    ("LIS3DH", _sim_lis3dh),
)


def simulated_accelerometer(model, address):
    """The simulation of the accelerometer `model` (spelt as drivers.imu.chip_model accepts it) at `address`;
    IMUError for a chip Deme has no driver for."""
    name = chip_model(model)
    for row in ACCELEROMETERS:
        if row[0] == name:
            return row[1](address)
    raise ValueError("the simulated board has no %s simulation (it has %s)"
                     % (name, ", ".join(row[0] for row in ACCELEROMETERS)))


class SimBoard:
    mcu = "unix"
    modem_dtr = None
    gps_enable = None
    i2c = None
    imu_int = None

    def __init__(self, control_path, modem_path, gps_path, name="sim", modem_model=None, gps_model="ublox",
                 imu_model="LIS3DH", imu_address=0x18, rtc_model="PCF8563", rtc_address=0x51):
        self.name = name
        self.modem_model = modem_model
        self.gps_model = gps_model
        self.imu_model = imu_model
        self.imu_address = imu_address
        # The control line is read with readinto (straight from the pty, whose kernel buffer holds seconds of
        # accelerometer lines): its own buffer only serves the rare read().
        self._control = _Control(PtyUART(control_path, rxbuf=256))
        self.sim_imu = None
        self.sim_rtc = None
        self.rtc_model = rtc_model
        self.rtc_address = rtc_address
        if imu_model is not None or rtc_model is not None:
            self.i2c = SimI2C(before=self._control.pump)
        if imu_model is not None:
            self.sim_imu = self.i2c.attach(simulated_accelerometer(imu_model, imu_address))
            self._control.imu_sink = self.sim_imu.push
        if rtc_model is not None:
            from sim.chips.pcf8563 import SimPCF8563

            self.sim_rtc = self.i2c.attach(SimPCF8563(rtc_address))
        self.button = SimButton(self._control)
        self.motor = SimOutput(self._control, "motor")
        self.led = SimOutput(self._control, "led")
        self.modem_uart = PtyUART(modem_path, rxbuf=2048)
        self.modem_ri = SimRI(self.modem_uart)
        self.modem_power = SimModemPower(self._control)
        self.gps_uart = PtyUART(gps_path, rxbuf=1024)

    def sleep(self, ms, rtc=None, ri=False):
        """The microcontroller's sleep, simulated: nothing else runs (the asyncio loop is blocked, as the chip's
        clocks stop), the control line is still read (the world goes on: the button, the accelerometer's samples
        into the simulated chip), and it ends on the button, the chip's motion interrupt, the simulated RTC's
        timer (armed through the real driver), the modem's "RI" (with `ri`: bytes from the simulated modem, which a
        real modem announces with an RI pulse) or `ms`. Returns what woke it."""
        control = self._control
        if rtc is not None:
            rtc.set_timer(ms // 1000 if ms >= 1000 else 1)  # beyond 255 s the driver counts whole minutes
        control.send("sleep %d" % ms)
        start = ticks_ms()
        limit = ms + 90000 if rtc is not None else ms  # bounded even if the RTC never fires (1/60 Hz rounding)
        woke = "timer"
        while True:
            control.pump()
            if control.button:
                woke = "button"
                break
            if ri and self.modem_uart.any():
                woke = "ri"
                break
            if self.sim_imu is not None and self.sim_imu.int_asserted:
                woke = "motion"
                break
            if rtc is not None and self.sim_rtc is not None and self.sim_rtc.int_asserted:
                woke = "rtc"
                break
            if ticks_diff(ticks_ms(), start) >= limit:
                woke = "timer" if rtc is None else "timeout"
                break
            time.sleep_ms(10)  # type: ignore[attr-defined]  # MicroPython-only
        if rtc is not None:
            try:
                rtc.fired()
                rtc.cancel_timer()
            except Exception:
                pass
        control.send("awake " + woke)
        return woke

    def battery_percent(self):
        self._control.pump()
        return self._control.battery

    def battery_mv(self):
        return 3500 + 7 * self.battery_percent()

    def charging(self):
        return None
