"""The hub: wires the store, the modem, MQTT, the outbox and the console, and runs them until stopped.
Constructors store; run() acts."""
import asyncio
import errno
import json
import logging
import os
import socket
import threading
import time
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from drivers.modem import Modem
from hub.bus import Bus
from hub.console import ConsoleServer
from hub.hops import DEVICE_EVENTS, MQTT_PUBLISHED_HOP, Hops
from hub.inbound.ingest import Ingest
from hub.incidents.escalation import Escalation
from hub.incidents.liveness import Liveness
from hub.incidents.notices import ContactNotices
from hub.incidents.operator import OperatorActions
from hub.incidents.replies import ResponderReplies
from hub.incidents.reports import KeywordReports
from hub.incidents.thread import Threads
from hub.outputs import mqtt_out
from hub.outputs.outbox import OutboxWorker
from hub.platform.modem_power import modem_power_from_config
from hub.platform.mqtt_link import KEEPALIVE_S, MQTTLink
from hub.platform.panel import Panel
from hub.platform.serialport import SerialPortError, SerialUART
from hub.store import DatabaseTooNewError, Store
from hub.store.api import StoredSMSParts
from hub.timeline import Timeline

log = logging.getLogger(__name__)

RETENTION_CHECK_S = 3600


class StartupError(Exception):
    """A part of the hub cannot start; the message names the hub.toml key (or the thing) to fix."""


