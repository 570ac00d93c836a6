"""hub/design/power.py and `deme power`: the budget follows from the figures in hardware/<build>/power.json."""
import argparse
import json

import pytest

from hub.cli import COMMANDS, UsageError
from hub.commands import power_cmd
from hub.design import hardware_data, power


def run_cli(argv, capsys):
    parser = argparse.ArgumentParser()
    power_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["power", *argv])
    assert args.func(args) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("build", hardware_data.BUILDS)
def test_every_figure_has_a_source(build):
    data = power.load_power_data(build)
    figures = [*data["figures"].values(), *(f for m in data["modems"].values() for f in m.values())]
    assert figures and all(f["source"] and isinstance(f["estimate"], bool) for f in figures)


def test_average_is_the_time_weighted_sum_of_the_states():
    data = power.load_power_data("a")
    budget = power.compute(power.PowerConfig(build="a"), data)
    assert sum(budget.seconds_per_hour.values()) == pytest.approx(3600)
    by_hand = sum(budget.states_ma[s] * budget.seconds_per_hour[s] for s in power.STATES) / 3600
    assert budget.average_ma == pytest.approx(by_hand)
    assert budget.hours == pytest.approx(1000 * data["battery"]["usable_fraction"] / by_hand)
    # The firmware's default: the modem off between heartbeats, the RP2040 dormant, everything else asleep.
    f, m = data["figures"], data["modems"]["A7670E"]
    floor = f["mcu_dormant"]["ma"] + f["imu_lowpower"]["ma"] + f["gps_backup"]["ma"] + f["quiescent"]["ma"]
    floor += f["rtc"]["ma"]
    assert budget.states_ma["sleep"] == pytest.approx(floor + m["off"]["ma"])
    assert budget.seconds_per_hour["modem_idle"] == 0 and budget.seconds_per_hour["sleep"] > 3400


def test_the_budget_follows_the_firmware_listen_time():
    """A gated modem stays on listen_s after each heartbeat (firmware/config.py): the budget counts it awake."""
    assert power.PowerConfig().listen_s == power.FIRMWARE_DEFAULTS["listen_s"] > 0
    data = power.load_power_data("a")
    base = power.compute(power.PowerConfig(listen_s=0), data)
    longer = power.compute(power.PowerConfig(listen_s=60), data)
    # the board sleeps through it, woken by the modem's RI (build A wires it): the modem's idle current only
    assert longer.seconds_per_hour["listen"] - base.seconds_per_hour["listen"] == pytest.approx(60)
    assert longer.seconds_per_hour["awake"] == base.seconds_per_hour["awake"]
    assert longer.states_ma["listen"] == pytest.approx(
        longer.states_ma["sleep"] - data["modems"]["A7670E"]["off"]["ma"] + data["modems"]["A7670E"]["idle"]["ma"])
    assert longer.days < base.days
    registered = power.compute(power.PowerConfig(modem_mode="drx", listen_s=60), data)
    assert registered.seconds_per_hour["listen"] == 0  # registered all along: nothing to listen for


def test_battery_life_scales_with_capacity_and_falls_with_more_heartbeats_and_gps_always():
    base = power.compute(power.PowerConfig())
    double = power.compute(power.PowerConfig(battery_mah=2000))
    assert double.hours == pytest.approx(2 * base.hours)
    assert power.compute(power.PowerConfig(heartbeat_min=15)).hours < base.hours
    always = power.compute(power.PowerConfig(gps="always"))
    assert always.days < 2 < base.days
    assert power.compute(power.PowerConfig(alerts_per_day=5)).hours < base.hours


def test_a_stray_press_costs_a_gated_modem_one_start_and_an_always_registered_one_nothing():
    base = power.compute(power.PowerConfig())
    pressed = power.compute(power.PowerConfig(presses_per_day=24))  # one an hour: as much as the heartbeats
    register = power.load_power_data("a")["modems"][base.modem]["register"]["seconds"]
    assert pressed.seconds_per_hour["modem_register"] == pytest.approx(base.seconds_per_hour["modem_register"]
                                                                       + register)
    assert pressed.days < base.days
    drx = power.compute(power.PowerConfig(modem_mode="drx"))
    assert power.compute(power.PowerConfig(modem_mode="drx", presses_per_day=24)).days == drx.days
    with pytest.raises(ValueError, match="presses-per-day"):
        power.compute(power.PowerConfig(presses_per_day=-1))


