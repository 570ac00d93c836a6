"""The post's own panel, as the duty officer meets it: an SOS arrives and the buzzer sounds its two beeps while the
waiting LED is lit; a press on the button acknowledges the oldest waiting incident for the post (the wearer gets
the ack SMS, the audit names the panel); silence when nothing waits; link LEDs lit while up, blinking while down.
Pins are gpiozero's MockFactory pins, whose state histories are what a person would see and hear; the panel's
clock is moved by the test, so every edge falls exactly where the pattern says."""
import asyncio

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from drivers.alert import parse_ack
from hub.bus import Bus
from hub.config import ConfigError, parse_config
from hub.hops import Hops
from hub.inbound.ingest import Ingest
from hub.incidents.operator import OperatorActions
from hub.platform.panel import LINK_DOWN_BLINK, WAITING_BEEPS, Panel, PanelPins, parse_panel
from hub.service import HubService
from hub.store import Store
from sim.broker import free_port
from tests.hub.spine_fixtures import HUB_NUMBER, KEY, KEY_HEX, W1_PHONE, alert_text, make_config

W2_PHONE = "+22376000002"
PHONES = {"W1": W1_PHONE, "W2": W2_PHONE}

BUZZER, WAITING_LED, MODEM_LED, BROKER_LED, BUTTON = 18, 23, 24, 25, 22
PINS = PanelPins(buzzer=BUZZER, waiting_led=WAITING_LED, modem_led=MODEM_LED, broker_led=BROKER_LED, button=BUTTON)
OFF, ON = False, True


class Clock:
    """The panel's clock, moved by the test."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class Post:
    """A police post's hub with its panel: the store, the real inbound path and operator actions, MockFactory pins."""

    def __init__(self, tmp_path):
        # Two wearers: a second press of the same wearer joins her open incident, it does not wait on its own.
        self.config = parse_config({
            "hub": {"id": "segou", "number": HUB_NUMBER, "database": str(tmp_path / "hub.db")},
            "devices": [{"id": device, "key": KEY_HEX, "phone": phone, "wearer": wearer}
                        for (device, phone), wearer in zip(PHONES.items(), ("Awa Traoré", "Fanta Diarra"))]})
        self.store = Store(self.config.database).open()
        self.bus = Bus()
        self.hops = Hops(self.store, self.bus)
        self.ingest = Ingest(self.store, self.hops, self.config)
        self.actions = OperatorActions(self.store, self.hops, self.config)
        self.factory = MockFactory()
        self.clock = Clock()
        self.panel = Panel(PINS, self.store, self.bus, self.actions, post_name="Ségou centre",
                           pin_factory=self.factory, clock=self.clock)
        self.started_at = self.clock.now

    def switch_on(self):
        self.panel.start()
        self.panel.wait_until_idle()  # what the store held at start-up is shown before the clock moves

    def wearer_presses(self, counter, event="SOS", device="W1"):
        text = alert_text(counter, event=event, device=device)
        assert self.ingest.handle_text(text, "sms", sender=PHONES[device]) == "new"
        self.panel.wait_until_idle()
        return self.store.list_alerts()[0]

    def officer_presses_the_button(self):
        button = self.factory.pin(BUTTON)
        button.drive_low()  # the button pulls its pin to GND
        button.drive_high()
        self.panel.wait_until_idle()

    def at(self, seconds):
        """The panel as it is `seconds` after the test started."""
        self.clock.now = self.started_at + seconds
        self.panel.refresh()
        self.panel.wait_until_idle()

    def link(self, hop, up):
        # As hub/service.py records them: the modem driver's link events and the MQTT client's.
        if hop == "hub.modem":
            self.hops.record(hop, kind="link up" if up else "link down", detail=None, up=up)
        else:
            self.hops.record(hop, up=up, detail="127.0.0.1:1883" if up else "7")
        self.panel.wait_until_idle()

    def seen(self, pin):
        """What the pin went through, from the moment the panel claimed it."""
        return [change.state for change in self.factory.pin(pin).states]

    def acks_to_the_wearers(self):
        """(device, alert counter, to whom) of each acknowledgement queued (not the receipts, RCV)."""
        acks = [(parse_ack(m["body"], lambda _device: KEY), m["recipient"]) for m in self.store.outbox()
                if m["kind"] == "ack"]
        return [(ack["device_id"], ack["counter"], to) for ack, to in acks if ack["status"] == "ACK"]


@pytest.fixture
def post(tmp_path):
    post = Post(tmp_path)
    post.switch_on()
    yield post
    post.panel.stop()
    post.store.close()


def test_an_sos_lights_the_waiting_led_and_sounds_two_beeps_then_a_pause(post):
    assert WAITING_BEEPS.durations == (0.2, 0.2, 0.2, 1.4)
    post.wearer_presses(1)
    # In the middle of each part of the pattern: beep, gap, beep, pause, and the next period's first beep.
    for seconds in (0.1, 0.3, 0.5, 0.7, 2.1):
        post.at(seconds)
    assert post.seen(BUZZER) == [OFF, ON, OFF, ON, OFF, ON]
    assert post.seen(WAITING_LED) == [OFF, ON]


