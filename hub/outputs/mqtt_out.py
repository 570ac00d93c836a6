"""What the hub tells MQTT subscribers (control rooms, dashboards, integrators), per docs/protocol.md and the JSON
Schema in docs/schema/. Topics are versioned: deme/v1/..."""
import json

SCHEMA_VERSION = 1

# A device's message is one signed alert (at most 160 characters) in a small JSON object: anything bigger is not
# one, and is refused before it is parsed. The broker refuses more than its message_size_limit already
# (hub/platform/mosquitto.conf.in); this is the hub's own limit, whatever broker it is given.
DEVICE_PAYLOAD_MAX_BYTES = 1024
# What the rejected table keeps of a refused message: enough to recognise it, never all of a flood.
REJECTED_RAW_MAX_CHARS = 500
# The shipped broker's autosave_interval (hub/platform/mosquitto.conf.in): how far back a broker killed without
# saving can have lost what it had acknowledged to the hub.
BROKER_AUTOSAVE_INTERVAL_S = 60


class DeviceMessageRejected(ValueError):
    """A device's MQTT message refused for its content. `raw` is what may be stored of it: valid UTF-8, truncated."""

    def __init__(self, reason, raw):
        super().__init__(reason)
        self.raw = raw


def storable_text(value, limit=REJECTED_RAW_MAX_CHARS):
    """Bytes or text as text any UTF-8 store accepts: invalid bytes and lone surrogates escaped (backslashreplace,
    so they stay visible), cut at `limit` characters."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value[:limit * 4]).decode("utf-8", "backslashreplace")[:limit]
    return str(value)[:limit].encode("utf-8", "backslashreplace").decode("utf-8")


def alert_topic(hub_id):
    return f"deme/v1/hubs/{hub_id}/alerts"


def event_topic(hub_id):
    return f"deme/v1/hubs/{hub_id}/events"


def status_topic(hub_id):
    return f"deme/v1/hubs/{hub_id}/status"


def device_alert_topic(device_id):
    return f"deme/v1/devices/{device_id}/alerts"


def device_ack_topic(device_id):
    return f"deme/v1/devices/{device_id}/acks"


def device_status_topic(device_id):
    """Retained, QoS 1: the hub's view of one wearable (ok, silent, low battery)."""
    return f"deme/v1/devices/{device_id}/status"


# What the retained device status carries (docs/schema/device-status.schema.json). No position: a retained
# message is handed to every later subscriber, and where a vulnerable person was last seen is not for everyone.
DEVICE_STATUS_FIELDS = ("id", "wearer", "status", "heartbeat_min", "last_heard_at", "last_via", "last_event",
                        "battery", "low_battery", "next_heartbeat_at", "silent_after", "silent_at", "back_at")


def device_status_payload(hub_id, status, t):
    """status: a device as Liveness.describe() (hub.incidents.liveness) returns it; t: this publication's hub time."""
    return json.dumps({
        "v": SCHEMA_VERSION,
        "hub": hub_id,
        "t": t,
        "device": {name: status.get(name) for name in DEVICE_STATUS_FIELDS},
    }, separators=(",", ":"))


def alert_payload(hub_id, alert, wearer=None):
    position = None
    if alert.get("lat") is not None:
        position = {"lat": alert["lat"], "lon": alert["lon"], "acc_m": alert.get("acc_m"),
                    "fix_age_s": alert.get("fix_age_s")}
    return json.dumps({
        "v": SCHEMA_VERSION,
        "hub": hub_id,
        "alert": {
            "id": alert["id"], "device_id": alert["device_id"], "wearer": wearer, "counter": alert["counter"],
            "event": alert["event"], "category": alert["category"], "device_time": alert.get("device_time"),
            "received_at": alert["received_at"], "via": alert["via"], "position": position,
            "cell": alert.get("cell"), "battery": alert.get("battery"), "state": alert["state"],
            "acknowledged_at": alert.get("acknowledged_at"), "acknowledged_by": alert.get("acknowledged_by"),
            "dispatched_at": alert.get("dispatched_at"), "unit": alert.get("unit"),
            "resolved_at": alert.get("resolved_at"),
        },
    }, separators=(",", ":"))


# Incident events on the hub's events topic (beside the alerts' updates): {"v", "hub", "t", "incident": {"event",
# "alert_id", "device_id", "code", "source", ...detail}}. No position: the alert's own payload carries it.
INCIDENT_EVENTS = {"incident.unanswered": "unanswered"}


def incident_event_payload(hub_id, kind, alert, detail, t):
    return json.dumps({
        "v": SCHEMA_VERSION,
        "hub": hub_id,
        "t": t,
        "incident": {"event": INCIDENT_EVENTS[kind], "alert_id": alert["id"], "device_id": alert["device_id"],
                     "code": alert.get("code"), "source": alert.get("source"), "state": alert["state"],
                     **{key: value for key, value in (detail or {}).items() if key not in ("lat", "lon", "cell")}},
    }, separators=(",", ":"))


def parse_device_payload(payload):
    """A wearable's MQTT alert: {"v": 1, "msg": "<the same signed text as the SMS>"}. Total: returns the text (valid
    UTF-8, so the store can always keep it) or raises DeviceMessageRejected, whatever the bytes."""
    if len(payload) > DEVICE_PAYLOAD_MAX_BYTES:
        raise DeviceMessageRejected(f"payload of {len(payload)} bytes, more than {DEVICE_PAYLOAD_MAX_BYTES}",
                                    storable_text(payload))
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        # RecursionError: JSON nested deeper than the interpreter's stack, which json.loads does not turn into
        # a ValueError.
        raise DeviceMessageRejected("payload is not JSON", storable_text(payload)) from None
    if not isinstance(data, dict) or data.get("v") != SCHEMA_VERSION or not isinstance(data.get("msg"), str):
        raise DeviceMessageRejected('payload must be {"v": 1, "msg": "<signed alert text>"}', storable_text(payload))
    text = data["msg"]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a \ud800 escape: no UTF-8 store can bind it
        raise DeviceMessageRejected("msg is not valid Unicode (lone surrogate)", storable_text(text)) from None
    return text
