"""The hub: wires the store, the modem, MQTT, the outbox and the console, and runs them until stopped.
Constructors store; run() acts."""
import asyncio
import json
import logging
import time

from drivers.modem import Modem
from hub.bus import Bus
from hub.console import ConsoleServer
from hub.hops import DEVICE_EVENTS, MQTT_PUBLISHED_HOP, Hops
from hub.inbound.ingest import Ingest
from hub.incidents.liveness import Liveness
from hub.incidents.operator import OperatorActions
from hub.outputs import mqtt_out
from hub.outputs.outbox import OutboxWorker
from hub.platform.modem_power import modem_power_from_config
from hub.platform.mqtt_link import MQTTLink
from hub.platform.serialport import SerialUART
from hub.store import Store
from hub.timeline import Timeline

log = logging.getLogger(__name__)

RETENTION_CHECK_S = 3600


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
        self.ready = asyncio.Event()
        self._uart = None
        self._power = None
        self.started_at = time.time()

    # -- wiring ----------------------------------------------------------------------------------------------
    async def run(self, stop):
        """Run until the asyncio.Event `stop` is set."""
        config = self.config
        self.store.open()
        self.outbox = OutboxWorker(self.store, self.hops, self._send_sms, max_attempts=config.outbox_max_attempts,
                                   retry_s=config.outbox_retry_s)
        # Devices never heard are measured from the first start of a hub that knows them (kept in the store).
        self.liveness = Liveness(self.store, self.hops, config, started_at=self.started_at).start()
        self.ingest = Ingest(self.store, self.hops, config, wake_outbox=self.outbox.wake,
                             on_heard=self.liveness.heard)
        self.actions = OperatorActions(self.store, self.hops, config, wake_outbox=self.outbox.wake)
        self.bus.subscribe(self._on_bus_event)
        tasks = [asyncio.create_task(self.outbox.run(), name="outbox"),
                 asyncio.create_task(self._retention(), name="retention"),
                 asyncio.create_task(self.liveness.run(), name="liveness")]
        try:
            self.console = ConsoleServer(self.store, self.bus, self.actions, config, host=config.console_host,
                                         port=config.console_port, liveness=self.liveness)
            self.console.start()
            self.hops.record("hub.console", url=self.console.url)
            if config.mqtt_host:
                self._start_mqtt()
            if config.modem_port:
                tasks.append(asyncio.create_task(self._run_modem(), name="modem"))
            self.ready.set()
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
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
            self.store.close()

    # -- SMS -------------------------------------------------------------------------------------------------
    async def _run_modem(self):
        config = self.config
        self._uart = SerialUART(config.modem_port, config.modem_baudrate).open()
        self._power = modem_power_from_config(config.modem_power, config.modem_model)
        if self._power is not None:
            self._power.start()
        self.modem = Modem(self._uart, power=self._power, model=config.modem_model, on_event=self._on_modem_event)
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
        self.hops.record("hub.modem", kind=kind, detail=str(detail) if detail is not None else None)

    async def _on_sms(self, sms):
        """Returning = durably handled: only then does the driver delete the SMS from the SIM."""
        text = sms.get("text")
        sender = sms.get("number")
        self.hops.record("hub.sms_received", sender=sender, chars=len(text or ""))
        if sms.get("incomplete"):
            text = text or ""
        self.ingest.handle_text(text if isinstance(text, str) else "", "sms", sender=sender)

    async def _send_sms(self, recipient, body):
        if self.modem is None or not self.modem.link_up:
            raise RuntimeError("modem not ready")
        return await self.modem.send_sms(recipient, body)

    # -- MQTT ------------------------------------------------------------------------------------------------
    def _start_mqtt(self):
        config = self.config
        self.mqtt = MQTTLink(
            config.mqtt_host, config.mqtt_port, client_id=f"deme-hub-{config.hub_id}",
            username=config.mqtt_username, password=config.mqtt_password,
            subscriptions=[mqtt_out.device_alert_topic("+")],
            on_message=self._on_mqtt_message, on_published=self._on_mqtt_published, on_link=self._on_mqtt_link,
            will=(mqtt_out.status_topic(config.hub_id), json.dumps({"online": False})))
        self.mqtt.start()

    def _on_mqtt_link(self, up, detail):
        self.hops.record("hub.mqtt_link", up=up, detail=detail)
        if up:
            self.mqtt.publish(mqtt_out.status_topic(self.config.hub_id),
                              json.dumps({"online": True, "t": time.time()}), retain=True)
            # What was stored while the broker was away (or before a restart) is published now: at-least-once,
            # subscribers deduplicate by alert id.
            for alert in self.store.alerts_missing_hop(MQTT_PUBLISHED_HOP):
                self._publish_alert(alert, "alert.new")
            # Retained device statuses: refreshed on every connection (the broker may have lost them).
            for status in self.liveness.describe_all():
                self._publish_device(status)

    def _on_mqtt_message(self, topic, payload):
        # paho's thread: the store is thread-safe; raising leaves the message unacknowledged for redelivery.
        parts = topic.split("/")
        device_id = parts[3] if len(parts) == 5 else None
        try:
            text = mqtt_out.parse_device_payload(payload)
        except ValueError as exc:
            self.store.record_rejected("mqtt", payload[:500].decode("utf-8", "replace"), str(exc), sender=topic)
            return
        if device_id and f";i={device_id};" not in text:
            self.store.record_rejected("mqtt", text, f"topic device {device_id} differs from the alert's",
                                       sender=topic)
            return
        self.ingest.handle_text(text, "mqtt", sender=device_id)

    def _on_mqtt_published(self, token):
        alert_id, topic = token
        self.hops.record("hub.mqtt_published", alert_id=alert_id, topic=topic)

    def _on_bus_event(self, event):
        if self.mqtt is None:
            return
        if event.kind in DEVICE_EVENTS:
            device_id = event.detail.get("device_id")
            if device_id in self.config.devices:
                self._publish_device(self.liveness.describe(device_id))
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
