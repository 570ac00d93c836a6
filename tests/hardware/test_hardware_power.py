"""The hub's modem power key: a GPIO pulse train on a Pi (gpiozero's MockFactory records it here), the simulated
network's power cycle in the demo (a power command), and clear errors for a bad configuration."""
import asyncio
import sys

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.modems.models import power_key_timing
from hub.config import ConfigError
from hub.platform.modem_power import CommandModemPower, GpioModemPower, ModemPowerError, modem_power_from_config
from sim.network import GSMNetwork
from sim.network.control import ControlServer


def test_gpio_power_cycle_is_two_pwrkey_pulses():
    factory = MockFactory()
    power = GpioModemPower(17, model="sim800", pin_factory=factory).start()
    power.timing = {"off_ms": 50, "off_wait_ms": 50, "on_ms": 50, "boot_ms": 10}
    asyncio.run(power.cycle())
    pin = factory.pin(17)
    states = [state for _t, state in [(c.timestamp, c.state) for c in pin.states]]
    assert states == [False, True, False, True, False]  # initial low, then off-pulse and on-pulse
    power.stop()


def test_config_spec_builds_the_right_power_object():
    assert isinstance(modem_power_from_config("gpio:17", "SIM800L"), GpioModemPower)
    assert modem_power_from_config("gpio:17", "SIM800L").timing["on_ms"] == 1200
    command = modem_power_from_config("exec:uhubctl -a cycle -l 1-1 -p '2'")
    assert isinstance(command, CommandModemPower) and command.argv == ["uhubctl", "-a", "cycle", "-l", "1-1", "-p", "2"]
    assert modem_power_from_config(None) is None
    for bad in ("gpio:x", "relay:3", "sim:127.0.0.1:4000:+1"):
        with pytest.raises(ConfigError, match="gpio:<BCM pin>"):
            modem_power_from_config(bad)
    for bad in ("exec:", "exec:   ", "exec:'unclosed"):
        with pytest.raises(ConfigError, match="after \"exec:\""):
            modem_power_from_config(bad)


def test_gpio_power_presses_off_then_on_for_the_models_own_times(monkeypatch):
    factory = MockFactory()
    power = GpioModemPower(17, model="A7670E", pin_factory=factory).start()
    slept = []

    async def record(seconds):
        slept.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", record)
    asyncio.run(power.cycle())
    monkeypatch.undo()
    power.stop()
    t = power_key_timing("A7670")
    assert slept == [t["off_ms"] / 1000, t["off_wait_ms"] / 1000, t["on_ms"] / 1000, t["boot_ms"] / 1000]
    assert (t["on_ms"], t["off_ms"]) == (500, 3000)  # A76XX Hardware Design: Ton typ. 500 ms, Toff >= 2.5 s


def test_gpio_power_without_a_model_with_known_timings_names_the_models():
    for model in (None, "generic", "nokia3310"):
        with pytest.raises(ConfigError, match=r"\[modem\] model: .*known: SIM800L, A7670, SIM7600, EC25, BG95"):
            modem_power_from_config("gpio:17", model)


def test_a_failing_power_command_is_a_visible_error():
    failing = CommandModemPower([sys.executable, "-c", "import sys; sys.exit('relay board not found')"])
    with pytest.raises(ModemPowerError, match="exited 1: relay board not found"):
        asyncio.run(failing.cycle())
    hanging = CommandModemPower([sys.executable, "-c", "import time; time.sleep(30)"], timeout_s=0.5)
    with pytest.raises(ModemPowerError, match="did not finish within 0.5 s"):
        asyncio.run(hanging.cycle())


def test_simulated_power_cycle_reboots_the_simulated_modem():
    network = GSMNetwork(delay_s=0, time_scale=0.01)
    modem = network.add_modem("+22370000001", "sim800l")
    network.start()
    server = ControlServer(network)
    server.start()
    try:
        modem.wait_ready(10)
        modem.inject("hang")
        power = modem_power_from_config(f"exec:{sys.executable} -m sim.network.power_cycle "
                                        f"127.0.0.1:{server.port} +22370000001 --off-s 0.1")
        asyncio.run(power.cycle())
        hops = [e["hop"] for e in network.events]
        assert "modem.power_off" in hops and "modem.power_on" in hops
    finally:
        server.stop()
        network.stop()
