"""Poison messages (issue 11): a correctly signed alert whose fields the store cannot take must not stay on the SIM
for ever. The parser holds every field to its documented range (ProtocolError, nothing else), what the store still
cannot take after authentication goes to the dead letters, and handle_text raises only when the store is down."""
import asyncio
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.alert import (
    CATEGORIES,
    EVENTS,
    MAX_ACC_M,
    MAX_AGE_S,
    MAX_DEVICE_TIME_S,
    ProtocolError,
    mac_hex,
    parse_alert,
)
from drivers.modem import Modem
from hub.bus import Bus
from hub.hops import Hops
from hub.inbound.ingest import Ingest
from hub.platform.serialport import SerialUART
from hub.store import Store
from hub.store.inbox import inbox
from hub.timeline import Timeline
from sim.network import GSMNetwork
from tests.hub.spine_fixtures import HUB_NUMBER, KEY, W1_PHONE, alert_text, make_config

OUTCOMES = {"new", "duplicate", "replay", "rejected", "dead_letter"}
ORDER = ("n", "e", "c", "t", "p", "r", "f", "g", "b")
GOOD = {"n": "7", "e": "SOS", "c": "GEN", "t": "1795430100", "p": "13.43170,-6.21570", "r": "15", "f": "3",
        "g": "610-1-1F4-2A3B", "b": "87"}


def signed(**fields):
    """A genuine alert of W1 with these field texts (None leaves a field out), signed with its key."""
    values = {**GOOD, **fields}
    body = "DM1;i=W1;" + ";".join(k + "=" + values[k] for k in ORDER if values.get(k) is not None)
    return body + ";m=" + mac_hex(KEY, body)


def keys(device_id):
    return KEY if device_id == "W1" else None


@pytest.fixture
def hub(tmp_path):
    config = make_config(tmp_path)
    store = Store(config.database).open()
    ingest = Ingest(store, Hops(store, Bus(), Timeline(tmp_path / "timeline.jsonl")), config)
    yield ingest, store
    store.close()


# -- the parser: any text gives an alert within every range, or a ProtocolError --------------------------------

def assert_within_ranges(alert):
    assert 0 <= alert["counter"] <= 0xFFFFFFFF
    assert alert["event"] in EVENTS and alert["category"] in CATEGORIES
    assert 0 <= alert["device_time"] <= MAX_DEVICE_TIME_S
    if alert["lat"] is None:
        assert alert["lon"] is alert["acc_m"] is alert["fix_age_s"] is None
    else:
        assert -90 <= alert["lat"] <= 90 and -180 <= alert["lon"] <= 180
        assert 0 <= alert["acc_m"] <= MAX_ACC_M and 0 <= alert["fix_age_s"] <= MAX_AGE_S
    if alert["cell"] is not None:
        cell = alert["cell"]
        assert 0 <= cell["mcc"] <= 999 and 0 <= cell["mnc"] <= 999
        assert 0 <= cell["lac"] <= 0xFFFF and 0 <= cell["cell_id"] <= 0xFFFFFFF
    assert alert["battery"] is None or 0 <= alert["battery"] <= 100
    for name in ("counter", "device_time", "acc_m", "fix_age_s", "battery"):
        assert alert[name] is None or type(alert[name]) is int


# Any character at all, lone surrogates included (an MQTT payload's JSON may carry "\ud800").
ANY_CHAR = st.characters(codec=None, categories=None)
# Field texts near what a parser sees: digits of every script, signs, hex, separators, huge numbers.
FIELD_TEXT = st.one_of(
    st.text(ANY_CHAR, max_size=12),
    st.text(st.sampled_from("0123456789-+.,_ eEAFafx\u00b9\u0661\u0663\u2070\uff11\ud800\udcff"), max_size=25),
    st.integers(min_value=-10 ** 25, max_value=10 ** 25).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(EVENTS + CATEGORIES + ("-",)),
)
FIELDS = st.fixed_dictionaries({}, optional={key: FIELD_TEXT for key in ORDER})
# p as "lat,lon" and g as "mcc-mnc-lac-ci" with any parts, so the range checks behind the split are reached.
POSITION = st.tuples(FIELD_TEXT, FIELD_TEXT).map(",".join)
CELL = st.tuples(FIELD_TEXT, FIELD_TEXT, FIELD_TEXT, FIELD_TEXT).map("-".join)


