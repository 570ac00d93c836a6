"""The wearable's provisioning (config.json on flash), validated at boot with errors that name what to fix."""
import binascii
import json

from drivers.alert import CATEGORIES
from drivers.modems.models import UnknownModemModel, model_row

DEFAULTS = {
    "lang": "fr",
    "contacts": [],
    "patterns": {"2": "MED", "3": "AGR"},
    "long_press_ms": 2000,
    "cancel_window_s": 30,
    "retry_s": 60,
    "max_tries": 5,
    "slow_retry_s": 600,
    "modem_model": None,
    "sim_pin": None,
    "cell_refresh_s": 300,
    "followup_s": 600,
    "gps_on_s": 60,
    "gps_max_on_s": 300,
    "gps_refresh_s": 0,  # 0: the receiver wakes only for alarms (a refresh every hour would cost a third of the
                         # standby budget); the POS follow-up carries the fix that comes after an alarm
    "fall_cancel_s": 30,
    "shake_sensitivity": 3,
    # Power (firmware/power.py): "gated" switches the modem off between heartbeats (the hub's SMS wait at the SMS
    # centre until the modem is on again); "always" keeps it registered (reachable at once, a third of the battery
    # life: `deme power`).
    "modem_mode": "gated",
    "heartbeat_s": 3600,
    "listen_s": 10,           # the modem stays on this long after a heartbeat went: SMS queued for it come in
    "alarm_listen_s": 1800,   # and this long after an alarm, or until an operator dispatches or resolves
    "lowbat_percent": 15,
    "sleep": True,            # the microcontroller sleeps (dormant on build A) when nothing is going on
}
MODEM_MODES = ("gated", "always")


class ConfigError(ValueError):
    pass


def _number(value, where):
    # The device's small check (the hub validates fully with phonenumbers): + then 6 to 15 digits.
    if not isinstance(value, str) or len(value) < 7 or len(value) > 16 or value[0] != "+" or not value[1:].isdigit():
        raise ConfigError(where + " must be an international number like +22376000001")
    return value


def parse_config(text):
    try:
        raw = json.loads(text)
    except ValueError:
        raise ConfigError("config.json is not valid JSON")
    if not isinstance(raw, dict):
        raise ConfigError("config.json must hold an object")
    cfg = dict(DEFAULTS)
    cfg.update(raw)
    device_id = cfg.get("device_id")
    if not isinstance(device_id, str) or not 1 <= len(device_id) <= 16:
        raise ConfigError("device_id must be 1 to 16 characters")
    try:
        key = binascii.unhexlify(cfg.get("key") or "")
    except ValueError:
        raise ConfigError("key must be hexadecimal")
    if len(key) < 16:
        raise ConfigError("key must be at least 16 bytes (32 hex digits)")
    cfg["key"] = key
    cfg["hub_number"] = _number(cfg.get("hub_number"), "hub_number")
    if not isinstance(cfg.get("wearer"), str) or not cfg["wearer"]:
        raise ConfigError("wearer (the name contacts read) is required")
    contacts = []
    for i, contact in enumerate(cfg["contacts"]):
        where = "contacts[%d]" % i
        if not isinstance(contact, dict):
            raise ConfigError(where + " must be an object")
        contacts.append({"name": str(contact.get("name", "")), "lang": contact.get("lang", cfg["lang"]),
                         "phone": _number(contact.get("phone"), where + ".phone")})
    cfg["contacts"] = contacts
    patterns = {}
    for count, category in cfg["patterns"].items():
        if category not in CATEGORIES:
            raise ConfigError("patterns: %s is not a category (%s)" % (category, ", ".join(CATEGORIES)))
        try:
            patterns[int(count)] = category
        except ValueError:
            raise ConfigError("patterns: keys are press counts like \"2\"")
    cfg["patterns"] = patterns
    for name in ("long_press_ms", "cancel_window_s", "retry_s", "max_tries", "slow_retry_s", "cell_refresh_s",
                 "followup_s", "fall_cancel_s", "gps_on_s", "gps_max_on_s", "heartbeat_s", "listen_s",
                 "alarm_listen_s"):
        if not isinstance(cfg[name], int) or isinstance(cfg[name], bool) or cfg[name] <= 0:
            raise ConfigError(name + " must be a positive whole number")
    if not isinstance(cfg["gps_refresh_s"], int) or isinstance(cfg["gps_refresh_s"], bool) or cfg["gps_refresh_s"] < 0:
        raise ConfigError("gps_refresh_s must be a whole number of seconds, 0 for alarms only")
    if cfg["modem_mode"] not in MODEM_MODES:
        raise ConfigError("modem_mode must be one of " + ", ".join(MODEM_MODES))
    if not isinstance(cfg["lowbat_percent"], int) or not 0 <= cfg["lowbat_percent"] <= 50:
        raise ConfigError("lowbat_percent must be a whole number from 0 (never) to 50")
    if cfg["sleep"] not in (True, False):
        raise ConfigError("sleep must be true or false")
    if cfg["shake_sensitivity"] not in (1, 2, 3, 4, 5):
        raise ConfigError("shake_sensitivity must be 1 (hardest to trigger) to 5 (easiest)")
    if cfg["modem_model"] is not None:
        try:
            model_row(cfg["modem_model"])
        except UnknownModemModel as exc:
            raise ConfigError("modem_model: %s (leave it out to detect the modem)" % exc)
    return cfg


def load_config(path):
    try:
        with open(path) as handle:
            text = handle.read()
    except OSError:
        raise ConfigError(path + " not found: provision the device (docs/installer-guide.md)")
    return parse_config(text)
