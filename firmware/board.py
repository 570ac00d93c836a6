"""The wearable's hardware, built from the pinout file: the ONLY firmware module that creates machine objects.

hardware/<build>/pinout.json is the single source of truth for every pin (copied to the device's flash as
/pinout.json). `parse_pinout()` checks it without touching hardware, so it runs on the MicroPython unix port and on
CPython (hub/design/hardware_data.py reuses it); `build_board()` then makes the machine objects. The Board interface is
written down in hardware/README.md ("Board interface"); sim/device/board.py implements the same one.
"""
import json

from drivers.modems.models import UnknownModemModel, power_key_timing, timing_table

try:
    from drivers.compat import asleep_ms
except ImportError:  # a device flashed without drivers/ still boots far enough to report the error
    import asyncio

    def asleep_ms(ms):
        return asyncio.sleep_ms(ms)


PINOUT_PATH = "/pinout.json"
SCHEMA = 1
MCUS = ("rp2040", "esp32")

# function -> (mode, required). "uart" and "i2c" are buses; the others are single pins.
FUNCTIONS = {
    "button": ("in", True),
    "motor": ("out_or_pwm", True),
    "led": ("out", True),
    "modem_uart": ("uart", True),
    "modem_pwrkey": ("out", True),
    "modem_reset": ("out", False),
    "modem_power_en": ("out", False),
    "modem_dtr": ("out", False),
    "modem_ri": ("in", False),
    "gps_uart": ("uart", True),
    "gps_enable": ("out", False),
    "imu_i2c": ("i2c", True),
    "imu_int": ("in", False),
    "rtc_int": ("in", False),
    "battery_adc": ("adc", True),
    "charge_status": ("in", False),
}

# Power-key and reset timings (ms) of every spelling of every modem model the table knows, with their sources:
# the one model table, drivers/modems/models.py (keys on_ms, off_ms, off_wait_ms, reset_ms, boot_ms, gate_off_ms).
MODEM_TIMING = timing_table()

# Resting LiPo voltage (mV) -> charge (%). 3.50 V counts as empty: the modems brown out near 3.4 V under a burst.
LIPO_CURVE = (
    (3500, 0), (3610, 5), (3690, 10), (3710, 15), (3730, 20), (3750, 25), (3770, 30), (3790, 35), (3800, 40),
    (3820, 45), (3840, 50), (3850, 55), (3870, 60), (3910, 65), (3950, 70), (3980, 75), (4020, 80), (4080, 85),
    (4110, 90), (4150, 95), (4200, 100),
)


class PinoutError(ValueError):
    """The pinout file is missing, unreadable or inconsistent; the message names the function and field to fix."""


def _int_field(where, spec, key, low=0, high=1 << 30, required=True):
    value = spec.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < low or value > high:
        raise PinoutError("%s: '%s' must be an integer from %d to %d, got %r" % (where, key, low, high, value))
    return value


def _check_pin_function(name, spec, mode):
    _int_field(name, spec, "pin", 0, 63)
    given = spec.get("mode")
    allowed = ("out", "pwm") if mode == "out_or_pwm" else (mode,)
    if given not in allowed:
        raise PinoutError("%s: 'mode' must be %s, got %r" % (name, " or ".join(allowed), given))
    if spec.get("active", "high") not in ("high", "low"):
        raise PinoutError("%s: 'active' must be 'high' or 'low', got %r" % (name, spec.get("active")))
    if spec.get("pull") not in (None, "up", "down"):
        raise PinoutError("%s: 'pull' must be 'up' or 'down', got %r" % (name, spec.get("pull")))
    if given == "pwm":
        _int_field(name, spec, "freq", 10, 100000)
    if given == "adc":
        for key in ("divider", "vref"):
            value = spec.get(key)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise PinoutError("%s: '%s' must be a positive number, got %r" % (name, key, value))


