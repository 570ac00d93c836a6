"""The incident groups what belongs together: a wearer's cancel closes the alarm it cancels, a repeated press joins
the incident already open, a duress is linked to the alarm it answered. Each decision is read and written in one
transaction with its hop (the store's hop table), so it is exactly as durable as the change it describes.

POS follow-ups move onto their alarm in Store.apply_followup.

A duress (DUR) is never closed by a cancel nor merged into another alarm: whoever forced the wearer's hand may
hold the wearable, so nothing it sends afterwards may end a duress.
"""
import json
import time

from sqlalchemy import select, update

from drivers.alert import URGENT_EVENTS
from hub.store.api import insert_hop_row
from hub.store.schema import alerts, hops

DURESS_EVENT = "DUR"
CANCEL_EVENT = "CAN"
# The alarms a wearer raises by a press or a fall, and may cancel.
PRESS_EVENTS = tuple(event for event in URGENT_EVENTS if event != DURESS_EVENT)
# The hop the escalation engine writes for each responder it texted (detail: responder, the name; to, the phone).
RESPONDER_TEXTED_HOP = "responder.texted"


def cancel_open_alarm(store, cancel_id, t=None):
    """A CAN closes the device's latest open press alarm raised before it (lower counter) as cancelled by the
    wearer, and is itself closed as it is stored (it is not an incident). Returns the cancelled alarm, or None when
    there is none open (the CAN then stays as it is, visible)."""
    now = t if t is not None else time.time()
    return _read_after(store, _cancel_open_alarm, cancel_id, now)


def _cancel_open_alarm(store, cancel_id, now):
    with store.transaction() as db:
        cancel = _row(db, cancel_id)
        if cancel is None or cancel["event"] != CANCEL_EVENT or cancel["state"] == "resolved":
            return None
        alarm = db.execute(
            select(alerts).where(alerts.c.device_id == cancel["device_id"], alerts.c.state != "resolved",
                                 alerts.c.event.in_(PRESS_EVENTS), alerts.c.counter < cancel["counter"])
            .order_by(alerts.c.counter.desc()).limit(1)).mappings().fetchone()
        if alarm is None:
            return None
        return _cancel(db, alarm, cancel, now)


def cancel_if_already_cancelled(store, alarm_id, t=None):
    """A press alarm whose cancel reached the hub first (SMS are not delivered in order): the device's open CAN
    with the next higher counter cancels it at once. Returns the cancelled alarm, or None."""
    return _read_after(store, _cancel_if_already_cancelled, alarm_id, t if t is not None else time.time())


def _cancel_if_already_cancelled(store, alarm_id, now):
    with store.transaction() as db:
        alarm = _row(db, alarm_id)
        if alarm is None or alarm["event"] not in PRESS_EVENTS or alarm["state"] == "resolved":
            return None
        cancel = db.execute(
            select(alerts).where(alerts.c.device_id == alarm["device_id"], alerts.c.state != "resolved",
                                 alerts.c.event == CANCEL_EVENT, alerts.c.counter > alarm["counter"])
            .order_by(alerts.c.counter).limit(1)).mappings().fetchone()
        if cancel is None:
            return None
        return _cancel(db, alarm, cancel, now)


def attach_repeat(store, alarm_id, t=None):
    """A press alarm from a device that already has an open urgent incident (stored before it) joins that incident:
    a hop incident.repeat on it, the newer fix moved onto it, and the repeat closed as it is stored, so the ladder
    already running is not started again. Returns the incident it joined, or None."""
    return _read_after(store, _attach_repeat, alarm_id, t if t is not None else time.time())


