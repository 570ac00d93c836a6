# The wearable's config.json (firmware/config.py): a good file loads with the defaults filled in; every bad value is
# refused with a ConfigError that names the key to fix. Runs on CPython and on MicroPython.
import json

from firmware.config import ConfigError, parse_config

GOOD = {"device_id": "W1", "key": "00112233445566778899aabbccddeeff", "hub_number": "+22370000001",
        "wearer": "Awa", "contacts": [{"name": "Moussa", "phone": "+22376000001", "lang": "fr"}]}


def config_with(**changes):
    cfg = dict(GOOD)
    cfg.update(changes)
    return json.dumps(cfg)


def refused(text, *words):
    try:
        parse_config(text)
    except ConfigError as exc:
        for word in words:
            assert word in str(exc), (word, str(exc))
        return
    raise AssertionError("accepted: " + text)


def test_a_good_config_loads_with_the_defaults():
    cfg = parse_config(json.dumps(GOOD))
    assert cfg["device_id"] == "W1" and len(cfg["key"]) == 16 and cfg["modem_model"] is None


def test_a_known_modem_model_in_any_spelling_is_accepted():
    for name in ("SIM800L", "sim800", "A7670E", "a7670"):
        assert parse_config(config_with(modem_model=name))["modem_model"] == name


def test_an_unknown_modem_model_names_the_known_ones():
    refused(config_with(modem_model="SIM900X"), "modem_model", "SIM900X", "SIM800L")


def test_bad_values_name_the_key():
    refused("not json", "config.json")
    refused(config_with(device_id=""), "device_id")
    refused(config_with(key="zz"), "key")
    refused(config_with(key="0011"), "key", "32 hex digits")
    refused(config_with(wearer=""), "wearer")
    refused(config_with(shake_sensitivity=9), "shake_sensitivity")