def pin_uses(pinout):
    """Every pin the pinout uses, as (function, pin, role, bus id or None); roles: in, out, pwm, adc, irq,
    uart_tx, uart_rx, i2c_sda, i2c_scl. A pin with an interrupt appears twice (its mode and irq)."""
    uses = []
    for name, spec in pinout["functions"].items():
        mode = FUNCTIONS[name][0]
        if mode == "uart":
            uses.append((name, spec["tx"], "uart_tx", spec["id"]))
            uses.append((name, spec["rx"], "uart_rx", spec["id"]))
        elif mode == "i2c":
            uses.append((name, spec["sda"], "i2c_sda", spec["id"]))
            uses.append((name, spec["scl"], "i2c_scl", spec["id"]))
        else:
            uses.append((name, spec["pin"], spec["mode"], None))
            if spec.get("irq"):
                uses.append((name, spec["pin"], "irq", None))
    return uses


def parse_pinout(text):
    """Check a pinout (JSON text or an already decoded dict) and return it as a dict; raises PinoutError only."""
    if isinstance(text, dict):
        data = text
    else:
        try:
            data = json.loads(text)
        except (ValueError, TypeError) as exc:
            raise PinoutError("pinout is not valid JSON: %s" % exc)
    if not isinstance(data, dict):
        raise PinoutError("pinout must be a JSON object")
    if data.get("schema") != SCHEMA:
        raise PinoutError("pinout 'schema' must be %d, got %r" % (SCHEMA, data.get("schema")))
    if data.get("mcu") not in MCUS:
        raise PinoutError("pinout 'mcu' must be one of %s, got %r" % (", ".join(MCUS), data.get("mcu")))
    if not isinstance(data.get("name"), str) or not data["name"]:
        raise PinoutError("pinout 'name' must be a non-empty string")
    parts = data.get("parts")
    try:
        power_key_timing(parts.get("modem") if isinstance(parts, dict) else None)
    except UnknownModemModel as exc:
        raise PinoutError("pinout 'parts.modem': %s" % exc)
    _int_field("parts", parts, "imu_address", 0x08, 0x77)
    _int_field("parts", parts, "rtc_address", 0x08, 0x77, required=False)
    if parts.get("rtc_address") is not None and parts.get("rtc_address") == parts["imu_address"]:
        raise PinoutError("pinout 'parts.rtc_address' %d is the IMU's address too" % parts["rtc_address"])
    functions = data.get("functions")
    if not isinstance(functions, dict):
        raise PinoutError("pinout 'functions' must be an object")
    for name in functions:
        if name not in FUNCTIONS:
            raise PinoutError("unknown function %r (known: %s)" % (name, ", ".join(sorted(FUNCTIONS))))
    for name, (mode, required) in FUNCTIONS.items():
        spec = functions.get(name)
        if spec is None:
            if required:
                raise PinoutError("function %r is missing from the pinout" % name)
            continue
        if not isinstance(spec, dict):
            raise PinoutError("%s: must be an object" % name)
        if mode == "uart":
            _int_field(name, spec, "id", 0, 2)
            _int_field(name, spec, "tx", 0, 63)
            _int_field(name, spec, "rx", 0, 63)
            _int_field(name, spec, "baud", 1200, 4000000)
            _int_field(name, spec, "rxbuf", 64, 65536, required=False)
        elif mode == "i2c":
            _int_field(name, spec, "id", 0, 1)
            _int_field(name, spec, "sda", 0, 63)
            _int_field(name, spec, "scl", 0, 63)
            _int_field(name, spec, "freq", 10000, 1000000)
        else:
            _check_pin_function(name, spec, mode)
    seen = {}
    for name, pin, role, _bus in pin_uses(data):
        if role == "irq":
            continue
        if pin in seen:
            raise PinoutError("pin %d is used twice: by %s and %s" % (pin, seen[pin], name))
        seen[pin] = name
    uart_ids = [functions[n]["id"] for n in ("modem_uart", "gps_uart")]
    if uart_ids[0] == uart_ids[1]:
        raise PinoutError("modem_uart and gps_uart must use different UART ids, both use %d" % uart_ids[0])
    return data