def test_gating_the_modem_trades_registration_time_for_a_lower_standby():
    drx = power.compute(power.PowerConfig(modem_mode="drx"))
    idle = power.compute(power.PowerConfig(modem_mode="idle"))
    gated = power.compute(power.PowerConfig(modem_mode="gated"))
    assert gated.seconds_per_hour["modem_register"] > 0 == drx.seconds_per_hour["modem_register"]
    assert gated.states_ma["sleep"] < drx.states_ma["modem_idle"] < idle.states_ma["modem_idle"]
    assert gated.days > drx.days > idle.days


def test_the_verdict_for_build_a_on_the_pico_and_on_the_carrier():
    """The firmware's standby reaches 14 days with an hourly heartbeat on both boards; where a configuration misses
    (a heartbeat every 30 min), the advice names what would reach it, the carrier PCB among them."""
    pico = power.compute(power.PowerConfig(build="a"))
    carrier = power.compute(power.PowerConfig(build="a", mcu_board="carrier"))
    assert pico.meets_goal and carrier.days > pico.days and power.advice(pico) == []
    budget = power.compute(power.PowerConfig(build="a", heartbeat_min=30))
    assert not budget.meets_goal
    lines = power.advice(budget)
    faster_carrier = power.compute(power.PowerConfig(build="a", heartbeat_min=30, mcu_board="carrier"))
    assert any("--mcu-board carrier" in line and f"{faster_carrier.days:.1f} days" in line for line in lines)
    needed = budget.average_ma * power.GOAL_DAYS * 24 / 0.85
    assert any(f"{needed:.0f} mAh" in line for line in lines)
    assert power.compute(power.PowerConfig(build="a", heartbeat_min=30, battery_mah=needed + 1)).meets_goal
    # The carrier changes the microcontroller's figures only, as power.json's mcu_boards block says.
    data = power.load_power_data("a")
    dormant = data["mcu_boards"]["carrier"]["mcu_dormant"]["ma"]
    assert pico.states_ma["sleep"] - carrier.states_ma["sleep"] == pytest.approx(
        data["figures"]["mcu_dormant"]["ma"] - dormant)
    with pytest.raises(ValueError, match="no figures for --mcu-board carrier"):
        power.compute(power.PowerConfig(build="b", mcu_board="carrier"))


def test_advice_for_gps_always_starts_with_the_gps():
    budget = power.compute(power.PowerConfig(gps="always"))
    first = power.advice(budget)[0]
    on_alert = power.compute(power.PowerConfig())
    assert first == f"power the GPS only for alerts (--gps on-alert): {on_alert.days:.1f} days"


def test_dormant_sleep_lowers_the_floor_and_is_refused_where_there_is_none():
    light = power.compute(power.PowerConfig(modem_mode="gated", mcu_sleep="light"))
    dormant = power.compute(power.PowerConfig(modem_mode="gated", mcu_sleep="dormant"))
    data = power.load_power_data("a")["figures"]
    assert light.states_ma["sleep"] - dormant.states_ma["sleep"] == pytest.approx(
        data["mcu_sleep"]["ma"] - data["mcu_dormant"]["ma"])
    assert dormant.days > light.days
    assert power.compute(power.PowerConfig(mcu_sleep="deepest")).days == pytest.approx(dormant.days)
    with pytest.raises(ValueError, match="no dormant figure"):
        power.compute(power.PowerConfig(build="b", mcu_sleep="dormant"))
    # build B has no RTC: its deepest sleep is the light one
    assert power.compute(power.PowerConfig(build="b")).states_ma["sleep"] == pytest.approx(
        power.compute(power.PowerConfig(build="b", mcu_sleep="light")).states_ma["sleep"])


def test_cli_prints_each_state_and_the_days(capsys):
    out = run_cli(["--build", "a", "--heartbeat-min", "60", "--gps", "on-alert", "--battery-mah", "1000"], capsys)
    for state in power.STATES:
        assert state in out
    budget = power.compute(power.PowerConfig())
    assert f"{budget.days:.1f} days" in out and "(meets the 14-day goal)" in out


