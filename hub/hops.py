"""One path for the bookkeeping of every hop through the hub: `hops.record("hub.sms_sent", alert_id=7, ...)`.

A hop may go to four sinks: the store's hop table (each alert's history, as the console shows it), the timeline
(JSON lines that `make demo` and the end-to-end tests read), the bus (every live view, MQTT) and the log. Which of
them a hop goes to, under which names and with which fields, is decided in HOP_KINDS below and nowhere else: a
module only says what happened.

Durability: where the store writes a hop itself, in the same transaction as the row it describes (an alert stored,
a duplicate, a position moved onto its alarm, an operator's action), HOP_KINDS names no store hop for it, so the
recorder never writes it a second time, and the hop stays exactly as durable as the change. The recorder writes
the store first and publishes last: a subscriber that reads the store on an event finds the hop already there.

Location (LOCATION_FIELDS) never reaches the log nor the timeline: both are plain files the Pi keeps for as long
as nobody deletes them, beyond the retention limit the store enforces on positions.
"""
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from drivers.alert import STATUS_EVENTS
from hub.bus import Event
from hub.incidents.operator import ACTIONS

log = logging.getLogger(__name__)

LOCATION_FIELDS = frozenset({"lat", "lon", "position", "cell"})

# The store's hop the MQTT output looks for: an alert without it was never published (the broker was away).
MQTT_PUBLISHED_HOP = "mqtt.published"
# What the watchdog tells every live view about one device.
DEVICE_EVENTS = ("device.status", "device.silent", "device.back")


@dataclass(frozen=True)
class HopKind:
    """Where one kind of hop goes. The timeline always names it by its HOP_KINDS key."""

    timeline: bool = True
    store_hop: str | None = None
    """Its name in the store's hop table when this recorder writes it there (only for a hop about an alert)."""
    event: str | None = None
    """The bus event it raises, if any."""
    event_fields: dict | None = None
    """Event detail key -> recorded field; None: every recorded field but alert_id (the event carries the alert)."""
    announce_if: Callable[[dict], bool] | None = None
    """For a hop about an alert: whether that alert is announced on the bus at all."""
    log_level: int | None = None
    log_message: Callable[[dict], str] | None = None
    """The log line, from the recorded fields without location (LOCATION_FIELDS)."""


def _device_event(event, log_level=None, log_message=None):
    return HopKind(event=event, event_fields={"device_id": "device"}, log_level=log_level, log_message=log_message)


def _not_closed_by_the_hub(alert):
    # A heartbeat, or a follow-up moved onto its alarm, was closed as it was stored: never an incident to show.
    return alert["state"] != "resolved"


def _not_a_status_event(alert):
    return alert["event"] not in STATUS_EVENTS


