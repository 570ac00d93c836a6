"""The hub's configuration (TOML): validated at start-up with an error that names what to fix.

Every key has a type and a range, checked at load (docs/hub.toml.example lists them all): whatever the file holds,
load_config returns a HubConfig or raises ConfigError naming the table and the key, never another exception.
"""
import binascii
import ipaddress
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import phonenumbers

from drivers.modems.models import UnknownModemModel, model_row, power_key_timing

# ConfigError and normalise_number live below the section parsers that raise them too (the response plan), so
# that hub.config can import those parsers without a cycle; they are re-exported from here.
from hub.config_errors import ConfigError, normalise_number
from hub.incidents.plan import ResponsePlan, parse_plan

LANGUAGES = ("fr", "en", "bm")
# Liveness: the wearable sends a heartbeat (HB) every heartbeat_min; the hub calls it silent after
# 2 x heartbeat_min + heartbeat_grace_min without any new authenticated message.
HEARTBEAT_MIN_RANGE = (1, 1440)
GRACE_MIN_RANGE = (0, 1440)
LOW_BATTERY_RANGE = (1, 99)
PORT_RANGE = (1, 65535)
RETENTION_DAYS_RANGE = (1, 3650)
OUTBOX_ATTEMPTS_RANGE = (1, 100)
OUTBOX_RETRY_S_RANGE = (1, 600)  # the first retry's delay; it doubles at each attempt, up to 600 s
BAUDRATE_RANGE = (1200, 4_000_000)
BROKER_AUTOSAVE_S_RANGE = (1, 86400)
# The shipped broker's autosave_interval (hub/platform/mosquitto.conf.in, hub.outputs.mqtt_out).
BROKER_AUTOSAVE_S_DEFAULT = 60
# What a contact can be told of after the alert itself ([[devices.contacts]] notify).
CONTACT_NOTICES = ("acknowledged", "dispatched", "resolved")
GPIO_PIN_RANGE = (0, 27)  # BCM numbers of the Raspberry Pi's header
# The hub's id is a level of its MQTT topics (deme/v1/hubs/<id>/alerts) and part of its client id.
HUB_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
HOST_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")

# Every key each table may hold: any other is refused (a misspelt key would silently keep its default).
KNOWN_KEYS = {
    "": ("hub", "modem", "mqtt", "console", "devices", "panel", "plan"),
    "[hub]": ("id", "number", "region", "database", "timeline", "retention_days", "outbox_max_attempts",
              "outbox_retry_s", "heartbeat_min", "heartbeat_grace_min", "low_battery_pct"),
    "[modem]": ("port", "baudrate", "model", "power"),
    "[mqtt]": ("host", "port", "username", "password", "broker_autosave_s"),
    "[console]": ("host", "port", "allowed_hosts"),
    "[[devices]]": ("id", "key", "phone", "wearer", "lang", "heartbeat_min", "contacts"),
    "[[devices.contacts]]": ("name", "phone", "lang", "notify"),
    "[panel]": ("buzzer", "waiting_led", "modem_led", "broker_led", "button"),
}


def check_modem_model(name, power=None):
    """`[modem] model`: None (detected from the modem) or any name of the model table (drivers/modems/models.py);
    with a GPIO power key (`power = "gpio:<pin>"`) a model whose press lengths the table has. ConfigError naming
    the known models otherwise."""
    try:
        if name is not None:
            model_row(name)
        parsed = parse_modem_power(power)
        if parsed is not None and parsed[0] == "gpio":
            power_key_timing(name)
    except UnknownModemModel as exc:
        raise ConfigError(f"[modem] model: {exc}") from None
    return name


def parse_modem_power(spec):
    """`[modem] power`: ("gpio", BCM pin) for a PWRKEY wired to the Pi, ("exec", argv) for a command that
    power-cycles the modem, None when not set; ConfigError otherwise."""
    if not spec:
        return None
    kind, _, rest = spec.partition(":")
    if kind == "gpio" and rest.isascii() and rest.isdigit():
        pin = int(rest)
        low, high = GPIO_PIN_RANGE
        if not low <= pin <= high:
            raise ConfigError(f"[modem] power: {spec!r}: the BCM pin must be from {low} to {high}")
        return "gpio", pin
    if kind == "exec":
        try:
            argv = shlex.split(rest)
        except ValueError as exc:
            argv, why = [], str(exc)
        else:
            why = "no command"
        if argv:
            return "exec", argv
        raise ConfigError(f"[modem] power: {spec!r}: {why} after \"exec:\"")
    raise ConfigError(f"[modem] power: {spec!r} must be \"gpio:<BCM pin>\" or \"exec:<command line>\"")


