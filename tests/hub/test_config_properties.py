"""Property: whatever hub.toml holds (any bytes; any TOML document over the known tables and keys, with values
of the right kind, the wrong kind or out of range), load_config returns a HubConfig or raises ConfigError:
never another exception (a TypeError or an AttributeError would be a traceback for the installer)."""
import datetime
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.config import KNOWN_KEYS, ConfigError, HubConfig, load_config

KEY_HEX = "ab" * 32
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                             HealthCheck.too_slow])

# -- values ---------------------------------------------------------------------------------------------------
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)  # TOML text cannot hold a lone surrogate
SCALARS = st.one_of(
    st.booleans(), st.integers(), st.integers(-2, 70000), st.floats(), TEXT,
    st.datetimes(), st.datetimes(timezones=st.just(datetime.UTC)), st.dates(), st.times(),
)
ANY_VALUE = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                         | st.dictionaries(TEXT, inner, max_size=3), max_leaves=6)
RARELY = st.sampled_from([False] * 9 + [True])
PHONES = st.sampled_from(["+22370000001", "+22376000001", "+22366000001", "76000002", "+1", "phone", ""])
# Values a person might plausibly write for each key (valid ones among them, so parsing goes deep), besides
# anything at all.
PLAUSIBLE = {
    "id": st.sampled_from(["bamako", "W1", "W-2", "", "a/b", "#", "+", "x" * 40]),
    "number": PHONES, "phone": PHONES,
    "region": st.sampled_from(["ML", "fr", "XX", ""]),
    "database": st.sampled_from([":memory:", "hub.db", "", "/dev/null/x.db", "a\x00b"]),
    "timeline": st.sampled_from(["timeline.jsonl", ""]),
    "port": st.one_of(st.integers(-2, 70000), st.sampled_from(["/dev/ttyUSB0", "", "COM3"])),
    "baudrate": st.integers(-10, 5_000_000),
    "model": st.sampled_from(["SIM800L", "a7670", "generic", "nokia3310", ""]),
    "power": st.sampled_from(["gpio:17", "gpio:99", "gpio:", "exec:uhubctl -a cycle", "exec:'", "relay:1", ""]),
    "host": st.sampled_from(["127.0.0.1", "0.0.0.0", "broker.local", "", "::1"]),
    "username": st.sampled_from(["hub", ""]), "password": st.sampled_from(["pw", ""]),
    "broker_autosave_s": st.one_of(st.integers(-5, 100000), st.floats()),
    "allowed_hosts": st.lists(st.sampled_from(["deme-hub.local", "HUB.", "10.0.0.1", "[::1]", "http://x:1", "*",
                                               "", "a..b", "x" * 70]), max_size=3),
    "retention_days": st.integers(-5, 5000), "outbox_max_attempts": st.integers(-2, 200),
    "outbox_retry_s": st.one_of(st.integers(-5, 1000), st.floats()),
    "heartbeat_min": st.one_of(st.integers(-5, 2000), st.floats()),
    "heartbeat_grace_min": st.one_of(st.integers(-5, 2000), st.floats()),
    "low_battery_pct": st.integers(-5, 120),
    "key": st.sampled_from([KEY_HEX, "ab" * 8, "zz" * 16, "abc", "", "\u00e9" * 32]),
    "wearer": st.sampled_from(["Awa Traoré", "", " "]), "name": st.sampled_from(["Moussa", ""]),
    "lang": st.sampled_from(["fr", "en", "bm", "de", ""]),
}


def value_for(key):
    """Mostly a plausible value, so that parsing goes past the first key; anything at all otherwise."""
    if key not in PLAUSIBLE:
        return ANY_VALUE
    return st.one_of(PLAUSIBLE[key], PLAUSIBLE[key], PLAUSIBLE[key], ANY_VALUE)


def table(where, required=None, nested=None):
    """A table with some of the known keys of `where` (and now and then an unknown one); the `required` keys are
    there, mostly with the given valid value."""
    keys = KNOWN_KEYS[where]

    def build(chosen):
        keys, unknown = chosen
        fields = {key: value_for(key) for key in keys if key != "contacts"}
        for key, valid in (required or {}).items():
            fields[key] = st.one_of(st.just(valid), st.just(valid), st.just(valid), value_for(key))
        if nested is not None and "contacts" in keys:
            fields["contacts"] = st.one_of(st.lists(nested, max_size=2), ANY_VALUE)
        if unknown:
            fields["unknown_key"] = ANY_VALUE
        return st.fixed_dictionaries(fields)

    return st.tuples(st.lists(st.sampled_from(keys), max_size=len(keys)), RARELY).flatmap(build)


CONTACT = table("[[devices.contacts]]", required={"name": "Moussa", "phone": "+22366000001"})
DEVICE = table("[[devices]]", required={"id": "W1", "key": KEY_HEX, "phone": "+22376000001", "wearer": "Awa"},
               nested=CONTACT)
HUB = table("[hub]", required={"id": "bamako", "number": "+22370000001"})


@st.composite
def documents(draw):
    doc = {}
    doc["hub"] = draw(st.one_of(HUB, HUB, HUB, ANY_VALUE))
    for name in ("modem", "mqtt", "console"):
        if draw(st.booleans()):
            doc[name] = draw(st.one_of(table(f"[{name}]"), table(f"[{name}]"), table(f"[{name}]"), ANY_VALUE))
    if draw(st.booleans()):
        doc["devices"] = draw(st.one_of(st.lists(DEVICE, max_size=3), ANY_VALUE))
    if draw(RARELY):
        doc[draw(TEXT)] = draw(ANY_VALUE)
    return doc


# -- TOML, written inline (tomllib only reads) -----------------------------------------------------------------
def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_string(key)} = {toml_value(item)}" for key, item in value.items()) + "}"
    raise TypeError(value)


def toml_string(text):
    """A TOML basic string: quote and backslash escaped, control characters as \\uXXXX, the rest as is."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append("\\u%04x" % ord(char))
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_document(doc):
    return "".join(f"{toml_string(key)} = {toml_value(value)}\n" for key, value in doc.items())


def loaded_or_refused(path):
    try:
        return load_config(path)
    except ConfigError as exc:
        assert str(exc)
        return None


@SETTINGS
@given(raw=st.one_of(st.binary(max_size=300),
                     st.builds(lambda doc, cut: toml_document(doc).encode()[:cut], documents(), st.integers(0, 400))))
def test_any_bytes_are_loaded_or_refused_with_a_config_error(tmp_path, raw):
    path = tmp_path / "hub.toml"
    path.write_bytes(raw)
    loaded_or_refused(path)


@SETTINGS
@given(doc=documents())
def test_any_document_over_the_known_keys_is_loaded_or_refused_with_a_config_error(tmp_path, doc):
    path = tmp_path / "hub.toml"
    path.write_text(toml_document(doc), encoding="utf-8")
    config = loaded_or_refused(path)
    if config is not None:  # what was accepted is in range
        assert isinstance(config, HubConfig)
        assert "/" not in config.hub_id and "#" not in config.hub_id and "+" not in config.hub_id
        assert config.hub_id and 1 <= config.console_port <= 65535 and 1 <= config.mqtt_port <= 65535
        assert config.retention_days >= 1 and config.outbox_max_attempts >= 1 and config.outbox_retry_s >= 1
        assert 1200 <= config.modem_baudrate
        assert all(device.phone.startswith("+") for device in config.devices.values())
