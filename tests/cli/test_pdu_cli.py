"""`deme pdu decode|encode` through hub.cli.main, as a person types them."""
import json

import pytest

from drivers import pdu
from hub import cli


@pytest.fixture
def only_pdu_command(monkeypatch):
    # The other subcommands belong to other modules; this tests ours through the real parser and main().
    monkeypatch.setattr(cli, "COMMANDS", {"pdu": cli.COMMANDS["pdu"]})


def test_pdu_is_registered():
    assert cli.COMMANDS["pdu"] == "hub.commands.pdu_cmd"


def test_decode_prints_json(only_pdu_command, capsys):
    hex_ = pdu.encode_deliver("+22370123456", "SOS ɛ", (2026, 11, 23, 10, 15, 0, 0))[0]
    assert cli.main(["pdu", "decode", hex_.lower()]) == 0
    fields = json.loads(capsys.readouterr().out)
    assert fields["type"] == "deliver"
    assert fields["number"] == "+22370123456"
    assert fields["text"] == "SOS ɛ"
    assert fields["timestamp"] == "2026-11-23T10:15:00+00:00"


def test_decode_joins_pieces_pasted_from_a_log(only_pdu_command, capsys):
    hex_, _n = pdu.encode_submit("+22370123456", "hello there")[0]
    assert cli.main(["pdu", "decode", hex_[:10], hex_[10:30], hex_[30:]]) == 0
    assert json.loads(capsys.readouterr().out)["text"] == "hello there"


def test_decode_without_smsc_and_lenient(only_pdu_command, capsys):
    hex_, _n = pdu.encode_submit("+22370123456", "hello there")[0]
    assert cli.main(["pdu", "decode", "--no-smsc", hex_[2:]]) == 0
    assert json.loads(capsys.readouterr().out)["text"] == "hello there"
    assert cli.main(["pdu", "decode", "--lenient", hex_[:-2]]) == 0
    assert json.loads(capsys.readouterr().out)["truncated"] is True


def test_decode_invalid_pdu_exits_2_with_one_line(only_pdu_command, capsys):
    assert cli.main(["pdu", "decode", "0003ZZ"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("deme pdu: invalid PDU:") and "'Z'" in lines[0]


def test_encode_prints_hex_lines(only_pdu_command, capsys):
    assert cli.main(["pdu", "encode", "--to", "+22370123456", "--text", "x" * 200]) == 0
    lines = capsys.readouterr().out.split()
    assert len(lines) == 2
    assert "".join(pdu.decode(line)["text"] for line in lines) == "x" * 200


def test_encode_json_with_status_report(only_pdu_command, capsys):
    assert cli.main(["pdu", "encode", "--to", "0612345678", "--text", "ça va", "--status-report", "--json"]) == 0
    parts = json.loads(capsys.readouterr().out)
    assert len(parts) == 1 and set(parts[0]) == {"pdu", "length"}
    decoded = pdu.decode(parts[0]["pdu"])
    assert decoded["status_report"] is True and decoded["text"] == "ça va" and decoded["encoding"] == "ucs2"
    assert parts[0]["length"] * 2 == len(parts[0]["pdu"]) - 2


def test_encode_bad_number_exits_2(only_pdu_command, capsys):
    assert cli.main(["pdu", "encode", "--to", "06 12 34", "--text", "hi"]) == 2
    err = capsys.readouterr().err
    assert "only digits" in err and err.count("\n") == 1