@dataclass(frozen=True)
class PanelPins:
    """The post's panel ([panel], hub/platform/panel.py): the BCM pin of each part, None when not fitted. Outputs
    are active high (an LED through its resistor to GND; the buzzer through a transistor); the button is wired
    between its pin and GND, held high by the Pi's pull-up: pressed reads low."""

    buzzer: int | None = None
    waiting_led: int | None = None
    modem_led: int | None = None
    broker_led: int | None = None
    button: int | None = None


def parse_panel(table, where="[panel]"):
    """`[panel]`: PanelPins, or None when no pin is set (no panel); ConfigError naming the key otherwise. It lives
    here, not in hub/platform/panel.py, so that the configuration never imports the hardware (the house plan has
    no import cycles); hub.platform.panel re-exports both."""
    known = KNOWN_KEYS["[panel]"]
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table (a line [panel] followed by its keys), not {_show(table)}")
    unknown = sorted(str(key) for key in table if key not in known)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(known)})")
    low, high = GPIO_PIN_RANGE
    pins, used_by = {}, {}
    for key in known:
        pin = table.get(key)
        if pin is not None and (isinstance(pin, bool) or not isinstance(pin, int) or not low <= pin <= high):
            raise ConfigError(f"{where}: '{key}' must be a BCM pin number from {low} to {high} (the GPIO it is "
                              f"wired to), not {_show(pin)}")
        if pin in used_by:
            raise ConfigError(f"{where}: '{key}' is pin {pin}, which '{used_by[pin]}' uses already: each part "
                              "needs a pin of its own")
        if pin is not None:
            used_by[pin] = key
        pins[key] = pin
    return PanelPins(**pins) if used_by else None


def _panel_against_the_rest(panel, modem_power, modem_port, mqtt_host):
    """What [panel] asks that the rest of hub.toml cannot give: a pin the modem's power key holds, a link LED for
    a link the hub never opens (it would blink "down" forever)."""
    if panel is None:
        return None
    power = parse_modem_power(modem_power)
    for key in KNOWN_KEYS["[panel]"]:
        if power is not None and power[0] == "gpio" and getattr(panel, key) == power[1]:
            raise ConfigError(f"[panel]: '{key}' is pin {power[1]}, which [modem] power uses already: each part "
                              "needs a pin of its own")
    if panel.modem_led is not None and not modem_port:
        raise ConfigError("[panel]: 'modem_led' is set but [modem] has no 'port': the hub uses no modem, the LED "
                          "would blink \"down\" forever; leave 'modem_led' out or set [modem] port")
    if panel.broker_led is not None and not mqtt_host:
        raise ConfigError("[panel]: 'broker_led' is set but [mqtt] has no 'host': the hub uses no broker, the LED "
                          "would blink \"down\" forever; leave 'broker_led' out or set [mqtt] host")
    return panel


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    lang: str = "fr"
    notify: tuple = CONTACT_NOTICES  # which steps of the police response the contact is told of by SMS


@dataclass(frozen=True)
class Device:
    id: str
    key: bytes = field(repr=False)
    phone: str
    wearer: str
    lang: str = "fr"
    contacts: tuple = ()
    heartbeat_min: float = 60.0  # the hub's default unless the device overrides it


