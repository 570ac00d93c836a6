"""hub.toml: every key has a type and a range, checked at load with a ConfigError naming the table and the key
(values accepted before that failed later: MQTT refusing the hub's topic, positions purged at once, a port the
console could never bind), and `deme hub check-config` says the same in one line, exit 2."""
import subprocess
import sys
from pathlib import Path

import pytest

from hub.config import ConfigError, load_config

DEME = str(Path(sys.executable).with_name("deme"))
KEY_HEX = "11" * 32
HUB = '[hub]\nid = "bamako"\nnumber = "+22370000001"\n'
DEVICE = ('[[devices]]\nid = "W1"\nkey = "%s"\nphone = "+22376000001"\nwearer = "Awa"\n' % KEY_HEX)
CONTACT = '[[devices.contacts]]\nname = "Moussa"\nphone = "+22366000001"\n'


def write(tmp_path, text, name="hub.toml"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def check_config(path):
    return subprocess.run([DEME, "hub", "check-config", "--config", str(path)], capture_output=True, text=True,
                          timeout=60)


# (the document, words the error must hold: the table, the key, the range)
REFUSED = [
    (HUB.replace('"bamako"', '"bko/1"'), ["[hub]", "'id'", "/ # +"]),
    (HUB.replace('"bamako"', '"bko#"'), ["[hub]", "'id'"]),
    (HUB.replace('"bamako"', '"+"'), ["[hub]", "'id'"]),
    (HUB.replace('"bamako"', '""'), ["[hub]", "'id'"]),
    (HUB.replace('"bamako"', '"b ko"'), ["[hub]", "'id'"]),
    (HUB + "[mqtt]\nhost = \"broker\"\nport = 0\n", ["[mqtt]", "'port'", "1 to 65535", "not 0"]),
    (HUB + "[mqtt]\nhost = \"broker\"\nport = -1\n", ["[mqtt]", "'port'", "not -1"]),
    (HUB + "[mqtt]\nhost = \"broker\"\nport = 99999\n", ["[mqtt]", "'port'", "not 99999"]),
    (HUB + "[mqtt]\nhost = \"broker\"\nport = \"1883\"\n", ["[mqtt]", "'port'"]),
    (HUB + "[console]\nport = 0\n", ["[console]", "'port'", "1 to 65535"]),
    (HUB + "[console]\nport = 99999\n", ["[console]", "'port'"]),
    (HUB + "[console]\nport = 8080.5\n", ["[console]", "'port'"]),
    (HUB + "retention_days = 0\n", ["[hub]", "'retention_days'", "1 to 3650"]),
    (HUB + "retention_days = -3\n", ["[hub]", "'retention_days'"]),
    (HUB + "outbox_max_attempts = 0\n", ["[hub]", "'outbox_max_attempts'", "1 to 100"]),
    (HUB + "outbox_retry_s = -5\n", ["[hub]", "'outbox_retry_s'", "1 to 600"]),
    (HUB + "outbox_retry_s = 0\n", ["[hub]", "'outbox_retry_s'"]),
    (HUB + "outbox_retry_s = nan\n", ["[hub]", "'outbox_retry_s'"]),
    (HUB + "outbox_retry_s = inf\n", ["[hub]", "'outbox_retry_s'"]),
    (HUB + "[modem]\nport = \"/dev/ttyUSB0\"\nbaudrate = -115200\n", ["[modem]", "'baudrate'", "1200"]),
    (HUB + "[modem]\nport = \"/dev/ttyUSB0\"\nbaudrate = 0\n", ["[modem]", "'baudrate'"]),
    (HUB + "[modem]\nport = \"\"\n", ["[modem]", "'port'"]),
    (HUB + "[modem]\npower = \"gpio:99\"\nmodel = \"SIM800L\"\n", ["[modem] power", "0 to 27"]),
    (HUB + "[modem]\npower = \"gpio:\u00b2\"\n", ["[modem] power", "gpio:<BCM pin>"]),
    (HUB + "[mqtt]\nbroker_autosave_s = 0\n", ["[mqtt]", "'broker_autosave_s'"]),
    (HUB + "[mqtt]\nhost = \"broker\"\npassword = \"x\"\n", ["[mqtt]", "'password'", "'username'"]),
    (HUB + "[mqtt]\nhost = \"\"\n", ["[mqtt]", "'host'"]),
    (HUB.replace('number = "+22370000001"', 'number = "+22370000001"\nregion = "XX"'), ["[hub]", "'region'"]),
    (HUB + 'database = ""\n', ["[hub]", "'database'"]),
    (HUB + 'database = "a\\u0000b"\n', ["[hub]", "'database'"]),
    (HUB + "retention_day = 7\n", ["[hub]", "unknown key 'retention_day'", "retention_days"]),
    (HUB + "[moden]\nport = \"/dev/ttyUSB0\"\n", ["unknown table or key 'moden'", "modem"]),
    (HUB + "devices = 3\n", ["[hub]: unknown key 'devices'", "a table of its own"]),  # TOML puts it in [hub]
    ('devices = 3\n' + HUB, ["'devices' must be an array of tables", "[[devices]]"]),
    ('modem = "x"\n' + HUB, ["[modem] must be a table"]),
    ('hub = 3\n', ["[hub] must be a table"]),
    ('console = [1, 2]\n' + HUB, ["[console] must be a table"]),
    (HUB + DEVICE + 'contacts = "Moussa"\n', ["device W1", "'contacts' must be an array of tables"]),
    (HUB + DEVICE + 'contacts = [1]\n', ["device W1", "'contacts'"]),
    (HUB + DEVICE.replace('wearer = "Awa"', 'wearer = "  "'), ["device W1", "'wearer'"]),
    (HUB + DEVICE + DEVICE.replace('"W1"', '"W2"'), ["device W2", "'phone'", "W1"]),
    (HUB + DEVICE + CONTACT.replace('"Moussa"', '""'), ["device W1 contact #1", "'name'"]),
    (HUB + "[console]\nallowed_hosts = \"deme-hub.local\"\n", ["[console]", "'allowed_hosts'", "list"]),
    (HUB + "[console]\nallowed_hosts = [3]\n", ["[console]", "'allowed_hosts'"]),
    (HUB + "[console]\nallowed_hosts = [\"http://deme-hub.local:8080\"]\n", ["[console]", "'allowed_hosts'",
                                                                            "no http://"]),
    (HUB + "[console]\nallowed_hosts = [\"*.local\"]\n", ["[console]", "'allowed_hosts'", "wildcard"]),
    (HUB + "[console]\nallowed_hosts = [\"\"]\n", ["[console]", "'allowed_hosts'"]),
    (HUB.encode() + b"# caf\xe9 in Latin-1\n", ["not UTF-8", "byte"]),
    (b"\xff\xfe[\x00h\x00u\x00b\x00]\x00", ["not UTF-8"]),  # UTF-16, as some editors save
    (HUB + "a = " + "[" * 2000 + "]" * 2000 + "\n", ["not valid TOML"]),
]


@pytest.mark.parametrize("text, words", REFUSED)
def test_a_value_that_would_fail_later_is_refused_at_load_naming_its_key(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert message.startswith(str(path))  # which file
    for word in words:
        assert word in message, message


@pytest.mark.parametrize("text, words", REFUSED[::6] + REFUSED[-3:])
def test_check_config_says_the_same_in_one_line_exit_2(tmp_path, text, words):
    result = check_config(write(tmp_path, text))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    for word in words:
        assert word in result.stderr


def test_a_good_configuration_loads_with_its_values(tmp_path):
    text = (HUB + 'retention_days = 7\noutbox_max_attempts = 3\noutbox_retry_s = 2.5\n'
            '[modem]\nport = "/dev/ttyUSB0"\nbaudrate = 9600\nmodel = "SIM800L"\npower = "gpio:17"\n'
            '[mqtt]\nhost = "127.0.0.1"\nport = 8883\nusername = "hub"\npassword = "pw"\nbroker_autosave_s = 30\n'
            '[console]\nhost = "0.0.0.0"\nport = 1\nallowed_hosts = ["Deme-Hub.local.", "10.0.0.2", "hub"]\n'
            + DEVICE + CONTACT)
    config = load_config(write(tmp_path, "\ufeff" + text))  # a byte-order mark is not content
    assert (config.hub_id, config.retention_days, config.outbox_max_attempts, config.outbox_retry_s) == \
        ("bamako", 7, 3, 2.5)
    assert (config.modem_port, config.modem_baudrate, config.modem_model, config.modem_power) == \
        ("/dev/ttyUSB0", 9600, "SIM800L", "gpio:17")
    assert (config.mqtt_port, config.mqtt_broker_autosave_s, config.console_port) == (8883, 30.0, 1)
    assert config.console_allowed_hosts == ("deme-hub.local", "hub")  # IPs always pass; names lower-cased
    assert config.devices["W1"].contacts[0].phone == "+22366000001"
    result = check_config(write(tmp_path, text, "other.toml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("hub bamako (+22370000001), 1 device(s)")


def test_a_file_that_cannot_be_read_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(tmp_path)  # a folder
