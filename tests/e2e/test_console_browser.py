"""The police console in a real headless Chromium: from an alert stored by the hub to an acknowledged intervention.

One browser for the module; every test gets its own store, bus and console (a new port, so a fresh origin and
fresh localStorage). Every wait is bounded (WebDriverWait); nothing depends on how fast the machine is.
"""
import time
from pathlib import Path

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from drivers.alert import parse_ack
from hub.bus import Bus, Event
from hub.console.sample import BAMAKO, XSS_NAME, record_sample, sample_config, sample_sms
from hub.console.server import ConsoleServer
from hub.hops import Hops
from hub.inbound.ingest import Ingest
from hub.incidents.escalation import Escalation
from hub.incidents.liveness import Liveness
from hub.incidents.operator import OperatorActions
from hub.incidents.plan import parse_plan
from hub.store import Store
from hub.timeline import Timeline
from tests.hub.test_escalation import PLAN
from tests.support.browser import Browser

REPO = Path(__file__).resolve().parents[2]
WAIT = 10  # seconds: the bound of every wait
CELL = {"mcc": 610, "mnc": 1, "lac": 0x1F4, "cell_id": 0x2A3B}


@pytest.fixture(scope="module")
def driver():
    browser = Browser()
    yield browser.start()
    browser.stop()


class Hub:
    def __init__(self, tmp_path, started_at=None):
        self.config = sample_config(tmp_path / "deme.db")
        self.store = Store(self.config.database).open()
        self.bus = Bus()
        self.hops = hops = Hops(self.store, self.bus, Timeline())
        self.actions = OperatorActions(self.store, hops, self.config)
        self.liveness = Liveness(self.store, hops, self.config, started_at=started_at).start()
        self.ingest = Ingest(self.store, hops, self.config, on_heard=self.liveness.heard)
        self.console = ConsoleServer(self.store, self.bus, self.actions, self.config, liveness=self.liveness).start()

    def record(self, device_id="W1", counter=1, **kwargs):
        return record_sample(self.store, self.bus, self.config, device_id, counter, **kwargs)

    def send(self, device_id, counter, event="HB", **kwargs):
        """A signed message through ingest, as the modem hands it over: stored, receipted, liveness updated."""
        raw, _ = sample_sms(self.config, device_id, counter, event=event, **kwargs)
        return self.ingest.handle_text(raw, "sms", sender=self.config.devices[device_id].phone)

    def close(self):
        self.console.stop()
        self.store.close()


def _serve(driver, hub):
    driver.get_log("browser")  # start each test with an empty browser log
    yield hub
    # Any script error on the page fails the test that caused it.
    errors = [e["message"] for e in driver.get_log("browser") if e.get("source") in ("javascript", "console-api")]
    driver.get("about:blank")  # close the page's event stream before the server goes
    hub.close()
    assert not errors, errors


@pytest.fixture
def hub(tmp_path, driver):
    yield from _serve(driver, Hub(tmp_path))


@pytest.fixture
def late_hub(tmp_path, driver):
    """A hub that started three hours ago: a wearable never heard since is past its limit (2 x 60 + 15 min)."""
    yield from _serve(driver, Hub(tmp_path, started_at=time.time() - 3 * 3600))


def wait(driver, condition, message):
    return WebDriverWait(driver, WAIT).until(lambda d: condition(d), message)


def open_console(driver, hub, query=""):
    driver.get(hub.console.url + "/" + query)
    wait(driver, lambda d: d.find_element(By.ID, "link").get_attribute("data-state") == "live",
         "the event stream never connected")


def card(driver, alert_id):
    return driver.find_element(By.ID, "alert-%d" % alert_id)


def wait_state(driver, alert_id, state):
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '#alert-%d[data-state="%s"]' % (alert_id, state)),
         "alert %d never showed as %s" % (alert_id, state))


def click(driver, alert_id, action):
    card(driver, alert_id).find_element(By.CSS_SELECTOR, 'button[data-action="%s"]' % action).click()


def fill_form(driver, alert_id, text):
    field = wait(driver, lambda d: card(d, alert_id).find_element(By.CSS_SELECTOR, '[data-role="form-input"]'),
                 "the form did not open")
    field.send_keys(text)
    card(driver, alert_id).find_element(By.CSS_SELECTOR, "button.confirm").click()


def type_operator(driver, name):
    field = driver.find_element(By.ID, "operator")
    field.clear()
    field.send_keys(name)


def no_dialog(driver):
    try:
        text = driver.switch_to.alert.text
    except NoAlertPresentException:
        return True
    driver.switch_to.alert.dismiss()
    raise AssertionError("a dialog opened: %r" % text)