def _attach_repeat(store, alarm_id, now):
    with store.transaction() as db:
        repeat = _row(db, alarm_id)
        if repeat is None or repeat["event"] not in PRESS_EVENTS or repeat["state"] == "resolved":
            return None
        incident = db.execute(
            select(alerts).where(alerts.c.device_id == repeat["device_id"], alerts.c.state != "resolved",
                                 alerts.c.event.in_(URGENT_EVENTS), alerts.c.id < alarm_id)
            .order_by(alerts.c.counter.desc()).limit(1)).mappings().fetchone()
        if incident is None:
            return None
        if repeat["lat"] is not None and repeat["counter"] > incident["counter"]:
            # The wearer may have moved since the first press: the newer fix is where to go.
            db.execute(update(alerts).where(alerts.c.id == incident["id"]).values(
                lat=repeat["lat"], lon=repeat["lon"], acc_m=repeat["acc_m"], fix_age_s=repeat["fix_age_s"]))
        insert_hop_row(db, incident["id"], now, "incident.repeat",
                    {"counter": repeat["counter"], "repeat_alert_id": repeat["id"], "event": repeat["event"],
                     "category": repeat["category"]})
        db.execute(update(alerts).where(alerts.c.id == repeat["id"]).values(
            state="resolved", resolved_at=now, resolved_by="hub",
            note="repeated press, part of alert %d" % incident["id"]))
        return incident["id"]


def link_duress(store, duress_id, t=None):
    """A duress answers the device's open press alarm (the wearer was made to cancel it): the duress stays an
    incident of its own (its own route) and the alarm gets a hop incident.duress naming it, so that whoever looks
    at the alarm sees that it continues as a duress. Neither is closed. Returns the linked alarm, or None."""
    return _read_after(store, _link_duress, duress_id, t if t is not None else time.time())


def _link_duress(store, duress_id, now):
    with store.transaction() as db:
        duress = _row(db, duress_id)
        if duress is None or duress["event"] != DURESS_EVENT:
            return None
        alarm = db.execute(
            select(alerts).where(alerts.c.device_id == duress["device_id"], alerts.c.state != "resolved",
                                 alerts.c.event.in_(PRESS_EVENTS), alerts.c.counter < duress["counter"])
            .order_by(alerts.c.counter.desc()).limit(1)).mappings().fetchone()
        if alarm is None:
            return None
        insert_hop_row(db, alarm["id"], now, "incident.duress",
                    {"counter": duress["counter"], "duress_alert_id": duress["id"]})
        return alarm["id"]


def texted_responders(store, alert_id):
    """The responders the escalation texted about this alert ([{name, phone}], each phone once, first texted
    first), from its responder.texted hops."""
    with store.reading() as db:
        rows = db.execute(select(hops.c.detail).where(hops.c.alert_id == alert_id,
                                                      hops.c.hop == RESPONDER_TEXTED_HOP)
                          .order_by(hops.c.t, hops.c.id)).fetchall()
    responders, seen = [], set()
    for row in rows:
        detail = json.loads(row.detail or "{}")
        phone = detail.get("to")
        if phone and phone not in seen:
            seen.add(phone)
            responders.append({"name": detail.get("responder"), "phone": phone})
    return responders


def _read_after(store, change, alert_id, now):
    """The alert `change` (one transaction) returns the id of, as committed, or None."""
    changed_id = change(store, alert_id, now)
    return store.get_alert(changed_id) if changed_id is not None else None


def _row(db, alert_id):
    return db.execute(select(alerts).where(alerts.c.id == alert_id)).mappings().fetchone()


def _cancel(db, alarm, cancel, now):
    db.execute(update(alerts).where(alerts.c.id == alarm["id"]).values(
        state="resolved", resolved_at=now, resolved_by="wearer", outcome="cancelled",
        note="cancelled by the wearer"))
    insert_hop_row(db, alarm["id"], now, "incident.cancelled",
                {"counter": cancel["counter"], "cancel_alert_id": cancel["id"]})
    db.execute(update(alerts).where(alerts.c.id == cancel["id"]).values(
        state="resolved", resolved_at=now, resolved_by="hub", note="cancel of alert %d" % alarm["id"]))
    return alarm["id"]