@dataclass(frozen=True)
class HubConfig:
    hub_id: str
    number: str
    region: str
    database: Path
    retention_days: int
    modem_port: str | None
    modem_baudrate: int
    modem_model: str | None
    modem_power: str | None
    mqtt_host: str | None
    mqtt_port: int
    mqtt_username: str | None
    mqtt_password: str | None
    console_host: str
    console_port: int
    devices: dict
    console_allowed_hosts: tuple = ()  # host names operators type to reach the console (IPs, localhost always)
    mqtt_broker_autosave_s: float = BROKER_AUTOSAVE_S_DEFAULT
    timeline_path: Path | None = None
    outbox_max_attempts: int = 6
    outbox_retry_s: float = 10.0
    heartbeat_min: float = 60.0
    heartbeat_grace_min: float = 15.0
    low_battery_pct: int = 15
    plan: ResponsePlan | None = None  # who is texted of an incident and when ([plan]); None: the console only
    panel: PanelPins | None = None  # the post's buzzer, LEDs and button ([panel]); None: no panel

    def silent_after_s(self, device_id):
        """Seconds without any new message after which a device is called silent (two missed heartbeats and
        the grace)."""
        device = self.devices.get(device_id)
        period = device.heartbeat_min if device else self.heartbeat_min
        return (2 * period + self.heartbeat_grace_min) * 60.0

    def key_for(self, device_id):
        device = self.devices.get(device_id)
        return device.key if device else None

    def device_by_phone(self, phone):
        for device in self.devices.values():
            if device.phone == phone:
                return device
        return None


def _show(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _known(table, where):
    unknown = sorted(str(key) for key in table if key not in KNOWN_KEYS[where])
    if unknown:
        label = f"{where}: unknown key" if where else "unknown table or key"
        hint = ""
        if where and unknown[0] in KNOWN_KEYS[""]:  # a key written under a table belongs to that table in TOML
            hint = f"; '{unknown[0]}' is a table of its own: write it above [hub] or as its own block"
        raise ConfigError(f"{label} {unknown[0]!r} (known: {', '.join(KNOWN_KEYS[where])}){hint}")


def _table(data, key, where):
    """The table [key] (empty when absent); ConfigError when it is something else."""
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{key}] must be a table (a line [{key}] followed by its keys), not {_show(value)}")
    _known(value, where)
    return value


def _tables(data, key, where, what):
    """An array of tables ([[key]]), each checked for unknown keys."""
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        prefix = f"{what}: " if what else ""
        raise ConfigError(f"{prefix}'{key}' must be an array of tables ({where} blocks), not {_show(value)}")
    for entry in value:
        _known(entry, where)
    return value


def _get(table, key, kind, where, default=...):
    if key not in table:
        if default is ...:
            raise ConfigError(f"{where}: missing key '{key}'")
        return default
    value = table[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: '{key}' must be {getattr(kind, '__name__', kind)}, not {_show(value)}")
    return value


def _text(table, key, where, default=..., what="text"):
    """A string that is not blank and holds no control character (a NUL cannot even be a file name)."""
    value = _get(table, key, str, where, default)
    if value is default:
        return value
    if not value.strip() or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ConfigError(f"{where}: '{key}' must be {what}, not blank nor with control characters, "
                          f"not {_show(value)}")
    return value


def _whole(table, key, where, default, bounds, unit, meaning):
    value = table.get(key, default)
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{where}: '{key}' must be a whole {unit} from {low} to {high} ({meaning}), "
                          f"not {_show(value)}")
    return value


def _number(table, key, where, default, bounds, unit, meaning):
    value = table.get(key, default)
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ConfigError(f"{where}: '{key}' must be a number of {unit} from {low} to {high} ({meaning}), "
                          f"not {_show(value)}")
    return float(value)


def _key(raw, where):
    try:
        key = binascii.unhexlify(raw)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{where}: 'key' must be hexadecimal") from None
    if len(key) < 16:
        raise ConfigError(f"{where}: 'key' must be at least 16 bytes (32 hex digits); generate one with "
                          "`python -c 'import secrets; print(secrets.token_hex(32))'`")
    return key


def _minutes(table, key, where, default, bounds, meaning):
    value = table.get(key, default)
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ConfigError(f"{where}: '{key}' must be a number of minutes from {low} to {high} ({meaning}), "
                          f"not {_show(value)}")
    return float(value)


def _lang(raw, where):
    if raw not in LANGUAGES:
        raise ConfigError(f"{where}: 'lang' must be one of {', '.join(LANGUAGES)}, not {_show(raw)}")
    return raw


def _notify(contact, where):
    """`notify = ["acknowledged", "dispatched", "resolved"]`: the steps a contact is told of (default all; [] for
    none, the alert's own SMS still goes)."""
    raw = contact.get("notify", list(CONTACT_NOTICES))
    if not isinstance(raw, list) or not all(isinstance(word, str) and word in CONTACT_NOTICES for word in raw):
        raise ConfigError(f"{where}: 'notify' must be a list of {', '.join(CONTACT_NOTICES)} (the steps the contact "
                          f"is told of by SMS; [] for none), not {_show(raw)}")
    return tuple(dict.fromkeys(raw))


