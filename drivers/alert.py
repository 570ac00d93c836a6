"""The alert and ack SMS formats (docs/protocol.md): compact `key=value;` text that fits one GSM-7 SMS.

Device -> hub:  DM1;i=W1;n=42;e=SOS;c=MED;t=1795430100;p=13.43170,-6.21570;r=15;f=3;g=610-1-1F4-2A3B;b=87;m=<mac>
Hub -> device:  DA1;i=W1;h=7;n=42;s=ACK;m=<mac>

The MAC is HMAC-SHA256 under the device's key over every character before ";m=", truncated to 80 bits (20 hex
digits). MicroPython has no `hmac` module, so HMAC is built here from hashlib.sha256 (RFC 2104).
Parsing is total: any text gives a dict or raises ProtocolError.
"""
import binascii
import hashlib

ALERT_VERSION = "DM1"
ACK_VERSION = "DA1"
MAC_HEX_DIGITS = 20  # 80 bits: above the 64-bit floor, still leaves room in 160 GSM-7 characters
MAX_SMS_CHARS = 160
MAX_ACC_M = 99999
MAX_AGE_S = 999999
# Device time (t=): Unix seconds, 0 when unknown, at most 2**32 - 1 (the year 2106), as the counter.
MAX_DEVICE_TIME_S = 0xFFFFFFFF

# Event codes (e=) and their classes: the one table the firmware, the hub and the console (through its API) read.
# SOS and FALL ask for help; CAN is the wearer's cancel; DUR looks like a cancel to a bystander but is escalated
# silently as duress; POS carries the fix that came after an alarm; LOWBAT and HB come without a hand on the button.
#   urgent    someone may be in danger: first on the console; a later fix follows as POS; the wearable's modem
#             stays on to let the wearer feel the operator's answer
#   contacts  the trusted contacts get a readable SMS too
#   followup  not an incident of its own: it completes the device's latest urgent alarm
#   low       an incident nobody is in danger from yet (someone may need to visit the wearer)
#   silent    the wearer did not press anything: its receipt is not felt
#   status    not an incident: it feeds the device list; sent best effort (dropped after its tries, never escalated)
#   discreet  a bystander may be watching: whatever the hub says of it, or of an alarm before it, the wearable plays
#             only what a cancel's receipt plays
EVENT_CLASSES = {
    "SOS": ("urgent", "contacts"),
    "FALL": ("urgent", "contacts"),
    "CAN": ("contacts",),
    "DUR": ("urgent", "contacts", "discreet"),
    "HB": ("silent", "status"),
    "LOWBAT": ("silent", "low"),
    "POS": ("followup", "contacts"),
}
EVENTS = ("SOS", "FALL", "CAN", "DUR", "HB", "LOWBAT", "POS")


def events_in(event_class):
    """The event codes of one class of EVENT_CLASSES, in EVENTS order."""
    return tuple(e for e in EVENTS if event_class in EVENT_CLASSES[e])


URGENT_EVENTS = events_in("urgent")
CONTACT_EVENTS = events_in("contacts")
SILENT_EVENTS = events_in("silent")
STATUS_EVENTS = events_in("status")
DISCREET_EVENTS = events_in("discreet")
# Incident categories (c=): chosen by press pattern.
CATEGORIES = ("GEN", "MED", "AGR", "FIRE", "HAR")
# Hub -> device statuses (s=): RCV stored at the hub; ACK an operator has seen it (the wearer feels it);
# DSP help dispatched; RES resolved.
STATUSES = ("RCV", "ACK", "DSP", "RES")

_BLOCK = 64


class ProtocolError(ValueError):
    """The one error every parser here raises: the text is not a valid Deme message."""


def hmac_sha256(key, message):
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key + bytes(_BLOCK - len(key))
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    inner.update(message)
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    outer.update(inner.digest())
    return outer.digest()


def mac_hex(key, body):
    digest = hmac_sha256(key, body.encode())
    return binascii.hexlify(digest).decode()[:MAC_HEX_DIGITS]


def _equal(a, b):
    # Constant time, so a forger learns nothing from how fast a wrong MAC is refused.
    if len(a) != len(b):
        return False
    diff = 0
    for x, y in zip(a, b):
        diff |= ord(x) ^ ord(y)
    return diff == 0


def _check_id(device_id):
    if not device_id or len(device_id) > 16:
        raise ProtocolError("device id must be 1 to 16 characters")
    for ch in device_id:
        if not ("0" <= ch <= "9" or "A" <= ch <= "Z" or "a" <= ch <= "z" or ch == "-"):
            raise ProtocolError("device id may hold only letters, digits and '-'")


def _coord(value):
    # 5 decimals: about 1.1 m, below any GNSS accuracy a wearable has.
    text = "%.5f" % value
    return text


