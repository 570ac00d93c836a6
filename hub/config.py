"""The hub's configuration (TOML): validated at start-up with an error that names what to fix."""
import binascii
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import phonenumbers

from drivers.modems.models import UnknownModemModel, model_row, power_key_timing

LANGUAGES = ("fr", "en", "bm")
# Liveness: the wearable sends a heartbeat (HB) every heartbeat_min; the hub calls it silent after
# 2 x heartbeat_min + heartbeat_grace_min without any new authenticated message.
HEARTBEAT_MIN_RANGE = (1, 1440)
GRACE_MIN_RANGE = (0, 1440)
LOW_BATTERY_RANGE = (1, 99)


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the file, the key and what to change."""


def normalise_number(raw, region, where):
    """E.164 ("+22376000001") from what a person typed, or ConfigError naming where it came from."""
    try:
        parsed = phonenumbers.parse(str(raw), region)
    except phonenumbers.NumberParseException as exc:
        raise ConfigError(f"{where}: {raw!r} is not a phone number ({exc})") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ConfigError(f"{where}: {raw!r} is not a valid phone number for region {region}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


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
    if kind == "gpio" and rest.isdigit():
        return "gpio", int(rest)
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
class Contact:
    name: str
    phone: str
    lang: str = "fr"


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
    timeline_path: Path | None = None
    outbox_max_attempts: int = 6
    outbox_retry_s: float = 10.0
    heartbeat_min: float = 60.0
    heartbeat_grace_min: float = 15.0
    low_battery_pct: int = 15

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


def _get(table, key, kind, where, default=...):
    if key not in table:
        if default is ...:
            raise ConfigError(f"{where}: missing key '{key}'")
        return default
    value = table[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: '{key}' must be {getattr(kind, '__name__', kind)}, not {value!r}")
    return value


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
                          f"not {value!r}")
    return float(value)


def _lang(raw, where):
    if raw not in LANGUAGES:
        raise ConfigError(f"{where}: 'lang' must be one of {', '.join(LANGUAGES)}, not {raw!r}")
    return raw


def parse_config(data, base_dir=Path(".")):
    hub = data.get("hub")
    if not isinstance(hub, dict):
        raise ConfigError("missing [hub] table")
    region = _get(hub, "region", str, "[hub]", "ML").upper()
    number = normalise_number(_get(hub, "number", str, "[hub]"), region, "[hub] number")
    modem = data.get("modem", {})
    mqtt = data.get("mqtt", {})
    console = data.get("console", {})
    heartbeat_min = _minutes(hub, "heartbeat_min", "[hub]", 60, HEARTBEAT_MIN_RANGE,
                             "how often the wearables send a heartbeat")
    grace_min = _minutes(hub, "heartbeat_grace_min", "[hub]", 15, GRACE_MIN_RANGE,
                         "how late a heartbeat may be, on top of two missed ones, before a device is silent")
    low_battery = hub.get("low_battery_pct", 15)
    if isinstance(low_battery, bool) or not isinstance(low_battery, int) \
            or not LOW_BATTERY_RANGE[0] <= low_battery <= LOW_BATTERY_RANGE[1]:
        raise ConfigError(f"[hub]: 'low_battery_pct' must be a whole percentage from {LOW_BATTERY_RANGE[0]} to "
                          f"{LOW_BATTERY_RANGE[1]} (below it the device list warns), not {low_battery!r}")
    devices = {}
    for index, entry in enumerate(data.get("devices", [])):
        where = f"[[devices]] #{index + 1}"
        device_id = _get(entry, "id", str, where)
        if not device_id or len(device_id) > 16 or not all(c.isalnum() or c == "-" for c in device_id):
            raise ConfigError(f"{where}: 'id' must be 1-16 letters, digits or '-'")
        where = f"device {device_id}"
        if device_id in devices:
            raise ConfigError(f"{where}: id used twice")
        contacts = []
        for c_index, contact in enumerate(entry.get("contacts", [])):
            c_where = f"{where} contact #{c_index + 1}"
            contacts.append(Contact(
                name=_get(contact, "name", str, c_where),
                phone=normalise_number(_get(contact, "phone", str, c_where), region, c_where + " phone"),
                lang=_lang(_get(contact, "lang", str, c_where, "fr"), c_where),
            ))
        devices[device_id] = Device(
            id=device_id,
            key=_key(_get(entry, "key", str, where), where),
            phone=normalise_number(_get(entry, "phone", str, where), region, where + " phone"),
            wearer=_get(entry, "wearer", str, where),
            lang=_lang(_get(entry, "lang", str, where, "fr"), where),
            contacts=tuple(contacts),
            heartbeat_min=_minutes(entry, "heartbeat_min", where, heartbeat_min, HEARTBEAT_MIN_RANGE,
                                   "how often this wearable sends a heartbeat; leave it out for the hub's "
                                   f"{heartbeat_min:g}"),
        )
    if modem.get("power") is not None:
        parse_modem_power(_get(modem, "power", str, "[modem]"))  # refuse a bad spec at start-up
    database = Path(_get(hub, "database", str, "[hub]", "deme.db"))
    timeline = hub.get("timeline")
    return HubConfig(
        hub_id=_get(hub, "id", str, "[hub]"),
        number=number,
        region=region,
        database=database if database.is_absolute() else base_dir / database,
        retention_days=_get(hub, "retention_days", int, "[hub]", 30),
        modem_port=_get(modem, "port", str, "[modem]", None),
        modem_baudrate=_get(modem, "baudrate", int, "[modem]", 115200),
        modem_model=check_modem_model(_get(modem, "model", str, "[modem]", None),
                                      _get(modem, "power", str, "[modem]", None)),
        modem_power=_get(modem, "power", str, "[modem]", None),
        mqtt_host=_get(mqtt, "host", str, "[mqtt]", None),
        mqtt_port=_get(mqtt, "port", int, "[mqtt]", 1883),
        mqtt_username=_get(mqtt, "username", str, "[mqtt]", None),
        mqtt_password=_get(mqtt, "password", str, "[mqtt]", None),
        console_host=_get(console, "host", str, "[console]", "127.0.0.1"),
        console_port=_get(console, "port", int, "[console]", 8080),
        devices=devices,
        timeline_path=Path(timeline) if timeline else None,
        outbox_max_attempts=_get(hub, "outbox_max_attempts", int, "[hub]", 6),
        outbox_retry_s=float(_get(hub, "outbox_retry_s", (int, float), "[hub]", 10.0)),
        heartbeat_min=heartbeat_min,
        heartbeat_grace_min=grace_min,
        low_battery_pct=low_battery,
    )


def load_config(path):
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    try:
        return parse_config(data, base_dir=path.parent)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