def _port(table, where, default, meaning):
    return _whole(table, "port", where, default, PORT_RANGE, "port number", meaning)


def _hub_id(hub):
    hub_id = _get(hub, "id", str, "[hub]")
    if not HUB_ID.fullmatch(hub_id):
        raise ConfigError(f"[hub]: 'id' must be 1-32 letters (a-z, A-Z), digits, '-' or '_' (it is a level of the "
                          f"hub's MQTT topics, deme/v1/hubs/<id>/alerts, where / # + are not allowed), "
                          f"not {_show(hub_id)}")
    return hub_id


def _region(hub):
    region = _get(hub, "region", str, "[hub]", "ML").upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f"[hub]: 'region' must be a two-letter country code (ISO 3166) such as ML, SN, FR: "
                          f"the country of numbers written without +, not {_show(region)}")
    return region


def _allowed_hosts(console):
    """[console] allowed_hosts: the host names (not IPs: those always pass) operators type to reach the console
    (its Host header); any other name is refused, so that a web page cannot reach it by DNS rebinding."""
    raw = console.get("allowed_hosts", [])
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        raise ConfigError(f"[console]: 'allowed_hosts' must be a list of host names such as "
                          f"[\"deme-hub.local\"], not {_show(raw)}")
    names = []
    for name in raw:
        host = name.strip().lower().rstrip(".")
        try:
            ipaddress.ip_address(host.strip("[]"))
            continue  # an IP address is always allowed
        except ValueError:
            pass
        if len(host) > 253 or not all(HOST_LABEL.fullmatch(label) for label in host.split(".")):
            raise ConfigError(f"[console]: 'allowed_hosts': {_show(name)} is not a host name: write the name "
                              "alone, such as \"deme-hub.local\" (no http://, no :port, no wildcard)")
        names.append(host)
    return tuple(dict.fromkeys(names))


def _devices(data, region, heartbeat_min):
    devices = {}
    phones = {}
    for index, entry in enumerate(_tables(data, "devices", "[[devices]]", None)):
        where = f"[[devices]] #{index + 1}"
        device_id = _get(entry, "id", str, where)
        if not device_id or len(device_id) > 16 or not all(c.isalnum() or c == "-" for c in device_id):
            raise ConfigError(f"{where}: 'id' must be 1-16 letters, digits or '-'")
        where = f"device {device_id}"
        if device_id in devices:
            raise ConfigError(f"{where}: id used twice")
        contacts = []
        for c_index, contact in enumerate(_tables(entry, "contacts", "[[devices.contacts]]", where)):
            c_where = f"{where} contact #{c_index + 1}"
            contacts.append(Contact(
                name=_text(contact, "name", c_where, what="the contact's name"),
                phone=normalise_number(_get(contact, "phone", str, c_where), region, c_where + " phone"),
                lang=_lang(_get(contact, "lang", str, c_where, "fr"), c_where),
                notify=_notify(contact, c_where),
            ))
        phone = normalise_number(_get(entry, "phone", str, where), region, where + " phone")
        if phone in phones:
            raise ConfigError(f"{where}: 'phone' {phone} is device {phones[phone]}'s too: each wearable has its "
                              "own SIM (the hub tells them apart by number)")
        phones[phone] = device_id
        devices[device_id] = Device(
            id=device_id,
            key=_key(_get(entry, "key", str, where), where),
            phone=phone,
            wearer=_text(entry, "wearer", where, what="the wearer's name"),
            lang=_lang(_get(entry, "lang", str, where, "fr"), where),
            contacts=tuple(contacts),
            heartbeat_min=_minutes(entry, "heartbeat_min", where, heartbeat_min, HEARTBEAT_MIN_RANGE,
                                   "how often this wearable sends a heartbeat; leave it out for the hub's "
                                   f"{heartbeat_min:g}"),
        )
    return devices