class HubService:
    def __init__(self, config):
        self.config = config
        self.store = Store(config.database)
        self.bus = Bus()
        self.timeline = Timeline(config.timeline_path, source="hub")
        self.hops = Hops(self.store, self.bus, self.timeline)
        self.modem = None
        self.console = None
        self.mqtt = None
        self.panel = None
        self.ready = asyncio.Event()
        self._uart = None
        self._power = None
        self.started_at = time.time()

    # -- wiring ----------------------------------------------------------------------------------------------
    async def run(self, stop):
        """Run until the asyncio.Event `stop` is set. A part that cannot start raises StartupError naming what to
        fix; `stop` set during start-up ends it at once, also while a step still waits (a locked database)."""
        config = self.config
        log.info("opening the database %s", config.database)
        if not await _unless_stopped(self._open_store, stop):
            return  # stopped while the database was opening: its thread is left behind, the process is ending
        self.outbox = OutboxWorker(self.store, self.hops, self._send_sms, max_attempts=config.outbox_max_attempts,
                                   retry_s=config.outbox_retry_s)
        # Devices never heard are measured from the first start of a hub that knows them (kept in the store).
        self.liveness = Liveness(self.store, self.hops, config, started_at=self.started_at).start()
        # The incidents' SMS threads (an operator's or a contact's message) and the contacts' notices of each step.
        self.threads = Threads(self.store, config, self.hops, wake_outbox=self.outbox.wake)
        self.notices = ContactNotices(self.store, config, self.hops, wake_outbox=self.outbox.wake)
        self.actions = OperatorActions(self.store, self.hops, config, wake_outbox=self.outbox.wake)
        self.bus.subscribe(self._on_bus_event)
        tasks = [asyncio.create_task(self.outbox.run(), name="outbox"),
                 asyncio.create_task(self._retention(), name="retention"),
                 asyncio.create_task(self.liveness.run(), name="liveness"),
                 asyncio.create_task(self.notices.run(), name="contact notices")]
        # The response plan's ladders, only when hub.toml has a [plan]: it resumes those of the table at once.
        self.escalation = None
        if config.plan is not None:
            self.escalation = Escalation(self.store, config.plan, self.hops, self.outbox.wake,
                                         devices=config.devices).start()
        # Every SMS lands somewhere: an alert, a responder's reply, a keyword report, a contact's reply, the inbox.
        plan = getattr(config, "plan", None)
        self.ingest = Ingest(
            self.store, self.hops, config, wake_outbox=self.outbox.wake, on_heard=self.liveness.heard,
            replies=ResponderReplies(self.store, plan, self.actions, self.hops, wake_outbox=self.outbox.wake),
            reports=KeywordReports(self.store, plan, self.hops, wake_outbox=self.outbox.wake,
                                   is_wearable=lambda number: config.device_by_phone(number) is not None),
            threads=self.threads, escalation=self.escalation, plan=plan)
        try:
            if config.panel is not None:
                self._start_panel()
            self.console = ConsoleServer(self.store, self.bus, self.actions, config, host=config.console_host,
                                         port=config.console_port, liveness=self.liveness,
                                         allowed_hosts=config.console_allowed_hosts)
            try:
                self.console.start()
            except (OSError, OverflowError) as exc:
                raise StartupError(console_problem(config.console_host, config.console_port, exc)) from None
            self.hops.record("hub.console", url=self.console.url)
            if config.mqtt_host:
                try:
                    self._start_mqtt()
                except (OSError, ValueError) as exc:
                    raise StartupError(f"[mqtt] host {config.mqtt_host!r} port {config.mqtt_port}: {exc}") from None
            if config.modem_port:
                self._open_modem_port()
                tasks.append(asyncio.create_task(self._run_modem(), name="modem"))
            self.ready.set()
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.escalation is not None:
                await self.escalation.stop()
            if self.modem is not None:
                try:
                    await self.modem.stop()
                except Exception:
                    log.exception("modem stop failed")
            if self._uart is not None:
                self._uart.close()
            if self._power is not None:
                self._power.stop()
            if self.mqtt is not None:
                self.mqtt.publish(mqtt_out.status_topic(config.hub_id), json.dumps({"online": False}), retain=True)
                self.mqtt.stop()
            if self.console is not None:
                self.console.stop()
            if self.panel is not None:
                self.panel.stop()
            self.store.close()

    def _open_store(self):
        try:
            self.store.open()
        except DatabaseTooNewError as exc:
            raise StartupError(f"[hub] database {self.config.database}: {exc}") from None
        except (SQLAlchemyError, OSError) as exc:
            raise StartupError(database_problem(self.config.database, exc)) from None
        return True

    def _start_panel(self):
        # Before the links start: their first "up" reaches its LED. The button acts in the hub's name.
        self.panel = Panel(self.config.panel, self.store, self.bus, self.actions, post_name=self.config.hub_id)
        try:
            self.panel.start()
        except Exception as exc:  # gpiozero raises its own classes (no GPIO on this machine, pin in use...)
            self.panel = None
            raise StartupError(f"[panel]: cannot use the GPIO pins {self.config.panel} ({exc}): check the wiring "
                               "and that the hub's user may use the GPIO (group gpio), or remove [panel]") from None

    # -- SMS -------------------------------------------------------------------------------------------------
    def _open_modem_port(self):
        """At start-up, so that a wrong [modem] port or power is told at once; once open, the port heals by
        itself (SerialUART reopens it) when a USB adapter comes and goes."""
        config = self.config
        try:
            self._uart = SerialUART(config.modem_port, config.modem_baudrate).open()
        except SerialPortError as exc:
            raise StartupError(f"[modem] port: {exc}: check the device (ls /dev/serial/by-id/) and that the hub's "
                               "user may open it (group dialout), or change [modem] port") from None
        try:
            self._power = modem_power_from_config(config.modem_power, config.modem_model)
            if self._power is not None:
                self._power.start()
        except Exception as exc:  # gpiozero raises its own classes (no GPIO on this machine, pin in use...)
            raise StartupError(f"[modem] power {config.modem_power!r}: cannot use it ({exc})") from None

    async def _run_modem(self):
        config = self.config
        # Parts of concatenated SMS leave the SIM for the store at once (the SIM is only a landing area).
        self.modem = Modem(self._uart, power=self._power, model=config.modem_model, on_event=self._on_modem_event,
                           sms_parts=StoredSMSParts(self.store))
        self.modem.set_sms_handler(self._on_sms)
        attempt = 0
        while True:
            try:
                await self.modem.start()
                break
            except Exception as exc:  # bounded backoff; every failure is visible on the console and timeline
                attempt += 1
                self.hops.record("hub.modem_start_failed", error=str(exc), attempt=attempt)
                await asyncio.sleep(min(60, 2 * attempt))
        self.hops.record("hub.modem_ready", model=self.modem.info.get("model"))
        await self.modem.supervise()

    def _on_modem_event(self, kind, detail):
        # `up` tells the console's modem badge the link state; other kinds (registration, power cycle...) leave it.
        link = {"link up": {"up": True}, "link down": {"up": False}}.get(kind, {})
        self.hops.record("hub.modem", kind=kind, detail=str(detail) if detail is not None else None, **link)

    async def _on_sms(self, sms):
        """Returning = durably handled: only then does the driver delete the SMS from the SIM."""
        text = sms.get("text")
        sender = sms.get("number")
        self.hops.record("hub.sms_received", sender=sender, chars=len(text or ""))
        if sms.get("incomplete"):
            text = text or ""
            if sms.get("reason"):  # evicted (a sender over its bounds) or timed out: rejected with why
                self.store.record_rejected("sms", text, sms["reason"], sender=sender)
                return
        self.ingest.handle_text(text if isinstance(text, str) else "", "sms", sender=sender)

    async def _send_sms(self, recipient, body):
        if self.modem is None or not self.modem.link_up:
            raise RuntimeError("modem not ready")
        return await self.modem.send_sms(recipient, body)

    # -- MQTT ------------------------------------------------------------------------------------------------
    def _start_mqtt(self):
        config = self.config
        # The broker's autosave_interval: what it acknowledged within that long before it died may be lost. From
        # [mqtt] broker_autosave_s once hub.config has it; the shipped broker's value until then.
        self._broker_autosave_s = getattr(config, "mqtt_broker_autosave_s", mqtt_out.BROKER_AUTOSAVE_INTERVAL_S)
        self._published_at = self._recent_publications()
        self._link_lost_at = None
        self.mqtt = MQTTLink(
            config.mqtt_host, config.mqtt_port, client_id=f"deme-hub-{config.hub_id}",
            username=config.mqtt_username, password=config.mqtt_password,
            subscriptions=[mqtt_out.device_alert_topic("+")],
            on_message=self._on_mqtt_message, on_published=self._on_mqtt_published, on_link=self._on_mqtt_link,
            will=(mqtt_out.status_topic(config.hub_id), json.dumps({"online": False})))
        self.mqtt.start()

    def _on_mqtt_link(self, up, detail):
        if not up:
            self._link_lost_at = self._link_lost_at or time.time()
            self.hops.record("hub.mqtt_link", up=up, detail=detail)
            return
        self.mqtt.publish(mqtt_out.status_topic(self.config.hub_id),
                          json.dumps({"online": True, "t": time.time()}), retain=True)
        on_their_way = self.mqtt.pending_tokens()  # paho sends these itself on this connection
        alerts_topic = mqtt_out.alert_topic(self.config.hub_id)
        # What was stored while the broker was away (or before a restart) is published now: at-least-once,
        # subscribers deduplicate by alert id.
        caught_up = []
        for alert in self.store.alerts_missing_hop(MQTT_PUBLISHED_HOP):
            if (alert["id"], alerts_topic) not in on_their_way:
                self._publish_alert(alert, "alert.new")
                caught_up.append(alert["id"])
        republished = []
        for alert_id in self._possibly_lost_by_the_broker():
            alert = self.store.get_alert(alert_id)
            if alert is not None and alert_id not in caught_up and (alert_id, alerts_topic) not in on_their_way:
                self._publish_alert(alert, "alert.new")
                republished.append(alert_id)
        self._link_lost_at = None
        self.hops.record("hub.mqtt_link", up=up, detail=detail, caught_up=caught_up, republished=republished)
        # Retained device statuses: refreshed on every connection (the broker may have lost them).
        for status in self.liveness.describe_all():
            self._publish_device(status)

    def _republish_window_s(self):
        # A dead peer is noticed up to 1.5 keepalives late: the broker may have died that much before we knew.
        return self._broker_autosave_s + 1.5 * KEEPALIVE_S

    def _possibly_lost_by_the_broker(self):
        """Alerts the broker acknowledged (PUBACK) within its autosave interval before the link went down.
        Mosquitto saves its state on that timer only, so if it was killed, they are gone from the queues of offline
        subscribers. Whether it was cannot be told from the reconnection: a session saved earlier comes back
        (session present) while the messages queued since are lost. So every new connection republishes them;
        subscribers deduplicate by alert id, as they must for any at-least-once delivery."""
        if self._link_lost_at is not None:
            lost_at = self._link_lost_at
        else:  # the first connection of this hub: measured from its last publication before it stopped
            lost_at = max(list(self._published_at.values()), default=0.0)
        since = lost_at - self._republish_window_s()
        return sorted(alert_id for alert_id, t in list(self._published_at.items()) if t >= since)

    def _recent_publications(self, scan=200):
        """alert id -> PUBACK time of the last `scan` alerts, for the first connection after a restart."""
        published = {}
        for alert in self.store.list_alerts(limit=scan):
            times = [hop["t"] for hop in self.store.hops(alert["id"]) if hop["hop"] == MQTT_PUBLISHED_HOP]
            if times:
                published[alert["id"]] = max(times)
        return published

    def _on_mqtt_message(self, topic, payload):
        """paho's thread (the store is thread-safe). Returning acknowledges the message; raising leaves it
        unacknowledged for redelivery, so only a failure of the store may raise: a message refused for its own
        content is recorded as rejected and acknowledged, or it would hold one of the broker's in-flight slots
        for the hub forever, and after 20 of them no device's alert would reach it, even across restarts."""
        parts = topic.split("/")
        device_id = parts[3] if len(parts) == 5 else None
        try:
            text = mqtt_out.parse_device_payload(payload)
        except mqtt_out.DeviceMessageRejected as exc:
            self._reject_mqtt(topic, exc.raw, str(exc))
            return
        if device_id and f";i={device_id};" not in text:
            self._reject_mqtt(topic, mqtt_out.storable_text(text), f"topic device {device_id} differs from the alert's")
            return
        try:
            self.ingest.handle_text(text, "mqtt", sender=device_id)
        except SQLAlchemyError:
            raise  # the store failed: the broker keeps the message and redelivers it
        except Exception as exc:
            # A message that still breaks the inbound path is that message's doing: kept, visible, acknowledged.
            log.error("MQTT message on %s could not be handled (%s): recorded as rejected", topic, type(exc).__name__)
            self._reject_mqtt(topic, mqtt_out.storable_text(text), f"could not be handled ({type(exc).__name__})")

    def _reject_mqtt(self, topic, raw, reason):
        self.store.record_rejected("mqtt", raw, reason, sender=topic)
        self.hops.record("hub.rejected", via="mqtt", sender=topic, reason=reason)

    def _on_mqtt_published(self, token):
        alert_id, topic = token
        now = time.time()
        self._published_at[alert_id] = now
        # While connected, only what comes later can be lost: older publications need no keeping.
        for old in [i for i, t in list(self._published_at.items()) if t < now - self._republish_window_s()]:
            self._published_at.pop(old, None)
        self.hops.record("hub.mqtt_published", alert_id=alert_id, topic=topic)

    def _on_bus_event(self, event):
        if self.mqtt is None:
            return
        if event.kind in DEVICE_EVENTS:
            device_id = event.detail.get("device_id")
            if device_id in self.config.devices:
                self._publish_device(self.liveness.describe(device_id))
            return
        if event.kind in mqtt_out.INCIDENT_EVENTS and event.alert is not None:
            self.mqtt.publish(mqtt_out.event_topic(self.config.hub_id), mqtt_out.incident_event_payload(
                self.config.hub_id, event.kind, event.alert, event.detail, event.t), qos=1)
            return
        if event.alert is None or event.kind not in ("alert.new", "alert.updated"):
            return
        self._publish_alert(event.alert, event.kind)

    def _publish_device(self, status):
        self.mqtt.publish(mqtt_out.device_status_topic(status["id"]),
                          mqtt_out.device_status_payload(self.config.hub_id, status, time.time()), qos=1, retain=True)

    def _publish_alert(self, alert, kind):
        device = self.config.devices.get(alert["device_id"])
        payload = mqtt_out.alert_payload(self.config.hub_id, alert, device.wearer if device else None)
        topic = mqtt_out.alert_topic(self.config.hub_id) if kind == "alert.new" else \
            mqtt_out.event_topic(self.config.hub_id)
        token = (alert["id"], topic) if kind == "alert.new" else None
        self.mqtt.publish(topic, payload, qos=1, token=token)

    # -- retention -------------------------------------------------------------------------------------------
    async def _retention(self):
        while True:
            purged = self.store.purge_locations(self.config.retention_days * 86400)
            if purged:
                self.hops.record("hub.retention_purge", alerts=purged)
            await asyncio.sleep(RETENTION_CHECK_S)


