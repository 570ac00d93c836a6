"""hub/power.py and `deme power`: the budget follows from the figures in hardware/<build>/power.json."""
import argparse
import json

import pytest

from hub import hardware_data, power
from hub.cli import COMMANDS, UsageError
from hub.commands import power_cmd


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
    # the standby state dominates: modem registered and sleeping, everything else asleep
    f, m = data["figures"], data["modems"]["A7670E"]
    standby = f["mcu_sleep"]["ma"] + f["imu_lowpower"]["ma"] + f["gps_backup"]["ma"] + f["quiescent"]["ma"]
    standby += f["rtc"]["ma"]
    assert budget.states_ma["modem_idle"] == pytest.approx(standby + m["sleep_drx"]["ma"])


def test_battery_life_scales_with_capacity_and_falls_with_more_heartbeats_and_gps_always():
    base = power.compute(power.PowerConfig())
    double = power.compute(power.PowerConfig(battery_mah=2000))
    assert double.hours == pytest.approx(2 * base.hours)
    assert power.compute(power.PowerConfig(heartbeat_min=15)).hours < base.hours
    always = power.compute(power.PowerConfig(gps="always"))
    assert always.days < 2 < base.days
    assert power.compute(power.PowerConfig(alerts_per_day=5)).hours < base.hours


def test_gating_the_modem_trades_registration_time_for_a_lower_standby():
    drx = power.compute(power.PowerConfig(modem_mode="drx"))
    gated = power.compute(power.PowerConfig(modem_mode="gated"))
    assert gated.seconds_per_hour["modem_register"] > 0 == drx.seconds_per_hour["modem_register"]
    assert gated.states_ma["sleep"] < drx.states_ma["modem_idle"]
    assert gated.days > drx.days


def test_the_honest_verdict_for_build_a_with_an_hourly_heartbeat():
    """Build A does not reach 14 days on 1,000 mAh with the modem registered; the advice names what would."""
    budget = power.compute(power.PowerConfig(build="a"))
    assert not budget.meets_goal
    lines = power.advice(budget)
    assert any("--modem-mode gated" in line for line in lines)
    needed = budget.average_ma * power.GOAL_DAYS * 24 / 0.85
    assert any(f"{needed:.0f} mAh" in line for line in lines)
    assert power.compute(power.PowerConfig(build="a", battery_mah=needed + 1)).meets_goal


def test_advice_for_gps_always_starts_with_the_gps():
    budget = power.compute(power.PowerConfig(gps="always"))
    first = power.advice(budget)[0]
    on_alert = power.compute(power.PowerConfig())
    assert first == f"power the GPS only for alerts (--gps on-alert): {on_alert.days:.1f} days"


def test_dormant_sleep_lowers_the_floor_and_is_refused_where_there_is_none():
    light = power.compute(power.PowerConfig(modem_mode="gated"))
    dormant = power.compute(power.PowerConfig(modem_mode="gated", mcu_sleep="dormant"))
    data = power.load_power_data("a")["figures"]
    assert light.states_ma["sleep"] - dormant.states_ma["sleep"] == pytest.approx(
        data["mcu_sleep"]["ma"] - data["mcu_dormant"]["ma"])
    assert dormant.meets_goal and not light.meets_goal
    with pytest.raises(ValueError, match="no dormant figure"):
        power.compute(power.PowerConfig(build="b", mcu_sleep="dormant"))


def test_cli_prints_each_state_and_the_days(capsys):
    out = run_cli(["--build", "a", "--heartbeat-min", "60", "--gps", "on-alert", "--battery-mah", "1000"], capsys)
    for state in power.STATES:
        assert state in out
    budget = power.compute(power.PowerConfig())
    assert f"{budget.days:.1f} days" in out and "does NOT meet the 14-day goal" in out


def test_build_a_standby_profile_meets_the_goal_and_the_report_shows_both(capsys):
    """The RTC makes the standby profile possible; the default stays what the firmware does today."""
    data = power.load_power_data("a")
    assert "does not have" not in data["figures"]["mcu_dormant"]["source"]
    assert data["figures"]["rtc"]["ma"] < 0.001 and "PCF8563" in data["figures"]["rtc"]["source"]
    budgets = power.profile_budgets(power.PowerConfig(build="a"))
    assert list(budgets) == ["as-built", "standby"]
    assert not budgets["as-built"].meets_goal and budgets["standby"].meets_goal
    assert budgets["standby"].config.modem_mode == "gated" and budgets["standby"].config.mcu_sleep == "dormant"
    out = run_cli(["--build", "a"], capsys)
    assert f"{'standby':<9} {budgets['standby'].days:>5.1f} days (meets the 14-day goal)" in out
    assert f"{'as-built':<9} {budgets['as-built'].days:>5.1f} days (does NOT meet" in out
    out = run_cli(["--build", "a", "--profile", "standby"], capsys)
    assert f"{budgets['standby'].days:.1f} days (meets the 14-day goal)" in out
    # an explicit option overrides the profile
    out = json.loads(run_cli(["--build", "a", "--profile", "standby", "--mcu-sleep", "light", "--json"], capsys))
    assert (out["modem_mode"], out["mcu_sleep"], out["profile"]) == ("gated", "light", "standby")
    assert out["profiles"]["standby"]["meets_goal"] is True


def test_build_b_has_only_the_as_built_profile():
    assert list(power.profile_budgets(power.PowerConfig(build="b", battery_mah=3500))) == ["as-built"]


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
