"""`deme modem probe` and `deme sms send`: clear one-line errors for a bad port, number or modem; JSON probe and
message references against the modem simulator on a pty."""
import argparse
import json

import pytest

from hub import cli
from hub.commands import modem_cmd
from sim.modem import SimulatedModem


def deme(argv):
    """Parse and run like hub.cli.main, with only this module's commands (registered twice, as COMMANDS does)."""
    parser = argparse.ArgumentParser(prog="deme")
    sub = parser.add_subparsers(dest="command")
    modem_cmd.register(sub)
    modem_cmd.register(sub)
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_lists_both_commands_with_this_module():
    assert cli.COMMANDS["modem"] == cli.COMMANDS["sms"] == "hub.commands.modem_cmd"


@pytest.mark.parametrize("number, expected", [
    ("76123456", "+22376123456"), ("+223 76 12 34 56", "+22376123456"), ("+33612345678", "+33612345678"),
])
def test_numbers_are_normalised_to_e164(number, expected):
    assert modem_cmd.normalise_number(number, "ML") == expected


@pytest.mark.parametrize("number", ["12", "hello", "+2237612345678901", "", "76123456;AT"])
def test_invalid_number_is_a_usage_error(number):
    with pytest.raises(cli.UsageError, match="invalid phone number"):
        deme(["sms", "send", "/dev/null", number, "x"])


def test_unknown_region_is_a_usage_error():
    with pytest.raises(cli.UsageError, match="unknown region"):
        deme(["sms", "send", "/dev/null", "76123456", "x", "--region", "QQ"])


def test_missing_port_is_a_usage_error():
    with pytest.raises(cli.UsageError, match="cannot open serial port '/nonexistent/tty'"):
        deme(["modem", "probe", "/nonexistent/tty"])


@pytest.fixture
def sim():
    m = SimulatedModem("+22376000001", profile="sim800l", time_scale=0).start()
    yield m
    m.stop()


def test_probe_prints_json(sim, capsys):
    assert deme(["modem", "probe", sim.pty_path]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == "SIMCOM_SIM800L" and result["sim"] == "READY"
    assert result["serving_cell"]["mcc"] == 610 and result["signal"]["rssi_dbm"] == -77


def test_probe_without_sim_still_reports_identity(sim, capsys):
    sim.inject("sim_absent")
    assert deme(["modem", "probe", sim.pty_path]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["sim"] == "not inserted" and result["imei"] == sim.imei


def test_send_prints_references(sim, capsys):
    assert deme(["sms", "send", sim.pty_path, "76123456", "test", "--status-report"]) == 0
    assert capsys.readouterr().out.strip() == "sent to +22376123456: 1 part(s), message reference(s) 0"
    assert len(sim.sent) == 1


def test_modem_error_is_one_clear_line(sim):
    sim.inject("cms_error", code=304, count=5)
    with pytest.raises(cli.UsageError, match=r"modem error: \+CMS ERROR: 304"):
        deme(["sms", "send", sim.pty_path, "76123456", "test"])


def test_silent_port_is_a_usage_error(sim, monkeypatch):
    monkeypatch.setattr(modem_cmd, "SYNC", {"sync_tries": 2, "sync_timeout_ms": 100})
    sim.inject("hang")
    with pytest.raises(cli.UsageError, match="no answer from a modem"):
        deme(["modem", "probe", sim.pty_path])


def test_model_option_takes_any_name_of_the_model_table(sim, capsys):
    assert deme(["modem", "probe", sim.pty_path, "--model", "SIM800L"]) == 0
    assert json.loads(capsys.readouterr().out)["quirks"] == "sim800"


def test_unknown_model_option_names_the_known_models(capsys):
    with pytest.raises(SystemExit):
        deme(["modem", "probe", "/dev/null", "--model", "nokia3310"])
    err = capsys.readouterr().err
    assert "unknown modem model 'nokia3310'; known: SIM800L, A7670, SIM7600, EC25, BG95, generic" in err
