"""The hub's modem power key: a GPIO pulse train on a Pi (gpiozero's MockFactory records it here), the simulated
network's power cycle in the demo (a power command), and clear errors for a bad configuration."""
import asyncio
import sys

import pytest
from gpiozero.pins.mock import MockFactory

from hub.config import ConfigError
from hub.platform.modem_power import CommandModemPower, GpioModemPower, ModemPowerError, modem_power_from_config
from sim.network import GSMNetwork
from sim.network.control import ControlServer


def test_gpio_power_cycle_is_two_pwrkey_pulses():
    factory = MockFactory()
    power = GpioModemPower(17, model="sim800", pin_factory=factory).start()
    power.timing = {"pulse_s": 0.05, "off_wait_s": 0.05, "boot_s": 0.01}
    asyncio.run(power.cycle())
    pin = factory.pin(17)
    states = [state for _t, state in [(c.timestamp, c.state) for c in pin.states]]
    assert states == [False, True, False, True, False]  # initial low, then off-pulse and on-pulse
    power.stop()


def test_config_spec_builds_the_right_power_object():
    assert isinstance(modem_power_from_config("gpio:17", "SIM800L"), GpioModemPower)
    assert modem_power_from_config("gpio:17", "SIM800L").timing["pulse_s"] == 1.2
    command = modem_power_from_config("exec:uhubctl -a cycle -l 1-1 -p '2'")
    assert isinstance(command, CommandModemPower) and command.argv == ["uhubctl", "-a", "cycle", "-l", "1-1", "-p", "2"]
    assert modem_power_from_config(None) is None
    for bad in ("gpio:x", "relay:3", "sim:127.0.0.1:4000:+1"):
        with pytest.raises(ConfigError, match="gpio:<BCM pin>"):
            modem_power_from_config(bad)
    for bad in ("exec:", "exec:   ", "exec:'unclosed"):
        with pytest.raises(ConfigError, match="after \"exec:\""):
            modem_power_from_config(bad)


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
