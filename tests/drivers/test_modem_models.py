"""The one modem model table (drivers/modems/models.py): every name people type resolves to its row; the wearable's
board, the hub's GPIO power key and the simulator read the same row; an unknown model's error names the known ones,
wherever a person can type it (hub config, `deme modem --model`, pinout, simulator profile)."""
import json

import pytest

from drivers import modems
from drivers.modems.models import MODELS, UnknownModemModel, detect_row, model_row, power_key_timing
from hub.config import ConfigError, check_modem_model, parse_config
from hub.design import hardware_data
from hub.platform.modem_power import GpioModemPower, modem_power_from_config
from sim.modem import PROFILES, get_profile

BOARD = hardware_data.board_module()
KNOWN = "known: SIM800L, A7670, SIM7600, EC25, BG95"

# What people type, as they type it.
SPELLINGS = {
    "SIM800L": ("SIM800L", "sim800", "sim800l", "SIM800", "Sim800L", " SIM800L "),
    "A7670": ("A7670E", "A7670G", "a7670", "a7670e", "A7670SA"),
    "SIM7600": ("SIM7600", "sim7600", "SIM7600E-H"),
    "EC25": ("EC25", "ec25", "EG25-G"),
    "BG95": ("BG95", "bg95", "BG95-M3"),
    "generic": ("generic", "GENERIC"),
}


@pytest.mark.parametrize("name", sorted(SPELLINGS))
def test_every_spelling_resolves_to_its_row_and_quirks(name):
    for spelling in SPELLINGS[name]:
        assert model_row(spelling)["name"] == name, spelling
        assert modems.quirks_for(spelling).name == modems.quirks_for(name).name


def test_every_alias_of_the_table_resolves_to_its_own_row_only():
    for row in MODELS:
        for alias in row["aliases"]:
            assert model_row(alias) is row and model_row(alias.lower()) is row
    aliases = [alias for row in MODELS for alias in row["aliases"]]
    assert len(aliases) == len(set(aliases))


def test_the_board_the_hub_and_the_simulator_use_the_same_row():
    for row in MODELS:
        if row["timing"] is None:
            continue
        for alias in row["aliases"]:
            assert BOARD.MODEM_TIMING[alias] is row["timing"]
            assert GpioModemPower(17, alias).timing is row["timing"]
            assert modem_power_from_config("gpio:17", alias.lower()).timing is row["timing"]
            assert get_profile(alias).key == row["profile"]


def test_each_build_board_and_the_hub_press_the_same_times_for_its_modem():
    from tests.hardware.test_hardware_board import SimMachine

    for build in ("a", "b"):
        pinout = hardware_data.load_pinout(build)
        board = BOARD.Board(pinout, SimMachine())
        model = pinout["parts"]["modem"]
        assert board.modem_power.timing is GpioModemPower(17, model).timing is model_row(model)["timing"]


def test_simulator_profiles_are_the_table_rows_profiles_and_detection_finds_the_row():
    assert sorted(PROFILES) == sorted(row["profile"] for row in MODELS if row["profile"])
    for row in MODELS:
        if row["profile"]:
            profile = PROFILES[row["profile"]]
            assert detect_row(profile.manufacturer, profile.model) is row
            assert modems.detect(profile.manufacturer, profile.model).name == modems.quirks_for(row["name"]).name


def test_the_two_a76xx_power_key_facts_are_one_value():
    # board.py said 500 ms, the hub 2.6 s for the same "on" press: one row now (A76XX Hardware Design, Ton typ. 500 ms)
    t = power_key_timing("A7670E")
    assert power_key_timing("A7670G") is t and BOARD.MODEM_TIMING["A7670E"] is t
    assert t["on_ms"] == 500 and t["off_ms"] >= 2500


def test_every_modem_spelling_in_the_hardware_files_is_in_the_table():
    for build in ("a", "b"):
        folder = hardware_data.HARDWARE / f"build-{build}"
        pinout = json.loads((folder / "pinout.json").read_text())
        power = json.loads((folder / "power.json").read_text())
        for name in [pinout["parts"]["modem"], *pinout["parts"].get("modem_alternatives", ()), *power["modems"]]:
            assert power_key_timing(name) is model_row(name)["timing"], (build, name)


def test_an_unknown_model_names_the_known_ones_wherever_it_is_typed():
    with pytest.raises(UnknownModemModel, match="unknown modem model 'nokia3310'; " + KNOWN + ", generic"):
        model_row("nokia3310")
    with pytest.raises(ValueError, match="unknown modem model 'nokia3310'; " + KNOWN):
        modems.quirks_for("nokia3310")
    with pytest.raises(ConfigError, match=r"\[modem\] model: unknown modem model 'nokia3310'; " + KNOWN):
        check_modem_model("nokia3310")
    assert check_modem_model(None) is None and check_modem_model("a7670") == "a7670"
    assert check_modem_model(None, "exec:uhubctl -a cycle -p 2") is None  # a command knows its own timings
    for model in (None, "generic"):  # a GPIO power key needs the model's press lengths
        with pytest.raises(ConfigError, match=r"\[modem\] model: .*" + KNOWN + "$"):
            check_modem_model(model, "gpio:17")
    with pytest.raises(ConfigError, match=r"\[modem\] model: unknown modem model 'nokia3310'; " + KNOWN):
        modem_power_from_config("gpio:17", "nokia3310")
    hub = {"id": "bamako", "number": "+22370000001"}
    assert parse_config({"hub": hub, "modem": {"model": "sim800"}}).modem_model == "sim800"
    with pytest.raises(ConfigError, match=r"\[modem\] model: unknown modem model 'nokia3310'; " + KNOWN):
        parse_config({"hub": hub, "modem": {"model": "nokia3310"}})
    with pytest.raises(ValueError, match="unknown modem profile 'nokia3310'; known: sim800l, a7670e, sim7600"):
        get_profile("nokia3310")
    pinout = hardware_data.load_pinout("a")
    pinout["parts"]["modem"] = "nokia3310"
    with pytest.raises(BOARD.PinoutError, match="parts.modem': unknown modem model 'nokia3310'; " + KNOWN + "$"):
        BOARD.parse_pinout(pinout)
    pinout["parts"]["modem"] = "generic"  # known, but nothing says how long to press its power key
    with pytest.raises(BOARD.PinoutError, match="no power-key timings for modem model 'generic'; " + KNOWN + "$"):
        BOARD.parse_pinout(pinout)
