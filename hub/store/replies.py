"""The store's companion for what responders do by SMS (hub/incidents/replies.py): the audit row of each reply that
named an incident, with how the incident ended when the reply closed it.

The operator action itself (acknowledge, dispatch, resolve) is committed by Store.transition with its ack SMS to
the wearable; this row adds who did it from which number and the SMS that carried it.
"""
import time

from sqlalchemy import update

from hub.store.api import insert_hop_row
from hub.store.schema import alerts

RESPONDER_ACTION_HOP = "responder.action"
OUTCOMES = ("real", "false_alarm", "test")


def record_responder_action(store, alert_id, detail, outcome=None, t=None):
    """Write the `responder.action` hop of `alert_id` (detail: responder, number, sms, command, result...) and, when
    `outcome` is given (one of OUTCOMES), alerts.outcome, in one transaction: the outcome is never stored without
    the reply that gave it."""
    if outcome is not None and outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    now = t if t is not None else time.time()
    with store.transaction() as db:
        if outcome is not None:
            db.execute(update(alerts).where(alerts.c.id == alert_id).values(outcome=outcome))
        insert_hop_row(db, alert_id, now, RESPONDER_ACTION_HOP, dict(detail, outcome=outcome))
