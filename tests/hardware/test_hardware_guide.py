"""The installer's guide quotes figures computed from the hardware data: they must not drift from it."""
import re

import pytest

from hub.design import hardware_data, power
from tests.support.micropython import REPO

GUIDE = (REPO / "docs" / "installer-guide.md").read_text()


def days(**kwargs):
    return f"{power.compute(power.PowerConfig(**kwargs)).days:.1f} days"


@pytest.mark.parametrize("figure", [
    days(build="a", modem="A7670E"),
    days(build="a", modem="SIM800L"),
    days(build="a", modem="A7670E", mcu_board="carrier"),
    days(build="a", modem="SIM800L", mcu_board="carrier"),
    days(build="a", modem="A7670E", heartbeat_min=240),
    days(build="a", modem="A7670E", modem_mode="idle"),
    days(build="a", modem="SIM800L", modem_mode="idle"),
    days(build="a", modem="A7670E", modem_mode="drx"),
    days(build="a", modem="SIM800L", modem_mode="drx"),
    days(build="b", battery_mah=3500),
])
def test_battery_life_quoted_in_the_guide_is_what_deme_power_computes(figure):
    number = figure.split()[0]
    assert f"{number} days" in GUIDE, f"docs/installer-guide.md should quote {figure}"


def test_battery_needed_for_the_goal_is_quoted_rounded_to_ten_mah():
    budget = power.compute(power.PowerConfig(build="a", modem="A7670E"))
    needed = budget.average_ma * power.GOAL_DAYS * 24 / (budget.usable_mah / budget.config.battery_mah)
    assert f"{round(needed, -1):,.0f} mAh" in GUIDE, needed


def test_standby_currents_quoted_for_the_measurement_step():
    for config in (dict(build="a", modem="A7670E"), dict(build="a", modem="SIM800L"),
                   dict(build="a", modem="A7670E", mcu_board="carrier"),
                   dict(build="a", modem="SIM800L", mcu_board="carrier"), dict(build="b")):
        budget = power.compute(power.PowerConfig(**config))
        assert f"{budget.states_ma['sleep']:.2f} mA" in GUIDE, config
    registered = power.compute(power.PowerConfig(build="a", modem="A7670E", modem_mode="idle"))
    assert f"about {registered.states_ma['modem_idle']:.0f} mA" in GUIDE


def test_costs_quoted_in_the_guide_are_the_bom_totals():
    rows = hardware_data.load_bom("a")
    for board in ("pico", "carrier"):
        for modem in ("SIM800L", "A7670E"):
            total = hardware_data.bom_total(rows, {"mcu_board": board, "modem": modem, "gps": "L76K",
                                                   "imu": "LIS3DH"})
            assert f"{total:.2f} EUR" in GUIDE, (board, modem, total)


def test_every_picture_the_guide_shows_exists():
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", GUIDE)
    assert len(images) >= 4
    for image in images:
        assert (REPO / "docs" / image).is_file(), image


@pytest.mark.parametrize("build", hardware_data.BUILDS)
def test_guide_pins_match_the_pinout(build):
    """Each 'GPn'/'IOn' the guide's assembly section names for a function is that function's pin."""
    f = hardware_data.load_pinout(build)["functions"]
    section = GUIDE.split("## 3. Assemble build A")[1].split("## 4.")[0] if build == "a" else \
        GUIDE.split("## 4. Assemble build B")[1].split("## 5.")[0]
    prefix = "GP" if build == "a" else "IO"
    expected = {
        "button": f["button"]["pin"], "led": f["led"]["pin"], "motor": f["motor"]["pin"],
        "imu SDA": f["imu_i2c"]["sda"], "imu SCL": f["imu_i2c"]["scl"], "imu INT1": f["imu_int"]["pin"],
    }
    if "rtc_int" in f:
        expected["rtc INT"] = f["rtc_int"]["pin"]
        assert "0x%02x" % hardware_data.load_pinout(build)["parts"]["rtc_address"] in section
    for what, pin in expected.items():
        assert f"{prefix}{pin}" in section, (build, what, pin)
    named = {int(n) for n in re.findall(prefix + r"(\d+)", section)}
    used = {pin for _, pin, _, _ in hardware_data.board_module().pin_uses(hardware_data.load_pinout(build))}
    assert named <= used, f"the guide names pins the pinout does not use: {sorted(named - used)}"