def encode_alert(key, device_id, counter, event, category="GEN", device_time=0, position=None, cell=None,
                 battery=None):
    """Build the alert SMS text. `position` is a dict with lat, lon, acc_m, age_s (or None: no fix).

    `cell` is a dict with mcc, mnc, lac, cell_id (or None). An alert without a fix is still an alert.
    """
    _check_id(device_id)
    if event not in EVENTS:
        raise ProtocolError("unknown event " + str(event))
    if category not in CATEGORIES:
        raise ProtocolError("unknown category " + str(category))
    if not 0 <= counter < 1 << 32:
        raise ProtocolError("counter out of range")
    device_time = int(device_time)
    if not 0 <= device_time <= MAX_DEVICE_TIME_S:
        device_time = 0  # a clock gone wrong: the time is unknown, the alarm still goes
    parts = [ALERT_VERSION, "i=" + device_id, "n=%d" % counter, "e=" + event, "c=" + category,
             "t=%d" % device_time]
    if position:
        lat = position["lat"]
        lon = position["lon"]
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ProtocolError("position out of range")
        parts.append("p=" + _coord(lat) + "," + _coord(lon))
        # Capped so the longest alert still fits one SMS: 100 km or a fix 11 days old says all there is to say.
        parts.append("r=%d" % max(0, min(MAX_ACC_M, int(position.get("acc_m") or 0))))
        parts.append("f=%d" % max(0, min(MAX_AGE_S, int(position.get("age_s") or 0))))
    else:
        parts.append("p=-")
    if cell:
        # LAC/TAC are 16 bits (TS 24.008, 24.301); a cell id is at most 28 bits (the LTE ECI).
        if not (0 <= cell["lac"] <= 0xFFFF and 0 <= cell["cell_id"] <= 0xFFFFFFF
                and 0 <= cell["mcc"] <= 999 and 0 <= cell["mnc"] <= 999):
            raise ProtocolError("cell identity out of range")
        parts.append("g=%d-%d-%X-%X" % (cell["mcc"], cell["mnc"], cell["lac"], cell["cell_id"]))
    if battery is not None:
        parts.append("b=%d" % max(0, min(100, int(battery))))
    body = ";".join(parts)
    text = body + ";m=" + mac_hex(key, body)
    if len(text) > MAX_SMS_CHARS:
        raise ProtocolError("alert longer than one SMS")
    return text


def encode_ack(key, device_id, hub_counter, alert_counter, status):
    _check_id(device_id)
    if status not in STATUSES:
        raise ProtocolError("unknown status " + str(status))
    body = "%s;i=%s;h=%d;n=%d;s=%s" % (ACK_VERSION, device_id, hub_counter, alert_counter, status)
    return body + ";m=" + mac_hex(key, body)


def split_fields(text):
    """Split `VER;k=v;...;m=mac` into (version, fields dict, signed body, mac). Raises ProtocolError."""
    if not isinstance(text, str):
        raise ProtocolError("message is not text")
    text = text.strip()
    if len(text) > MAX_SMS_CHARS * 4:
        raise ProtocolError("message too long")
    try:
        text.encode()  # the MAC is over UTF-8; a lone surrogate (CPython, from an MQTT payload's JSON) has none
    except UnicodeError:
        raise ProtocolError("message is not valid text")
    cut = text.rfind(";m=")
    if cut < 0:
        raise ProtocolError("no MAC (;m=) in message")
    body = text[:cut]
    mac = text[cut + 3:]
    items = body.split(";")
    version = items[0]
    fields = {}
    for item in items[1:]:
        eq = item.find("=")
        if eq <= 0:
            raise ProtocolError("field without key=value: " + item[:20])
        key = item[:eq]
        if key in fields:
            raise ProtocolError("field repeated: " + key)
        fields[key] = item[eq + 1:]
    return version, fields, body, mac


def looks_like_alert(text):
    return isinstance(text, str) and text.strip().startswith(ALERT_VERSION + ";")


def looks_like_ack(text):
    return isinstance(text, str) and text.strip().startswith(ACK_VERSION + ";")


def _ascii_digits(raw, hexadecimal=False):
    # Only ASCII: str.isdigit(), int() and float() also take superscripts and other scripts' digits ("\u00b9").
    if not raw:
        return False
    for ch in raw:
        if not ("0" <= ch <= "9" or (hexadecimal and ("A" <= ch <= "F" or "a" <= ch <= "f"))):
            return False
    return True


def _int(fields, key, default=None, hi=None):
    """A field of ASCII decimal digits (no sign: no field is negative), from 0 to `hi`."""
    raw = fields.get(key)
    if raw is None:
        if default is None:
            raise ProtocolError("missing field " + key)
        return default
    if not _ascii_digits(raw):
        raise ProtocolError("field %s is not a number" % key)
    value = int(raw)
    if value > hi:
        raise ProtocolError("field %s out of range" % key)
    return value


def _float(raw, lo, hi, what):
    """Degrees as the encoder writes them: an optional '-', ASCII digits, optionally '.' and ASCII digits."""
    digits = raw[1:] if raw[:1] == "-" else raw
    dot = digits.find(".")
    if not (_ascii_digits(digits) or (dot > 0 and _ascii_digits(digits[:dot]) and _ascii_digits(digits[dot + 1:]))):
        raise ProtocolError(what + " is not a number")
    value = float(raw)
    if not lo <= value <= hi:
        raise ProtocolError(what + " out of range")
    return value