# -- tests -------------------------------------------------------------------------------------------------------
def test_an_alert_appears_live_with_wearer_position_category_and_title_counter(driver, hub):
    open_console(driver, hub)
    assert driver.title == "Deme — Console police"
    assert driver.find_element(By.ID, "urgent-banner").is_displayed() is False
    driver.execute_script("window.__sameLoad = true")

    alert = hub.record("W1", 1, category="AGR", received_at=time.time() - 130)
    wait(driver, lambda d: d.find_elements(By.ID, "alert-%d" % alert["id"]), "the alert never appeared")
    assert driver.execute_script("return window.__sameLoad") is True  # live, not by reloading the page
    text = card(driver, alert["id"]).text
    for expected in ("Aminata Traoré", "W1", "Appel à l'aide (SOS)", "Agression", "12.65283, -7.99824", "± 12 m",
                     "par SMS", "80 %", "il y a 2 min"):
        assert expected in text, expected
    assert driver.title == "(1) Deme — Console police"
    banner = driver.find_element(By.ID, "urgent-banner")
    assert banner.is_displayed() and "1 ALERTE URGENTE" in banner.text
    osm = card(driver, alert["id"]).find_element(By.CSS_SELECTOR, "a.osm")
    assert "mlat=12.65283" in osm.get_attribute("href") and osm.get_attribute("target") == "_blank"
    assert card(driver, alert["id"]).find_elements(By.CSS_SELECTOR, "svg.sketch circle.sk-acc")

    age = card(driver, alert["id"]).find_element(By.CSS_SELECTOR, ".age")
    first = age.text
    wait(driver, lambda d: age.text != first, "the age does not tick")

    # A second alert without a fix shows its cell; the counter follows.
    fall = hub.record("W2", 1, event="FALL", category="MED", position=None, cell=CELL)
    wait(driver, lambda d: d.title.startswith("(2) "), "the counter did not reach 2")
    text = card(driver, fall["id"]).text
    assert "pas de position GPS" in text and "MCC 610" in text and "CID 10811" in text
    # Unhandled and newest first.
    ids = [e.get_attribute("data-id") for e in driver.find_elements(By.CSS_SELECTOR, "#alerts article")]
    assert ids == [str(fall["id"]), str(alert["id"])]


def test_operator_acknowledges_dispatches_and_resolves_and_the_wearer_is_told(driver, hub):
    alert = hub.record("W1", 5, category="MED")
    open_console(driver, hub)
    wait_state(driver, alert["id"], "new")

    click(driver, alert["id"], "acknowledge")  # no name yet: the page asks for one and does nothing
    notice = driver.find_element(By.ID, "notice")
    wait(driver, lambda d: notice.is_displayed(), "no request for a name")
    assert "Opérateur" in notice.text
    assert hub.store.get_alert(alert["id"])["state"] == "new"

    type_operator(driver, "Sgt Diallo")
    click(driver, alert["id"], "acknowledge")
    wait_state(driver, alert["id"], "acknowledged")
    stored = hub.store.get_alert(alert["id"])
    assert (stored["state"], stored["acknowledged_by"]) == ("acknowledged", "Sgt Diallo")
    (ack,) = hub.store.outbox(alert["id"])
    assert ack["kind"] == "ack" and ack["recipient"] == "+22376000001"
    assert parse_ack(ack["body"], hub.config.key_for)["status"] == "ACK"
    wait(driver, lambda d: d.title == "Deme — Console police", "the counter did not drop")
    assert "en attente d'envoi" in card(driver, alert["id"]).find_element(By.CSS_SELECTOR, ".told").text

    # The outbox worker hands the ack to the modem: the page says the wearer has been told, live.
    hub.store.mark_sent(ack["id"], [17])
    hub.bus.publish(Event("outbox.sent", None, {"alert_id": alert["id"], "message_id": ack["id"]}))
    wait(driver, lambda d: "Porteur prévenu" in card(d, alert["id"]).find_element(By.CSS_SELECTOR, ".told").text,
         "the page never said the wearer was told")

    click(driver, alert["id"], "dispatch")
    fill_form(driver, alert["id"], "Patrouille 3")
    wait_state(driver, alert["id"], "dispatched")
    assert hub.store.get_alert(alert["id"])["unit"] == "Patrouille 3"
    assert "Unité Patrouille 3 envoyée par Sgt Diallo" in card(driver, alert["id"]).text

    click(driver, alert["id"], "resolve")
    fill_form(driver, alert["id"], "Personne raccompagnée chez elle")
    wait_state(driver, alert["id"], "resolved")
    stored = hub.store.get_alert(alert["id"])
    assert (stored["resolved_by"], stored["note"]) == ("Sgt Diallo", "Personne raccompagnée chez elle")
    assert [m["body"].split(";")[4] for m in hub.store.outbox(alert["id"])] == ["s=ACK", "s=DSP", "s=RES"]
    timeline = card(driver, alert["id"]).find_element(By.CSS_SELECTOR, ".timeline").text
    for hop in ("Reçue et enregistrée par le hub", "Prise en compte par Sgt Diallo", "Remis au modem",
                "Clôturée par Sgt Diallo"):
        assert hop in timeline, hop

    # The name is typed once: it is still there after a reload.
    driver.refresh()
    wait(driver, lambda d: d.find_element(By.ID, "operator").get_attribute("value") == "Sgt Diallo",
         "the operator name was not kept")