HOP_KINDS = {
    # inbound (hub/inbound/ingest.py); the store writes hub.stored, hub.duplicate and hub.position_update itself
    "hub.sms_received": HopKind(),
    "hub.rejected": HopKind(event="alert.rejected", log_level=logging.WARNING,
                            log_message=lambda f: "rejected message via %s from %s: %s" % (
                                f.get("via"), f.get("sender"), f.get("reason"))),
    "hub.stored": HopKind(event="alert.new", event_fields={"via": "via"}, announce_if=_not_closed_by_the_hub),
    "hub.heartbeat": HopKind(),
    "hub.duplicate": HopKind(event="alert.duplicate", event_fields={"via": "via"}, announce_if=_not_a_status_event),
    "hub.position_update": HopKind(event="alert.updated", event_fields={"position_update": "counter"}),
    # The MAC proves the device; a different number means a changed SIM: for the staff, on the alert.
    "hub.sender_mismatch": HopKind(timeline=False, store_hop="hub.sender_mismatch"),
    # An SMS no other part took (hub/store/inbox.py); its text stays in the store (it may say where someone is).
    "hub.inbox": HopKind(event="inbox.new", event_fields={"inbox_id": "inbox_id", "kind": "kind", "via": "via",
                                                          "sender": "sender"}),
    # An alert-shaped SMS that failed authentication: kept in the inbox and raised to the supervisors.
    "hub.unverified": HopKind(event="inbox.new", event_fields={
        "inbox_id": "inbox_id", "kind": "kind", "via": "via", "sender": "sender", "event": "event",
        "device_id": "claimed_device", "supervisors_texted": "supervisors_texted"},
        log_level=logging.WARNING, log_message=lambda f: "unverified alert via %s from %s (%s): %s" % (
            f.get("via"), f.get("sender"), f.get("reason"),
            "raised to %d supervisor(s)" % f["supervisors_texted"] if f.get("supervisors_texted")
            else "kept in the inbox, supervisors not texted (raised recently, or none on duty)")),
    # The incident groups what belongs together (hub/store/grouping.py writes each hop with its change).
    "incident.cancelled": HopKind(event="alert.updated"),
    "incident.repeat": HopKind(event="alert.updated"),
    "incident.duress": HopKind(event="alert.updated"),
    # incidents (hub/incidents/): the store writes console.<action> in the action's transaction
    **{f"console.{action}": HopKind(timeline=False, event="alert.updated") for action in ACTIONS},
    # the incident's SMS thread and the contacts' notices (hub/incidents/thread.py, notices.py): the store writes
    # each hop with its thread row and outbox row; the text itself stays in the store (it may say where someone is)
    "thread.out": HopKind(event="thread.message"),
    "thread.in": HopKind(event="thread.message"),
    "contact.notice": HopKind(event="thread.message"),
    # responders' replies by SMS (hub/incidents/replies.py): the store writes responder.action (who, from which
    # number, the SMS) and responder.note with what they record; the timeline gets responder.reply, never the SMS
    "responder.action": HopKind(timeline=False, event="alert.updated"),
    "responder.note": HopKind(timeline=False, event="thread.message"),
    "responder.reply": HopKind(),
    # keyword reports from any phone (hub/incidents/reports.py): the store writes both with their thread rows
    "report.answered": HopKind(event="thread.message"),
    "report.followup": HopKind(event="thread.message"),
    # the response plan's ladder (hub/incidents/escalation.py): hub/store/incidents.py writes responder.texted,
    # incident.step and incident.unanswered with the rung's outbox rows; the recorder only tells the others
    "incident.started": HopKind(),
    "responder.texted": HopKind(),
    "incident.step": HopKind(),
    "incident.unanswered": HopKind(
        event="incident.unanswered", log_level=logging.WARNING,
        log_message=lambda f: "incident %s (alert %s) unanswered after its whole ladder (route %s): %s" % (
            f.get("code"), f.get("alert_id"), f.get("route"),
            "supervisors texted: " + ", ".join(f["supervisors"]) if f.get("supervisors") else "no supervisor")),
    "incident.stopped": HopKind(),
    "hub.device_heard": HopKind(timeline=False, event="device.status", event_fields={"device_id": "device"}),
    "hub.device_silent": _device_event(
        "device.silent", logging.WARNING,
        lambda f: "device %s silent: nothing heard since %s" % (f["device"], f.get("last_heard_at") or
                                                                "the hub started")),
    "hub.device_back": _device_event("device.back", logging.INFO, lambda f: "device %s heard again" % f["device"]),
    # outputs (hub/outputs/, hub/service.py)
    "hub.sms_sent": HopKind(store_hop="sms.sent", event="outbox.sent"),
    "hub.outbox_retry": HopKind(store_hop="outbox.retry"),
    "hub.outbox_failed": HopKind(store_hop="outbox.failed", event="outbox.failed", log_level=logging.ERROR,
                                 log_message=lambda f: "gave up sending %s to %s after %d attempts" % (
                                     f["kind"], f["to"], f["attempt"])),
    "hub.mqtt_published": HopKind(store_hop=MQTT_PUBLISHED_HOP),
    # the hub itself and its links (hub/service.py)
    "hub.console": HopKind(),
    "hub.modem_start_failed": HopKind(),
    "hub.modem_ready": HopKind(),
    "hub.modem": HopKind(event="modem.link"),
    # The broker link's state for the live views (the post's panel LED): `up` true or false, as modem.link.
    "hub.mqtt_link": HopKind(event="mqtt.link", event_fields={"up": "up", "detail": "detail"}),
    "hub.retention_purge": HopKind(),
}

def without_location(fields):
    return {name: value for name, value in fields.items() if name not in LOCATION_FIELDS}


class Hops:
    """The recorder every hub module writes its hops through. Thread-safe: the store, the timeline and the bus
    each are (paho's thread, the console's handler threads and the asyncio loop all record)."""

    def __init__(self, store, bus, timeline=None, kinds=HOP_KINDS):
        """timeline: a hub.timeline.Timeline, or None to keep no timeline (the console's sample, some tests)."""
        self.store = store
        self.bus = bus
        self.timeline = timeline
        self.kinds = kinds

    def record(self, hop, device=None, alert=None, t=None, **fields):
        """Record one hop to the sinks HOP_KINDS gives it.

        device: the device id it is about. alert: the alert dict the bus event carries (read from the store by
        fields["alert_id"] when not given). t: when it happened, for the bus event and the store hop (the
        watchdog's injected clock); the timeline always stamps its own wall-clock time, which the demo measures.
        fields: what the timeline records; alert_id says which alert's history the store hop belongs to."""
        kind = self.kinds[hop]  # an unknown hop is a typo: it must fail loudly, never vanish
        alert_id = fields.get("alert_id")
        if alert_id is None and alert is not None:
            alert_id = alert.get("id")
        detail = {name: value for name, value in fields.items() if name != "alert_id"}
        if device is not None:
            fields = {"device": device, **fields}
        if kind.store_hop is not None and alert_id is not None:
            self.store.add_hop(alert_id, kind.store_hop, detail, t=t)
        if kind.timeline and self.timeline is not None:
            self.timeline.record(hop, **without_location(fields))
        if kind.log_level is not None:
            log.log(kind.log_level, "%s", kind.log_message(without_location(fields)))
        if kind.event is None:
            return
        if alert is None and alert_id is not None:
            alert = self.store.get_alert(alert_id)
        if kind.announce_if is not None and alert is not None and not kind.announce_if(alert):
            return
        if kind.event_fields is not None:
            detail = {key: fields.get(name) for key, name in kind.event_fields.items()}
        self.bus.publish(Event(kind.event, alert, detail, t=t if t is not None else time.time()))