def parse_config(data, base_dir=Path(".")):
    if not isinstance(data, dict):
        raise ConfigError(f"the configuration must be a TOML document of tables, not {_show(data)}")
    if "hub" not in data:
        raise ConfigError("missing [hub] table")
    _known(data, "")
    hub = _table(data, "hub", "[hub]")
    modem = _table(data, "modem", "[modem]")
    mqtt = _table(data, "mqtt", "[mqtt]")
    console = _table(data, "console", "[console]")
    hub_id = _hub_id(hub)
    region = _region(hub)
    number = normalise_number(_get(hub, "number", str, "[hub]"), region, "[hub] number")
    heartbeat_min = _minutes(hub, "heartbeat_min", "[hub]", 60, HEARTBEAT_MIN_RANGE,
                             "how often the wearables send a heartbeat")
    grace_min = _minutes(hub, "heartbeat_grace_min", "[hub]", 15, GRACE_MIN_RANGE,
                         "how late a heartbeat may be, on top of two missed ones, before a device is silent")
    low_battery = _whole(hub, "low_battery_pct", "[hub]", 15, LOW_BATTERY_RANGE, "percentage",
                         "below it the device list warns")
    devices = _devices(data, region, heartbeat_min)
    modem_power = _text(modem, "power", "[modem]", None, "\"gpio:<BCM pin>\" or \"exec:<command line>\"")
    parse_modem_power(modem_power)  # refuse a bad spec at start-up
    database = Path(_text(hub, "database", "[hub]", "deme.db", "a file path"))
    timeline = _text(hub, "timeline", "[hub]", None, "a file path")
    mqtt_host = _text(mqtt, "host", "[mqtt]", None, "a host name or IP address")
    mqtt_username = _text(mqtt, "username", "[mqtt]", None, "a user name")
    mqtt_password = _get(mqtt, "password", str, "[mqtt]", None)
    if mqtt_password is not None and mqtt_username is None:
        raise ConfigError("[mqtt]: 'password' is set without 'username': the broker would never see it")
    return HubConfig(
        hub_id=hub_id,
        number=number,
        region=region,
        database=database if database.is_absolute() else base_dir / database,
        retention_days=_whole(hub, "retention_days", "[hub]", 30, RETENTION_DAYS_RANGE, "number of days",
                              "how long alerts keep their positions"),
        modem_port=_text(modem, "port", "[modem]", None, "a serial device such as /dev/serial/by-id/..."),
        modem_baudrate=_whole(modem, "baudrate", "[modem]", 115200, BAUDRATE_RANGE, "number of bits per second",
                              "the modem's serial speed, 115200 for most"),
        modem_model=check_modem_model(_text(modem, "model", "[modem]", None, "a modem model"), modem_power),
        modem_power=modem_power,
        mqtt_host=mqtt_host,
        mqtt_port=_port(mqtt, "[mqtt]", 1883, "the broker's port, 1883 without TLS"),
        mqtt_username=mqtt_username,
        mqtt_password=mqtt_password,
        mqtt_broker_autosave_s=_number(mqtt, "broker_autosave_s", "[mqtt]", BROKER_AUTOSAVE_S_DEFAULT,
                                       BROKER_AUTOSAVE_S_RANGE, "seconds", "the broker's autosave_interval"),
        console_host=_text(console, "host", "[console]", "127.0.0.1", "an IP address or host name of this machine"),
        console_port=_port(console, "[console]", 8080, "where operators open the console"),
        console_allowed_hosts=_allowed_hosts(console),
        devices=devices,
        timeline_path=Path(timeline) if timeline else None,
        outbox_max_attempts=_whole(hub, "outbox_max_attempts", "[hub]", 6, OUTBOX_ATTEMPTS_RANGE, "number",
                                   "tries of each outgoing SMS before it is given up and shown as failed"),
        outbox_retry_s=_number(hub, "outbox_retry_s", "[hub]", 10.0, OUTBOX_RETRY_S_RANGE, "seconds",
                               "the delay before the first retry of an SMS; it doubles at each attempt"),
        heartbeat_min=heartbeat_min,
        heartbeat_grace_min=grace_min,
        plan=parse_plan(data["plan"], region, "[plan]", devices, number) if "plan" in data else None,
        low_battery_pct=low_battery,
        panel=_panel_against_the_rest(parse_panel(data.get("panel", {})), modem_power, modem.get("port"),
                                      mqtt_host),
    )


def load_config(path):
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (some Windows editors write one) is not content
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start} is 0x{raw[exc.start]:02x}): save it as "
                          "UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML (nested too deeply)") from None
    try:
        return parse_config(data, base_dir=path.parent)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