def test_names_and_notes_render_as_text_never_as_markup(driver, hub):
    alert = hub.record("W3", 1, event="DUR", category="HAR", device_time=int(time.time()) - 400)
    hub.actions.apply(alert["id"], "acknowledge", XSS_NAME)
    open_console(driver, hub)
    type_operator(driver, "<b>Bold</b>")
    click(driver, alert["id"], "dispatch")
    fill_form(driver, alert["id"], "<script>alert(3)</script>")
    wait_state(driver, alert["id"], "dispatched")
    element = card(driver, alert["id"])
    assert element.find_element(By.CSS_SELECTOR, ".wearer").text == XSS_NAME
    assert "Prise en compte par " + XSS_NAME in element.text
    assert "Unité <script>alert(3)</script> envoyée par <b>Bold</b>" in element.text
    for tag in ("img", "script", "b"):
        assert driver.find_elements(By.CSS_SELECTOR, "#alerts " + tag) == [], tag
    assert no_dialog(driver)
    # Duress has its own warning: the wearer may be watched.
    assert "CONTRAINTE" in element.find_element(By.CSS_SELECTOR, ".duress").text
    # It was sent 400 s before it reached the hub: the page says so next to the reception time.
    assert "arrivée 6 min" in element.find_element(By.CSS_SELECTOR, ".late").text
    assert hub.store.get_alert(alert["id"])["dispatched_by"] == "<b>Bold</b>"


def test_english_by_toggle(driver, hub):
    alert = hub.record("W2", 1, event="FALL", category="MED", position=None, cell=CELL)
    open_console(driver, hub)
    driver.find_element(By.ID, "lang-toggle").click()
    wait(driver, lambda d: "lang=en" in d.current_url and d.find_elements(By.ID, "alert-%d" % alert["id"]),
         "the English page did not load")
    text = card(driver, alert["id"]).text
    for expected in ("Fall detected", "Medical emergency", "Moussa Keïta", "no GPS fix", "Acknowledge", "ago"):
        assert expected in text, expected
    assert driver.title == "(1) Deme — Police console"


def test_connection_lost_is_shown_and_the_stream_comes_back_by_itself(driver, hub):
    open_console(driver, hub)
    port = hub.console.port
    banner = driver.find_element(By.ID, "connection-banner")
    assert not banner.is_displayed()
    hub.console.stop()
    wait(driver, lambda d: banner.is_displayed(), "a lost connection was not shown")
    assert "perdue" in banner.text
    hub.console = ConsoleServer(hub.store, hub.bus, hub.actions, hub.config, port=port).start()
    wait(driver, lambda d: not banner.is_displayed(), "the page did not reconnect")
    alert = hub.record("W1", 9)
    wait(driver, lambda d: d.find_elements(By.ID, "alert-%d" % alert["id"]), "no live alert after reconnecting")


def device_row(driver, device_id):
    return driver.find_element(By.ID, "device-" + device_id)