def _authenticated(text, version, what, key_for):
    """Split, check the version and the device, verify the MAC: (device_id, fields) of a genuine message."""
    found, fields, body, mac = split_fields(text)
    if found != version:
        raise ProtocolError("not a Deme %s (version %s)" % (what, found[:8]))
    device_id = fields.get("i", "")
    _check_id(device_id)
    key = key_for(device_id)
    if key is None:
        raise ProtocolError("unknown device " + device_id)
    if len(mac) != MAC_HEX_DIGITS or not _equal(mac.lower(), mac_hex(key, body)):
        raise ProtocolError("bad MAC for device " + device_id)
    return device_id, fields


def parse_alert(text, key_for):
    """Parse and authenticate an alert. `key_for(device_id)` returns the key bytes or None if unknown."""
    device_id, fields = _authenticated(text, ALERT_VERSION, "alert", key_for)
    event = fields.get("e")
    if event not in EVENTS:
        raise ProtocolError("unknown event")
    category = fields.get("c", "GEN")
    if category not in CATEGORIES:
        raise ProtocolError("unknown category")
    alert = {
        "device_id": device_id,
        "counter": _int(fields, "n", hi=(1 << 32) - 1),
        "event": event,
        "category": category,
        "device_time": _int(fields, "t", 0, hi=MAX_DEVICE_TIME_S),
        "lat": None, "lon": None, "acc_m": None, "fix_age_s": None, "cell": None,
        "battery": None,
    }
    pos = fields.get("p", "-")
    if pos != "-":
        comma = pos.find(",")
        if comma < 0:
            raise ProtocolError("position must be lat,lon")
        alert["lat"] = _float(pos[:comma], -90, 90, "latitude")
        alert["lon"] = _float(pos[comma + 1:], -180, 180, "longitude")
        alert["acc_m"] = _int(fields, "r", 0, hi=MAX_ACC_M)
        alert["fix_age_s"] = _int(fields, "f", 0, hi=MAX_AGE_S)
    if "g" in fields:
        alert["cell"] = _parse_cell(fields["g"])
    if "b" in fields:
        alert["battery"] = _int(fields, "b", hi=100)
    return alert


def _parse_cell(raw):
    """MCC-MNC-LAC-CI: MCC and MNC up to 999 in decimal; LAC (16 bits) and CI (28 bits) in hex, as the encoder."""
    bits = raw.split("-")
    if len(bits) != 4:
        raise ProtocolError("cell must be mcc-mnc-lac-cellid")
    if not (_ascii_digits(bits[0]) and _ascii_digits(bits[1]) and _ascii_digits(bits[2], True)
            and _ascii_digits(bits[3], True)):
        raise ProtocolError("cell fields are not numbers")
    cell = {"mcc": int(bits[0]), "mnc": int(bits[1]), "lac": int(bits[2], 16), "cell_id": int(bits[3], 16)}
    if not (cell["mcc"] <= 999 and cell["mnc"] <= 999 and cell["lac"] <= 0xFFFF and cell["cell_id"] <= 0xFFFFFFF):
        raise ProtocolError("cell identity out of range")
    return cell


def parse_ack(text, key_for):
    device_id, fields = _authenticated(text, ACK_VERSION, "ack", key_for)
    status = fields.get("s")
    if status not in STATUSES:
        raise ProtocolError("unknown status")
    return {
        "device_id": device_id,
        "hub_counter": _int(fields, "h", hi=(1 << 32) - 1),
        "counter": _int(fields, "n", hi=(1 << 32) - 1),
        "status": status,
    }


def read_unverified(text):
    """The fields of an alert-shaped text as it claims them, without checking its MAC: what to tell supervisors
    about an alert that failed authentication (a mis-provisioned wearable, or a forgery). Total: any value gives a
    dict with device_id, counter, event, category, lat, lon, acc_m and battery, each None where the text holds no
    readable value. Never trust it: nothing here is proven to come from a device."""
    reading = {"device_id": None, "counter": None, "event": None, "category": None, "lat": None, "lon": None,
               "acc_m": None, "battery": None}
    try:
        _version, fields, _body, _mac = split_fields(text)
    except ProtocolError:
        return reading
    try:
        _check_id(fields.get("i", ""))
        reading["device_id"] = fields["i"]
    except ProtocolError:
        pass
    if fields.get("e") in EVENTS:
        reading["event"] = fields["e"]
    if fields.get("c") in CATEGORIES:
        reading["category"] = fields["c"]
    for name, key, hi in (("counter", "n", (1 << 32) - 1), ("acc_m", "r", MAX_ACC_M), ("battery", "b", 100)):
        try:
            reading[name] = _int(fields, key, hi=hi)
        except ProtocolError:
            pass
    pos = fields.get("p", "-")
    comma = pos.find(",")
    if comma > 0:
        try:
            lat = _float(pos[:comma], -90, 90, "latitude")
            lon = _float(pos[comma + 1:], -180, 180, "longitude")
            reading["lat"], reading["lon"] = lat, lon
        except ProtocolError:
            pass
    return reading
