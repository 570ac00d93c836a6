"""What a police operator does to an alert, and what follows from it: the state change, the authenticated ack SMS
to the wearable (in the same transaction) and the event for every live view."""
from drivers.alert import encode_ack
from hub.store import TransitionError

# The status each action sends to the wearable: ACK makes it vibrate "help has seen you".
ACTION_STATUS = {"acknowledge": "ACK", "dispatch": "DSP", "resolve": "RES"}
ACTIONS = tuple(ACTION_STATUS)


class ActionError(ValueError):
    """The action cannot be applied (unknown alert, wrong state, missing operator): shown to the operator."""


class OperatorActions:
    def __init__(self, store, hops, config, wake_outbox=None):
        """hops: the hub's hub.hops.Hops, which tells every live view."""
        self.store = store
        self.hops = hops
        self.config = config
        self.wake_outbox = wake_outbox or (lambda: None)

    def apply(self, alert_id, action, operator, note=None, unit=None):
        if action not in ACTION_STATUS:
            raise ActionError(f"unknown action {action!r}: use {', '.join(ACTIONS[:-1])} or {ACTIONS[-1]}")
        current = self.store.get_alert(alert_id)
        if current is None:
            raise ActionError(f"no alert {alert_id}")
        device = self.config.devices.get(current["device_id"])
        ack = None
        if device is not None:
            status = ACTION_STATUS[action]

            def build_body(hub_counter):
                return encode_ack(device.key, device.id, hub_counter, current["counter"], status)

            ack = (device.phone, build_body)
        try:
            # The store commits the console.<action> hop with the state change and the ack.
            alert = self.store.transition(alert_id, action, operator.strip() if operator else operator,
                                          note=note, unit=unit, ack=ack)
        except TransitionError as exc:
            raise ActionError(str(exc)) from None
        self.hops.record(f"console.{action}", alert=alert, action=action, operator=operator)
        self.wake_outbox()
        return alert
