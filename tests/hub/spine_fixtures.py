"""Shared builders for the hub's spine tests: a config with one wearable, signed alerts."""
from drivers.alert import encode_alert
from hub.config import parse_config

KEY_HEX = "11" * 32
KEY = bytes.fromhex(KEY_HEX)
HUB_NUMBER = "+22370000001"
W1_PHONE = "+22376000001"
CONTACT_PHONE = "+22366000001"


def make_config(tmp_path, **hub):
    data = {
        "hub": {"id": "test", "number": HUB_NUMBER, "database": str(tmp_path / "hub.db"), **hub},
        "devices": [{"id": "W1", "key": KEY_HEX, "phone": W1_PHONE, "wearer": "Awa Traoré",
                     "contacts": [{"name": "Moussa", "phone": CONTACT_PHONE, "lang": "fr"}]}],
    }
    return parse_config(data)


def alert_text(counter, event="SOS", category="GEN", position=True, key=KEY, device="W1"):
    pos = {"lat": 13.4317, "lon": -6.2157, "acc_m": 12, "age_s": 2} if position else None
    return encode_alert(key, device, counter, event, category, 1795430100, pos,
                        {"mcc": 610, "mnc": 1, "lac": 0x1F4, "cell_id": 0x2A3B}, 80)
