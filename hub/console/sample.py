"""Sample wearers and alerts for the console: used by its tests, and to look at the page without a modem.

`python -m hub.console.sample [--port 8080]` serves the console over a temporary store holding two alerts, and
records a new one every time Enter is pressed. The alerts are real signed alert SMS parsed by drivers.alert, so
what the page shows is what the hub would store.
"""
import argparse
import tempfile
import time
from pathlib import Path

from drivers.alert import STATUS_EVENTS, encode_alert, parse_alert
from hub.bus import Bus
from hub.config import parse_config
from hub.hops import Hops
from hub.incidents.operator import OperatorActions
from hub.store import Store

# A wearer name that would run a script if a page ever inserted it as HTML.
XSS_NAME = "<img src=x onerror=alert(1)>"

SAMPLE_DEVICES = (
    ("W1", "+22376000001", "Aminata Traoré"),
    ("W2", "+22376000002", "Moussa Keïta"),
    ("W3", "+22366000001", XSS_NAME),
)
# Bamako, around the Grand Marché.
BAMAKO = (12.65283, -7.99824)


def sample_config(database=":memory:", devices=SAMPLE_DEVICES):
    return parse_config({
        "hub": {"id": "HUB-BKO", "number": "+22370000000", "database": str(database)},
        "devices": [
            {"id": device_id, "key": "%02x" % (index + 1) * 32, "phone": phone, "wearer": wearer}
            for index, (device_id, phone, wearer) in enumerate(devices)
        ],
    })


def sample_sms(config, device_id, counter, event="SOS", category="GEN", position=BAMAKO, acc_m=12, age_s=4,
               cell=None, battery=80, device_time=None):
    """A signed alert SMS as the wearable sends it, and the alert dict the hub parses from it."""
    pos = None
    if position is not None:
        pos = {"lat": position[0], "lon": position[1], "acc_m": acc_m, "age_s": age_s}
    key = config.key_for(device_id)
    raw = encode_alert(key, device_id, counter, event, category, device_time or int(time.time()), pos, cell, battery)
    return raw, parse_alert(raw, config.key_for)


def record_sample(store, bus, config, device_id, counter, received_at=None, **kwargs):
    """Store an alert as ingest does (commit, then record its hop, which announces it) and return the stored alert.
    No receipt is queued and no timeline kept: the console is what is looked at."""
    raw, alert = sample_sms(config, device_id, counter, **kwargs)
    sender = config.devices[device_id].phone
    status, stored = store.record_alert(alert, raw, "sms", sender=sender, received_at=received_at)
    if status == "new":  # a heartbeat is stored closed: it is no alert to announce
        hop = "hub.heartbeat" if alert["event"] in STATUS_EVENTS else "hub.stored"
        Hops(store, bus).record(hop, device=device_id, alert=stored, counter=counter,
                                alert_id=stored["id"], via="sms", event=alert["event"], battery=alert.get("battery"))
    return stored


def main(argv=None):
    from hub.console.server import ConsoleServer

    parser = argparse.ArgumentParser(description="Serve the police console over sample alerts")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        config = sample_config(Path(tmp) / "sample.db")
        store = Store(config.database).open()
        bus = Bus()
        console = ConsoleServer(store, bus, OperatorActions(store, Hops(store, bus), config), config, args.host,
                                args.port).start()
        record_sample(store, bus, config, "W1", 1, category="AGR", received_at=time.time() - 130)
        record_sample(store, bus, config, "W2", 1, event="FALL", category="MED", position=None,
                      cell={"mcc": 610, "mnc": 1, "lac": 0x1F4, "cell_id": 0x2A3B}, battery=15)
        print("console:", console.url, "- Enter records a new SOS, Ctrl-C stops")
        counter = 2
        try:
            while True:
                input()
                record_sample(store, bus, config, "W1", counter, category="HAR",
                              position=(BAMAKO[0] + 0.002, BAMAKO[1] - 0.001), acc_m=30)
                counter += 1
        except (KeyboardInterrupt, EOFError):
            pass
        finally:
            console.stop()
            store.close()


if __name__ == "__main__":
    main()