def test_the_button_acknowledges_the_oldest_waiting_incident_for_the_post(post):
    first = post.wearer_presses(1)
    second = post.wearer_presses(1, event="FALL", device="W2")
    post.officer_presses_the_button()

    assert post.store.get_alert(first["id"])["state"] == "acknowledged"
    assert post.store.get_alert(first["id"])["acknowledged_by"] == "panel button (Ségou centre)"
    [hop] = [h for h in post.store.hops(first["id"]) if h["hop"] == "console.acknowledge"]
    assert hop["detail"]["operator"] == "panel button (Ségou centre)"
    assert post.acks_to_the_wearers() == [("W1", 1, W1_PHONE)]  # Awa feels it
    # The fall still waits: the buzzer keeps its pattern, the waiting LED stays lit.
    assert post.store.get_alert(second["id"])["state"] == "new"
    post.at(0.3)
    post.at(0.5)
    assert post.seen(BUZZER) == [OFF, ON, OFF, ON]
    assert post.seen(WAITING_LED) == [OFF, ON]

    post.officer_presses_the_button()
    assert post.store.get_alert(second["id"])["acknowledged_by"] == "panel button (Ségou centre)"
    assert post.acks_to_the_wearers() == [("W1", 1, W1_PHONE), ("W2", 1, W2_PHONE)]
    post.at(2.5)  # the next beep's time: none comes
    assert post.seen(BUZZER) == [OFF, ON, OFF, ON, OFF]
    assert post.seen(WAITING_LED) == [OFF, ON, OFF]


def test_an_acknowledgement_at_the_console_silences_the_panel(post):
    alert = post.wearer_presses(1)
    post.actions.apply(alert["id"], "acknowledge", operator="Sgt Coulibaly")
    post.panel.wait_until_idle()
    post.at(2.1)
    assert post.seen(BUZZER) == [OFF, ON, OFF]
    assert post.seen(WAITING_LED) == [OFF, ON, OFF]


def test_with_nothing_waiting_the_panel_is_silent_and_the_button_does_nothing(post):
    post.wearer_presses(1, event="LOWBAT")  # an incident, but nobody is in danger from it yet
    post.officer_presses_the_button()
    post.at(0.1)
    post.at(0.3)
    assert post.seen(BUZZER) == [OFF]
    assert post.seen(WAITING_LED) == [OFF]
    [low_battery] = post.store.list_alerts()
    assert low_battery["state"] == "new" and post.acks_to_the_wearers() == []


def test_an_incident_waiting_when_the_hub_starts_sounds_at_once(tmp_path):
    post = Post(tmp_path)
    post.ingest.handle_text(alert_text(1), "sms", sender=W1_PHONE)  # stored before a restart of the hub
    post.switch_on()
    try:
        assert post.seen(BUZZER) == [OFF, ON]
        assert post.seen(WAITING_LED) == [OFF, ON]
    finally:
        post.panel.stop()
        post.store.close()


def test_the_modem_led_is_lit_while_the_link_is_up_and_blinks_while_it_is_down(post):
    assert LINK_DOWN_BLINK.durations == (0.5, 0.5)
    post.at(0.75)  # not up yet since the start: blinking
    post.link("hub.modem", up=True)
    post.at(1.6)
    post.link("hub.modem", up=False)  # at 1.6 s: the blink starts lit
    for seconds in (2.4, 2.8, 3.3):  # 0.8, 1.2 and 1.7 s after it went down
        post.at(seconds)
    post.link("hub.modem", up=True)
    assert post.seen(MODEM_LED) == [OFF, ON, OFF, ON, OFF, ON, OFF, ON]
    assert post.seen(BROKER_LED) == [OFF, ON, OFF, ON, OFF, ON]  # the broker never came up: it blinks on


def test_the_broker_led_follows_the_mqtt_link(post):
    post.link("hub.mqtt_link", up=True)
    post.at(0.75)
    post.link("hub.mqtt_link", up=False)
    post.at(1.4)
    assert post.seen(BROKER_LED) == [OFF, ON, OFF]
    assert post.seen(MODEM_LED) == [OFF, ON, OFF, ON]  # the modem's LED is not the broker's


def test_stop_leaves_every_light_and_the_buzzer_off(post):
    post.wearer_presses(1)
    post.link("hub.modem", up=True)
    post.panel.stop()
    for pin in (BUZZER, WAITING_LED, MODEM_LED):
        assert post.seen(pin)[-1] == OFF