def load_pinout(path=PINOUT_PATH):
    try:
        with open(path) as f:
            text = f.read()
    except OSError as exc:
        raise PinoutError("cannot read pinout %s: %s" % (path, exc))
    return parse_pinout(text)


def battery_percent_from_mv(mv):
    """Charge (0-100) of a resting LiPo from its voltage in millivolts, interpolated on LIPO_CURVE."""
    if mv <= LIPO_CURVE[0][0]:
        return 0
    for i in range(1, len(LIPO_CURVE)):
        v1, p1 = LIPO_CURVE[i]
        if mv <= v1:
            v0, p0 = LIPO_CURVE[i - 1]
            return p0 + (p1 - p0) * (mv - v0) // (v1 - v0)
    return 100


class Output:
    """A digital output that knows its active level: on() asserts, off() releases."""

    def __init__(self, pin, active_low=False):
        self.pin = pin
        self._active_low = active_low

    def on(self):
        self.pin.value(0 if self._active_low else 1)

    def off(self):
        self.pin.value(1 if self._active_low else 0)

    def is_on(self):
        return bool(self.pin.value()) != self._active_low


class Button:
    """The panic button: pressed() is True while held; irq(handler) calls handler(pin) on each press edge."""

    def __init__(self, pin, machine, active_low=True):
        self.pin = pin
        self._machine = machine
        self.active_low = active_low

    def pressed(self):
        return bool(self.pin.value()) != self.active_low

    def irq(self, handler):
        edge = self._machine.Pin.IRQ_FALLING if self.active_low else self._machine.Pin.IRQ_RISING
        self.pin.irq(handler=handler, trigger=edge)