@st.composite
def signed_alerts(draw):
    fields = {key: None for key in ORDER}
    fields.update(draw(FIELDS))
    if draw(st.booleans()):
        fields["p"] = draw(POSITION)
    if draw(st.booleans()):
        fields["g"] = draw(CELL)
    for key in draw(st.lists(st.sampled_from(("n", "e")), unique=True)):
        fields[key] = GOOD[key]  # often a well-formed counter and event, so the other fields are reached
    try:
        return signed(**fields)
    except UnicodeEncodeError:  # a lone surrogate: a text no wearable can sign; the parser still sees it below
        return "DM1;i=W1;" + ";".join(k + "=" + v for k, v in fields.items() if v is not None) + ";m=" + "0" * 20


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(ANY_CHAR, max_size=200), signed_alerts(),
                 st.builds(lambda head, tail: "DM1;i=W1;" + head + ";m=" + tail,
                           st.text(ANY_CHAR, max_size=60), st.text(ANY_CHAR, max_size=24))))
def test_parse_alert_on_any_text_returns_an_alert_within_every_range_or_raises_protocol_error(text):
    try:
        alert = parse_alert(text, keys)
    except ProtocolError:
        return
    assert_within_ranges(alert)


# -- the hub: every signed alert is stored, rejected or dead-lettered, and handle_text does not raise -----------

@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=signed_alerts())
def test_a_signed_alert_with_any_field_values_is_stored_rejected_or_dead_lettered(hub, text):
    ingest, store = hub
    rejected_before = len(store.rejected(limit=10 ** 6))
    inbox_before = len(inbox(store, limit=10 ** 6))
    status = ingest.handle_text(text, "sms", sender=W1_PHONE)  # raises only if the store is down: it is not
    assert status in OUTCOMES | {"unverified"}
    if status == "unverified":  # only a text no wearable can sign (a lone surrogate): kept in the inbox
        assert len(inbox(store, limit=10 ** 6)) == inbox_before + 1
        with pytest.raises(UnicodeError):
            text.encode()
    elif status in ("rejected", "replay"):
        assert len(store.rejected(limit=10 ** 6)) == rejected_before + 1
    elif status == "dead_letter":
        assert store.dead_letters(limit=1)[0]["raw"] == text.strip()
    else:
        stored = store.find_alert("W1", parse_alert(text, keys)["counter"])
        assert_within_ranges(stored)


@pytest.mark.parametrize("fields", [{"t": "1" + "0" * 20}, {"r": "1" + "0" * 20}, {"f": "1" + "0" * 20},
                                    {"b": "\u00b9"}, {"n": "\u0661"}, {"g": "610-1-1F4-FFFFFFFFFFFFFFFFFFFF"},
                                    {"r": "100000"}, {"f": "1000000"}])
def test_a_signed_alert_out_of_range_is_rejected_with_a_reason_not_raised(hub, fields):
    ingest, store = hub
    assert ingest.handle_text(signed(**fields), "sms", sender=W1_PHONE) == "rejected"
    assert store.list_alerts() == [] and store.outbox() == []
    [rejected] = store.rejected()
    assert "out of range" in rejected["reason"] or "not a number" in rejected["reason"]


def test_a_message_with_a_lone_surrogate_is_rejected_not_raised(hub):
    # MQTT hands over whatever the payload's JSON held; SQLite cannot store a lone surrogate as UTF-8.
    ingest, store = hub
    for text in ["DM1;i=W1;n=1;e=SOS;b=\ud800;m=" + "0" * 20, "\udcff garbage", "DA1;i=W1;\ud83d;m=0"]:
        assert ingest.handle_text(text, "mqtt", sender="W1") == "rejected"
    assert len(store.rejected()) == 3