# -- start-up helpers --------------------------------------------------------------------------------------------
async def _unless_stopped(step, stop):
    """step() in a thread of its own (a daemon: a step that waits, e.g. for a locked database, never holds the
    process back). Its result, or its exception raised here; None when `stop` is set first."""
    loop = asyncio.get_running_loop()
    outcome = loop.create_future()

    def deliver(result, exc):
        if not outcome.done():
            outcome.set_exception(exc) if exc is not None else outcome.set_result(result)

    def work():
        try:
            result, exc = step(), None
        except BaseException as error:  # handed to the loop, raised there
            result, exc = None, error
        try:
            loop.call_soon_threadsafe(deliver, result, exc)
        except RuntimeError:
            pass  # the loop has closed: the hub stopped while this step was still waiting

    threading.Thread(target=work, name="hub-start", daemon=True).start()
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({outcome, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if outcome.done():
        return outcome.result()
    outcome.cancel()
    return None


def database_problem(path, exc):
    """What to fix when [hub] database cannot be opened."""
    path = Path(path)
    where = f"[hub] database {path}"
    reason = str(getattr(exc, "orig", None) or exc)
    if "locked" in reason:
        return (f"{where} is locked by another process (another hub on the same database? an sqlite3 shell left "
                "in a transaction?): stop it, then start the hub again")
    parent = path.parent
    if path.is_dir():
        return f"{where} is a folder, not a database file: name a file in it, e.g. {path / 'deme.db'}"
    if not parent.exists():
        return (f"{where}: the folder {parent} does not exist: create it (mkdir -p {parent}) or change "
                "[hub] database")
    if not parent.is_dir():
        return f"{where}: {parent} is not a folder: change [hub] database"
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.R_OK | os.W_OK)):
        return (f"{where}: this user may not write there ({reason}): give it the folder and the file "
                "(chown) or change [hub] database")
    return f"{where}: cannot open it ({reason}): check the file or change [hub] database"


def console_problem(host, port, exc):
    """What to fix when the console cannot listen on [console] host and port."""
    code = getattr(exc, "errno", None)
    if code == errno.EADDRINUSE:
        return (f"[console] port {port} is already in use on {host} (another hub still running? "
                f"`ss -ltnp 'sport = :{port}'` shows what holds it): stop it or change [console] port")
    if code == errno.EACCES:
        return f"[console] port {port}: a port below 1024 needs root: change [console] port to 1024-65535"
    if code == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        return (f"[console] host {host!r} is not an address of this machine ({exc}): use 127.0.0.1, 0.0.0.0 "
                "(every interface) or one of its own addresses in [console] host")
    return f"[console] host {host!r} port {port}: cannot listen there ({exc}): change [console] host or port"