def test_the_devices_panel_shows_a_silent_wearable_live_and_clears_it_when_it_is_heard(driver, late_hub):
    hub = late_hub
    assert hub.send("W1", 1, battery=80) == "new"
    assert hub.send("W2", 1, battery=9) == "new"
    open_console(driver, hub)
    wait(driver, lambda d: d.find_elements(By.ID, "device-W3"), "the device list never appeared")
    # Heartbeats are receipted but are no incident: no alert card, the list says there is no active alert.
    assert driver.find_elements(By.CSS_SELECTOR, "#alerts article") == []
    assert driver.find_element(By.ID, "empty").is_displayed()
    assert len(hub.store.outbox()) == 2
    w1 = device_row(driver, "W1")
    assert w1.get_attribute("data-status") == "ok"
    for expected in ("W1", "Aminata Traoré", "il y a", "par SMS", "80 %", "OK", "prochain signal attendu"):
        assert expected in w1.text, expected
    w2 = device_row(driver, "W2")
    assert w2.get_attribute("data-status") == "low_battery"
    assert "⚠ 9 %" in w2.text and "Batterie faible" in w2.text
    assert w2.find_element(By.CSS_SELECTOR, ".battery.low")
    assert "Jamais entendu" in device_row(driver, "W3").text
    banner = driver.find_element(By.ID, "silent-banner")
    assert not banner.is_displayed()
    driver.execute_script("window.__sameLoad = true")

    # The watchdog runs: W3 was never heard since the hub started three hours ago.
    assert hub.liveness.check() == [("device.silent", "W3")]
    wait(driver, lambda d: device_row(d, "W3").get_attribute("data-status") == "silent",
         "the silent wearable was not shown")
    assert driver.execute_script("return window.__sameLoad") is True  # live, not by reloading the page
    w3 = device_row(driver, "W3")
    assert "SILENCIEUX" in w3.text and "ne peut plus appeler" in w3.text
    assert banner.is_displayed() and "1 bracelet silencieux" in banner.text and XSS_NAME in banner.text
    ids = [e.get_attribute("id") for e in driver.find_elements(By.CSS_SELECTOR, "#device-rows tr")]
    assert ids == ["device-W3", "device-W2", "device-W1"]  # worst first
    assert driver.find_elements(By.CSS_SELECTOR, "#devices img, #silent-banner img") == []  # names are text
    assert no_dialog(driver)
    path = REPO / "build" / "screenshots" / "console-devices.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.execute_script("document.getElementById('devices').scrollIntoView()")
    assert driver.save_screenshot(str(path))

    # W3 is heard again (here by an SOS): the alert appears and the silence clears.
    assert hub.send("W3", 1, event="SOS") == "new"
    wait(driver, lambda d: device_row(d, "W3").get_attribute("data-status") == "ok", "the silence did not clear")
    wait(driver, lambda d: not banner.is_displayed(), "the silent banner stayed")
    assert driver.find_elements(By.CSS_SELECTOR, "#alerts article.event-SOS")
    assert "de nouveau entendu" in driver.find_element(By.ID, "notice").text


def test_an_incident_nobody_answered_is_flagged_on_the_console(driver, hub):
    """The response plan's ladder runs out (the real engine, its clock moved on): the console says so at once,
    naming the incident's code, as MQTT and the supervisors' SMS do."""
    open_console(driver, hub)
    alert = hub.record("W1", 1)
    wait(driver, lambda d: d.find_elements(By.ID, "alert-%d" % alert["id"]), "the alert never appeared")
    assert not driver.find_element(By.ID, "unanswered-banner").is_displayed()
    now = [time.time()]
    engine = Escalation(hub.store, parse_plan(PLAN, "ML"), hub.hops, lambda: None, devices=hub.config.devices,
                        clock=lambda: now[0])
    code = engine.begin(hub.store.get_alert(alert["id"]))
    for _rung in range(20):  # every send of every step, then the unanswered check
        now[0] += 600
        engine.process_due()
    banner = driver.find_element(By.ID, "unanswered-banner")
    wait(driver, lambda d: banner.is_displayed(), "the unanswered banner never appeared")
    assert code in banner.text and "PERSONNE N'A RÉPONDU" in banner.text
    hub.actions.apply(alert["id"], "acknowledge", "Sgt. Diallo")  # taken at last: the flag goes
    wait(driver, lambda d: not banner.is_displayed(), "the unanswered banner stayed after the acknowledgement")


def test_screenshot_of_the_console_with_two_alerts(driver, hub):
    sos = hub.record("W1", 1, category="AGR", received_at=time.time() - 130, acc_m=25)
    fall = hub.record("W2", 1, event="FALL", category="MED", position=(BAMAKO[0] + 0.0021, BAMAKO[1] - 0.0014),
                      acc_m=60, age_s=40, battery=14)
    hub.actions.apply(fall["id"], "acknowledge", "Sgt Diallo")
    (ack,) = hub.store.outbox(fall["id"])
    hub.store.mark_sent(ack["id"], [17])
    open_console(driver, hub)
    wait_state(driver, sos["id"], "new")
    wait_state(driver, fall["id"], "acknowledged")
    type_operator(driver, "Sgt Diallo")
    driver.set_window_size(1280, 900)
    path = REPO / "build" / "screenshots" / "console.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