class Motor:
    """The vibration motor: on()/off(), and strength(percent) when it is driven by PWM."""

    def __init__(self, pin, pwm=None):
        self.pin = pin
        self._pwm = pwm

    def strength(self, percent):
        percent = max(0, min(100, int(percent)))
        if self._pwm is None:
            self.pin.value(1 if percent else 0)
        else:
            self._pwm.duty_u16(percent * 65535 // 100)

    def on(self):
        self.strength(100)

    def off(self):
        self.strength(0)


class ModemPower:
    """Switches the modem on, off and through a full power cycle with the datasheet's timings (MODEM_TIMING).

    cycle() is the cure for a hung modem (the AT watchdog calls it): the supply gate if the board has one, else the
    RESET line, else PWRKEY off then on. It returns once the modem's documented boot time has passed."""

    def __init__(self, timing, pwrkey, reset=None, power_en=None, sleep=asleep_ms):
        self.timing = timing
        self._pwrkey = pwrkey
        self._reset = reset
        self._power_en = power_en
        self._sleep = sleep

    async def _pulse(self, output, ms):
        output.on()
        try:
            await self._sleep(ms)
        finally:
            output.off()

    async def on(self):
        """Power-key press that starts a modem that is off (on a running SIM800L the same press switches it off)."""
        if self._power_en is not None:
            self._power_en.on()
        await self._pulse(self._pwrkey, self.timing["on_ms"])
        await self._sleep(self.timing["boot_ms"])

    async def off(self):
        """Orderly power-down by PWRKEY (the modem detaches from the network), then the supply gate if any."""
        await self._pulse(self._pwrkey, self.timing["off_ms"])
        await self._sleep(self.timing["off_wait_ms"])
        if self._power_en is not None:
            self._power_en.off()

    async def cut(self):
        """After a power-down by command or key: the supply switch off too, where the board has one (the
        module's own leakage when off is then gone as well)."""
        if self._power_en is not None:
            self._power_en.off()

    async def cycle(self):
        t = self.timing
        if self._power_en is not None:
            self._power_en.off()
            await self._sleep(t["gate_off_ms"])
            self._power_en.on()
            await self._pulse(self._pwrkey, t["on_ms"])
        elif self._reset is not None:
            await self._pulse(self._reset, t["reset_ms"])
        else:
            await self._pulse(self._pwrkey, t["off_ms"])
            await self._sleep(t["off_wait_ms"])
            await self._pulse(self._pwrkey, t["on_ms"])
        await self._sleep(t["boot_ms"])


class Board:
    """The hardware of one wearable; attributes as listed in hardware/README.md ("Board interface")."""

    def __init__(self, pinout, machine):
        f = pinout["functions"]
        parts = pinout["parts"]
        self.pinout = pinout
        self.name = pinout["name"]
        self.mcu = pinout["mcu"]
        self.modem_model = parts["modem"]
        self.gps_model = parts.get("gps")
        self.imu_model = parts.get("imu")
        self.imu_address = parts["imu_address"]
        self.rtc_model = parts.get("rtc")
        self.rtc_address = parts.get("rtc_address")
        self._machine = machine
        Pin = machine.Pin

        spec = f["button"]
        pull = {"up": Pin.PULL_UP, "down": Pin.PULL_DOWN}.get(spec.get("pull"))
        self.button = Button(Pin(spec["pin"], Pin.IN, pull), machine, spec.get("active", "low") == "low")
        self.led = self._output("led")
        self.led.off()
        spec = f["motor"]
        motor_pin = Pin(spec["pin"], Pin.OUT, value=0)
        pwm = None
        if spec["mode"] == "pwm":
            pwm = machine.PWM(motor_pin)
            pwm.freq(spec["freq"])
            pwm.duty_u16(0)
        self.motor = Motor(motor_pin, pwm)

        self.modem_uart = self._uart("modem_uart")
        self.gps_uart = self._uart("gps_uart")
        spec = f["imu_i2c"]
        self.i2c = machine.I2C(spec["id"], sda=Pin(spec["sda"]), scl=Pin(spec["scl"]), freq=spec["freq"])
        self.imu_int = self._input("imu_int")
        self.rtc_int = self._input("rtc_int")
        self.modem_ri = self._input("modem_ri")
        self.modem_dtr = self._output("modem_dtr")
        self.gps_enable = self._output("gps_enable")
        self.modem_power = ModemPower(
            power_key_timing(self.modem_model),
            self._output("modem_pwrkey"),
            reset=self._output("modem_reset"),
            power_en=self._output("modem_power_en"),
        )
        for output in (self.modem_power._pwrkey, self.modem_power._reset):
            if output is not None:
                output.off()
        self._charge = self._input("charge_status")
        spec = f["battery_adc"]
        self._divider = spec["divider"]
        self._vref = spec["vref"]
        self._adc = machine.ADC(Pin(spec["pin"]))
        if self.mcu == "esp32":
            self._adc.atten(machine.ADC.ATTN_11DB)

    def _output(self, name):
        spec = self.pinout["functions"].get(name)
        if spec is None:
            return None
        pin = self._machine.Pin(spec["pin"], self._machine.Pin.OUT)
        output = Output(pin, spec.get("active", "high") == "low")
        output.off()
        return output

    def _input(self, name):
        spec = self.pinout["functions"].get(name)
        if spec is None:
            return None
        Pin = self._machine.Pin
        pull = {"up": Pin.PULL_UP, "down": Pin.PULL_DOWN}.get(spec.get("pull"))
        return Pin(spec["pin"], Pin.IN, pull)

    def _uart(self, name):
        spec = self.pinout["functions"][name]
        Pin = self._machine.Pin
        # timeout=0: read() returns at once (bytes or None), as drivers/ expect of a stream
        return self._machine.UART(
            spec["id"], baudrate=spec["baud"], tx=Pin(spec["tx"]), rx=Pin(spec["rx"]),
            rxbuf=spec.get("rxbuf", 1024), timeout=0,
        )

    def sleep(self, ms, rtc=None, ri=False):
        """Sleep until the button, the accelerometer's motion interrupt, the RTC's timer, the modem's RI line (with
        `ri`: the modem is on and an SMS may come) or `ms` ends it; returns what woke it ("button", "motion",
        "rtc", "ri" or "timer"). It blocks everything, as the chip stops; bytes the UART missed meanwhile are lost,
        so after "ri" the caller lists the SIM (the SMS is stored there).

        With an RTC (build A's PCF8563 on rtc_int) the RP2040 goes DORMANT (machine.lightsleep() without a
        period: every clock stops, about 1.2 mA from the cell for the Pico board) and only a pin edge wakes it,
        so the RTC's countdown timer carries the heartbeat. Without one, machine.lightsleep(ms) keeps a timer
        running (about 2 mA). Waking from an indefinite lightsleep on a Pin.irq edge needs a MicroPython whose
        rp2 port enables GPIO wake there (micropython/micropython PR 16442); with USB connected the port uses the
        lighter sleep. Not measured on a board yet: docs/installer-guide.md says how to check the current."""
        machine = self._machine
        Pin = machine.Pin
        woke = []
        # (what, pin, its active edge) of every wake source this sleep arms
        sources = [("button", self.button.pin, Pin.IRQ_FALLING if self.button.active_low else Pin.IRQ_RISING),
                   ("motion", self.imu_int, Pin.IRQ_RISING),
                   ("rtc", self.rtc_int if rtc is not None else None, Pin.IRQ_FALLING),
                   ("ri", self.modem_ri if ri else None, Pin.IRQ_FALLING)]  # RI pulses low on an SMS
        sources = [src for src in sources if src[1] is not None]
        esp32 = self.mcu == "esp32"
        for name, pin, edge in sources:
            if esp32:
                # ESP32 light sleep wakes on pin levels (gpio_wakeup_enable), armed through Pin.irq(wake=SLEEP)
                level = Pin.WAKE_LOW if edge == Pin.IRQ_FALLING else Pin.WAKE_HIGH
                pin.irq(trigger=level, wake=machine.SLEEP)
            else:
                pin.irq(handler=lambda _p, n=name: woke.append(n), trigger=edge)
        seconds = (ms + 999) // 1000
        try:
            if rtc is not None and self.rtc_int is not None:
                rtc.set_timer(seconds)  # beyond 255 s the driver counts whole minutes (up to 255)
                machine.lightsleep()
            else:
                machine.lightsleep(ms)
        finally:
            for _name, pin, _edge in sources:
                pin.irq(handler=None)
            if rtc is not None:
                try:
                    rtc.fired()  # releases INT; the timer may not have run out (the button woke us)
                    rtc.cancel_timer()
                except Exception:  # the next sleep falls back to the board's own timer if the RTC is gone
                    pass
        if woke:
            return woke[0]
        # No edge was caught (the ESP32 wakes on levels; an edge may come just before the sleep): the levels say.
        if self.button.pressed():
            return "button"
        for name, pin, edge in sources[1:]:
            if pin.value() == (1 if edge == Pin.IRQ_RISING else 0):
                return name
        return "timer"

    def battery_mv(self, samples=8):
        total = 0
        for _ in range(samples):
            if hasattr(self._adc, "read_uv"):
                total += self._adc.read_uv() // 1000
            else:
                total += self._adc.read_u16() * int(self._vref * 1000) // 65535
        return int(total * self._divider) // samples

    def battery_percent(self):
        return battery_percent_from_mv(self.battery_mv())

    def charging(self):
        """True while the charger charges, False if not, None if this build cannot tell."""
        if self._charge is None:
            return None
        active_low = self.pinout["functions"]["charge_status"].get("active", "low") == "low"
        return bool(self._charge.value()) != active_low


def build_board(path=PINOUT_PATH, machine=None):
    """Read the pinout at `path` and build the Board; `machine` defaults to MicroPython's machine module."""
    if machine is None:
        # imported here, on the device only: everything above also runs where machine does not exist
        import machine
    return Board(load_pinout(path), machine)