def test_the_hub_runs_its_panel_when_hub_toml_has_one(tmp_path, monkeypatch):
    factory = MockFactory()
    monkeypatch.setattr(Device, "pin_factory", factory)  # gpiozero's default factory: the hub passes none
    config = parse_config({
        "hub": {"id": "segou", "number": HUB_NUMBER, "database": str(tmp_path / "hub.db")},
        "console": {"port": free_port()},
        "devices": [{"id": "W1", "key": KEY_HEX, "phone": W1_PHONE, "wearer": "Awa Traoré"}],
        "panel": {"buzzer": BUZZER, "waiting_led": WAITING_LED, "button": BUTTON}})

    async def an_sos_then_the_button():
        hub, stop = HubService(config), asyncio.Event()
        running = asyncio.create_task(hub.run(stop))
        await asyncio.wait_for(hub.ready.wait(), 60)  # a hang guard only
        hub.ingest.handle_text(alert_text(1), "sms", sender=W1_PHONE)
        await asyncio.to_thread(hub.panel.wait_until_idle)
        factory.pin(BUTTON).drive_low()
        factory.pin(BUTTON).drive_high()
        await asyncio.to_thread(hub.panel.wait_until_idle)
        [alert] = hub.store.list_alerts()
        stop.set()
        await asyncio.wait_for(running, 60)  # a hang guard only
        return alert

    alert = asyncio.run(an_sos_then_the_button())
    assert (alert["state"], alert["acknowledged_by"]) == ("acknowledged", "panel button (segou)")
    assert [change.state for change in factory.pin(WAITING_LED).states] == [OFF, ON, OFF]
    # The hub's own clock runs here: how many beeps came before the press depends on the machine, not the end.
    buzzer = [change.state for change in factory.pin(BUZZER).states]
    assert buzzer[:2] == [OFF, ON] and buzzer[-1] == OFF


# -- [panel] in hub.toml -----------------------------------------------------------------------------------------
def hub_toml(panel, modem=None, mqtt=None):
    data = {"hub": {"id": "segou", "number": HUB_NUMBER},
            "devices": [{"id": "W1", "key": KEY_HEX, "phone": W1_PHONE, "wearer": "Awa Traoré"}],
            "panel": panel}
    if modem is not None:
        data["modem"] = modem
    if mqtt is not None:
        data["mqtt"] = mqtt
    return parse_config(data)


def test_panel_pins_load_from_hub_toml():
    config = hub_toml({"buzzer": 18, "waiting_led": 23, "modem_led": 24, "broker_led": 25, "button": 22},
                      modem={"port": "/dev/ttyUSB0", "model": "SIM800L", "power": "gpio:17"},
                      mqtt={"host": "127.0.0.1"})
    assert config.panel == PINS
    assert hub_toml({"buzzer": 0, "button": 27}).panel == PanelPins(buzzer=0, button=27)


def test_no_panel_table_or_no_pin_is_no_panel(tmp_path):
    assert make_config(tmp_path).panel is None
    assert parse_panel({}) is None


@pytest.mark.parametrize("table, words", [
    ({"buzzer": 28}, "[panel]: 'buzzer' must be a BCM pin number from 0 to 27"),
    ({"waiting_led": -1}, "[panel]: 'waiting_led' must be a BCM pin number from 0 to 27"),
    ({"button": "17"}, "[panel]: 'button' must be a BCM pin number from 0 to 27 (the GPIO it is wired to), not '17'"),
    ({"modem_led": True}, "[panel]: 'modem_led' must be a BCM pin number"),
    ({"broker_led": 24.0}, "[panel]: 'broker_led' must be a BCM pin number"),
    ({"siren": 5}, "[panel]: unknown key 'siren' (known: buzzer, waiting_led, modem_led, broker_led, button)"),
])
def test_a_bad_pin_is_refused_naming_the_key(table, words):
    with pytest.raises(ConfigError) as refused:
        parse_panel(table)
    assert words in str(refused.value)


def test_a_pin_used_twice_is_refused():
    with pytest.raises(ConfigError, match=r"\[panel\]: 'button' is pin 18, which 'buzzer' uses already"):
        parse_panel({"buzzer": 18, "button": 18})
    with pytest.raises(ConfigError, match=r"\[panel\]: 'buzzer' is pin 17, which \[modem\] power uses already"):
        hub_toml({"buzzer": 17}, modem={"port": "/dev/ttyUSB0", "model": "SIM800L", "power": "gpio:17"})


def test_a_panel_that_is_not_a_table_is_refused():
    with pytest.raises(ConfigError, match=r"\[panel\] must be a table"):
        hub_toml(18)


def test_a_link_led_for_a_link_the_hub_never_opens_is_refused():
    with pytest.raises(ConfigError, match=r"'modem_led' is set but \[modem\] has no 'port'"):
        hub_toml({"modem_led": 24})
    with pytest.raises(ConfigError, match=r"'broker_led' is set but \[mqtt\] has no 'host'"):
        hub_toml({"broker_led": 25})
