"""The hub's own hardware: the only module that builds gpiozero devices (the modem's power key).

A hung modem answers nothing until it is power-cycled; the modem driver's supervision calls `cycle()` on the
object given here. On a Pi it pulses a GPIO wired to the modem's PWRKEY (through a transistor, active high); in the
demo it asks the simulated GSM network to power-cycle the simulated modem."""
import asyncio

from hub.config import ConfigError

# PWRKEY timings from the SIMCom hardware design manuals (SIM800 series: >1 s low to turn on or off;
# A76xx: >= 2.5 s to turn off, 50 ms..) rounded up; boot_s: until the modem answers AT.
PWRKEY = {
    "sim800": {"pulse_s": 1.2, "off_wait_s": 2.0, "boot_s": 3.0},
    "a7670": {"pulse_s": 2.6, "off_wait_s": 3.0, "boot_s": 8.0},
    "generic": {"pulse_s": 2.6, "off_wait_s": 3.0, "boot_s": 8.0},
}


class GpioModemPower:
    """PWRKEY on a GPIO: one pulse turns the modem off, another turns it on."""

    def __init__(self, pin, model="generic", pin_factory=None):
        self.pin = pin
        self.timing = PWRKEY.get(model or "generic", PWRKEY["generic"])
        self.pin_factory = pin_factory
        self._device = None

    def start(self):
        from gpiozero import DigitalOutputDevice

        self._device = DigitalOutputDevice(self.pin, active_high=True, initial_value=False,
                                           pin_factory=self.pin_factory)
        return self

    def stop(self):
        if self._device is not None:
            self._device.close()
            self._device = None

    async def _pulse(self):
        self._device.on()
        await asyncio.sleep(self.timing["pulse_s"])
        self._device.off()

    async def cycle(self):
        await self._pulse()  # off
        await asyncio.sleep(self.timing["off_wait_s"])
        await self._pulse()  # on
        await asyncio.sleep(self.timing["boot_s"])


class SimulatedModemPower:
    """The demo's PWRKEY: the simulated network power-cycles the simulated modem with this number."""

    def __init__(self, host, port, number, off_s=1.0):
        self.host = host
        self.port = port
        self.number = number
        self.off_s = off_s

    def start(self):
        return self

    def stop(self):
        pass

    async def cycle(self):
        from hub.sim.network import NetworkClient

        def call():
            with NetworkClient(self.host, self.port) as client:
                client.power_cycle(self.number, off_s=self.off_s)

        await asyncio.to_thread(call)
        await asyncio.sleep(self.off_s + 1.0)


def modem_power_from_config(spec, model=None):
    """`[modem] power`: "gpio:<BCM pin>" on a Pi, "sim:<host>:<port>:<number>" in the demo, or None."""
    if not spec:
        return None
    kind, _, rest = spec.partition(":")
    if kind == "gpio" and rest.isdigit():
        return GpioModemPower(int(rest), model=_family(model))
    if kind == "sim":
        host, _, tail = rest.partition(":")
        port, _, number = tail.partition(":")
        if host and port.isdigit() and number:
            return SimulatedModemPower(host, int(port), number)
    raise ConfigError(f"[modem] power: {spec!r} must be \"gpio:<BCM pin>\" or \"sim:<host>:<port>:<number>\"")


def _family(model):
    model = (model or "").lower()
    if model.startswith("sim800"):
        return "sim800"
    if model.startswith(("a76", "sim76")):
        return "a7670"
    return "generic"