def test_what_the_store_cannot_take_after_authentication_is_dead_lettered_once(hub):
    # The parser now refuses every value SQLite cannot hold; a genuine alert the store still cannot take (here
    # the parse of an older, laxer hub: a time of 10**20, an OverflowError in the INSERT) must leave the SIM all
    # the same, kept in the dead letters with why.
    ingest, store = hub
    text = signed(t="1795430100")
    alert = parse_alert(text, keys)
    alert["device_time"] = 10 ** 20
    for _ in range(3):  # the wearable resends it: one dead letter, not three
        assert ingest.store_authenticated(alert, text, "sms", sender=W1_PHONE, received_at=1795430200.0) \
            == "dead_letter"
    [dead] = store.dead_letters()
    assert (dead["via"], dead["sender"], dead["raw"], dead["device_id"], dead["counter"]) == \
        ("sms", W1_PHONE, text, "W1", 7)
    assert "OverflowError" in dead["reason"] and dead["received_at"] == 1795430200.0
    assert store.list_alerts() == [] and store.outbox() == []  # no receipt: nothing was stored as an alert
    assert "13.4" not in dead["reason"]


def test_handle_text_raises_when_the_store_is_down_and_stores_on_the_retry(hub):
    ingest, store = hub
    store._db.execute("PRAGMA busy_timeout=0")  # fail at once rather than after 30 s
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the database: the store cannot commit
    try:
        with pytest.raises(Exception, match="locked"):
            ingest.handle_text(alert_text(1), "sms", sender=W1_PHONE)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.dead_letters() == []  # a store that is down is not a poison message: the SMS stays, retried
    assert ingest.handle_text(alert_text(1), "sms", sender=W1_PHONE) == "new"


# -- the SIM: the poison SMS is deleted from it ----------------------------------------------------------------

def test_a_signed_poison_sms_is_handled_once_and_deleted_from_the_sim(tmp_path):
    """Through the simulated GSM network to the hub's modem on a pty, handled as the hub service does: before the
    fix, handle_text raised OverflowError (t, r, f = 10**20) or ValueError (b=superscript one), the SMS stayed on
    the SIM and was offered again every 30 s, for ever."""
    config = make_config(tmp_path)
    store = Store(config.database).open()
    ingest = Ingest(store, Hops(store, Bus(), Timeline(tmp_path / "timeline.jsonl")), config)
    net = GSMNetwork(delay_s=0, time_scale=0, seed=1)
    sim = net.add_modem(HUB_NUMBER, profile="sim800l")
    net.start()
    uart = SerialUART(sim.pty_path).open()
    modem = Modem(uart, poll_ms=2, retry_delays_ms=(10, 10))
    poison = [signed(n="1", t="1" + "0" * 20), signed(n="2", r="1" + "0" * 20), signed(n="3", f="1" + "0" * 20),
              signed(n="4", b="\u00b9")]
    outcomes = []

    async def on_sms(sms):  # hub.service's _on_sms: returning means handled, and the driver deletes the SMS
        try:
            outcomes.append(ingest.handle_text(sms["text"], "sms", sender=sms["number"]))
        except Exception as exc:
            outcomes.append(type(exc).__name__)
            raise

    modem.set_sms_handler(on_sms)

    async def body():
        await modem.start()
        try:
            for text in poison:
                net.send(W1_PHONE, HUB_NUMBER, text)
            deadline = asyncio.get_running_loop().time() + 20
            while len(outcomes) < len(poison) or net.inbox(HUB_NUMBER):
                if asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.01)
        finally:
            await modem.stop()

    try:
        asyncio.run(body())
        left = net.inbox(HUB_NUMBER)
    finally:
        uart.close()
        net.stop()
        store.close()
    assert outcomes[:len(poison)] == ["rejected"] * len(poison)
    assert left == []
