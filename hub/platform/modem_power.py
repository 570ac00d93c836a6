"""The hub's own hardware: the only module that builds gpiozero devices (the modem's power key).

A hung modem answers nothing until it is power-cycled; the modem driver's supervision calls `cycle()` on the
object given here. On a Pi it pulses a GPIO wired to the modem's PWRKEY (through a transistor, active high); elsewhere
it runs a configured command (a switchable USB port; in the demo, the simulated GSM network's power cycle)."""
import asyncio

from drivers.modems.models import UnknownModemModel, power_key_timing
from hub.config import ConfigError, parse_modem_power


class ModemPowerError(RuntimeError):
    """The modem could not be power-cycled; the message says how it failed."""


class GpioModemPower:
    """PWRKEY on a GPIO: one press turns the modem off, another turns it on, with the model's power-key timings from
    the one model table (drivers/modems/models.py, the same row the wearable's board uses)."""

    def __init__(self, pin, model, pin_factory=None):
        self.pin = pin
        self.timing = power_key_timing(model)  # ms; UnknownModemModel names the models the table has timings for
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

    async def _press(self, ms):
        self._device.on()
        await asyncio.sleep(ms / 1000)
        self._device.off()

    async def cycle(self):
        await self._press(self.timing["off_ms"])
        await asyncio.sleep(self.timing["off_wait_ms"] / 1000)
        await self._press(self.timing["on_ms"])
        await asyncio.sleep(self.timing["boot_ms"] / 1000)


class CommandModemPower:
    """PWRKEY by a command: a USB modem behind a switchable hub port (`uhubctl -a cycle -p 2`), a relay board's
    tool, or the demo's simulated network. The command cuts the modem's power, restores it and returns once the modem
    is booting (`boot_s` more is waited before the supervisor speaks AT to it again); a non-zero exit,
    or no exit within `timeout_s`, is a failed cycle (ModemPowerError), which the modem supervisor escalates."""

    def __init__(self, argv, boot_s=0.0, timeout_s=60.0):
        self.argv = list(argv)
        self.boot_s = boot_s
        self.timeout_s = timeout_s

    def start(self):
        return self

    def stop(self):
        pass

    async def cycle(self):
        process = await asyncio.create_subprocess_exec(*self.argv, stdout=asyncio.subprocess.DEVNULL,
                                                       stderr=asyncio.subprocess.PIPE)
        try:
            _out, err = await asyncio.wait_for(process.communicate(), self.timeout_s)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise ModemPowerError(f"power command {self.argv[0]!r} did not finish within {self.timeout_s:g} s")
        if process.returncode:
            raise ModemPowerError(f"power command {self.argv[0]!r} exited {process.returncode}: "
                                  f"{err.decode(errors='replace').strip()[-200:]}")
        await asyncio.sleep(self.boot_s)


def modem_power_from_config(spec, model=None):
    """The power object for `[modem] power` (see hub.config.parse_modem_power), or None when it is not set. A GPIO
    power key needs `[modem] model`: the press lengths differ per model (ConfigError naming the models otherwise)."""
    parsed = parse_modem_power(spec)
    if parsed is None:
        return None
    kind, value = parsed
    if kind == "gpio":
        try:
            return GpioModemPower(value, model)
        except UnknownModemModel as exc:
            raise ConfigError(f"[modem] power {spec!r} needs the modem's power-key timings: [modem] model: {exc}")
    return CommandModemPower(value)