def test_the_profiles_are_the_firmware_modes_and_the_report_shows_each(capsys):
    """Each profile is a firmware setting (modem_mode), except the what-if always-drx, which the report marks."""
    assert set(power.FIRMWARE_PROFILE) == {"gated", "always"}  # firmware/config.py MODEM_MODES
    budgets = power.profile_budgets(power.PowerConfig(build="a", mcu_board="carrier"))
    assert list(budgets) == ["standby", "always", "always-drx"]
    assert budgets["standby"].meets_goal and not budgets["always"].meets_goal
    assert budgets["standby"].config.modem_mode == "gated" and budgets["always"].config.modem_mode == "idle"
    assert budgets["always"].days < budgets["always-drx"].days < budgets["standby"].days
    out = run_cli(["--build", "a", "--mcu-board", "carrier"], capsys)
    assert f"{'standby':<10} {budgets['standby'].days:>5.1f} days (meets the 14-day goal)" in out
    assert f"{'always':<10} {budgets['always'].days:>5.1f} days (does NOT meet" in out
    assert "NOT in the firmware" in out
    out = run_cli(["--build", "a", "--profile", "always", "--mcu-board", "carrier"], capsys)
    assert f"{budgets['always'].days:.1f} days (does NOT meet the 14-day goal)" in out
    # an explicit option overrides the profile
    out = json.loads(run_cli(["--build", "a", "--profile", "standby", "--mcu-sleep", "light", "--json"], capsys))
    assert (out["modem_mode"], out["mcu_sleep"], out["profile"]) == ("gated", "light", "standby")
    assert set(out["profiles"]) == set(power.PROFILES)


def test_build_b_runs_every_profile_on_its_light_sleep():
    budgets = power.profile_budgets(power.PowerConfig(build="b", battery_mah=3500))
    assert list(budgets) == list(power.PROFILES)


def test_cli_json_matches_compute(capsys):
    out = json.loads(run_cli(["--build", "b", "--battery-mah", "3500", "--json"], capsys))
    budget = power.compute(power.PowerConfig(build="b", battery_mah=3500))
    assert out["days"] == round(budget.days, 1) and out["meets_goal"] is budget.meets_goal
    assert set(out["states_ma"]) == set(power.STATES) and out["sources"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--build", "c"], "--build must be one of"),
        (["--heartbeat-min", "0"], "--heartbeat-min must be more than 0"),
        (["--battery-mah", "-5"], "--battery-mah must be more than 0"),
        (["--gps", "sometimes"], "--gps must be one of"),
        (["--modem-mode", "psm"], "--modem-mode must be one of"),
        (["--mcu-sleep", "hibernate"], "--mcu-sleep must be one of"),
        (["--mcu-board", "arduino"], "--mcu-board must be one of"),
        (["--listen-s", "-1"], "--listen-s cannot be negative"),
        (["--profile", "turbo"], "--profile must be one of"),
        (["--modem", "SIM7000G"], "no figures for modem 'SIM7000G'"),
        (["--heartbeat-min", "0.01"], "heartbeat is too frequent"),
    ],
)
def test_cli_refuses_bad_options_with_a_clear_message(argv, message, capsys):
    with pytest.raises(UsageError, match=message):
        run_cli(argv, capsys)


def test_power_is_a_registered_command():
    assert COMMANDS["power"] == "hub.commands.power_cmd"


def test_an_alert_keeps_a_gated_modem_listening_for_the_dispatch():
    base = power.compute(power.PowerConfig())
    alerted = power.compute(power.PowerConfig(alerts_per_day=24))  # one an hour, to read the seconds directly
    profile = power.load_power_data("a")["profile"]
    expected = min(profile["alert_listen_seconds"], power.FIRMWARE_DEFAULTS["alarm_listen_s"])
    assert alerted.seconds_per_hour["listen"] == pytest.approx(base.seconds_per_hour["listen"] + expected)
    registered = power.compute(power.PowerConfig(modem_mode="drx", alerts_per_day=24))
    assert registered.seconds_per_hour["listen"] == 0  # registered all along: no listen window of its own
