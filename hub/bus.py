"""A small in-process event bus: dataclass events, subscribers that must not block the publisher."""
import logging
import threading
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """kind: "alert.new", "alert.updated", "alert.duplicate", "alert.rejected", "outbox.sent", "outbox.failed",
    "modem.link", "device.status", "device.silent", "device.back" (which hop raises which: hub/hops.py HOP_KINDS);
    alert: the alert dict when the event is about one; detail: anything else."""

    kind: str
    alert: dict | None = None
    detail: dict = field(default_factory=dict)
    t: float = field(default_factory=time.time)


class Bus:
    def __init__(self):
        self._subscribers = []
        self._lock = threading.Lock()

    def subscribe(self, callback):
        """callback(event) runs in the publisher's thread: it must only hand the event over (queue, call_soon).
        Returns a function that unsubscribes."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe():
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, event):
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:  # one broken subscriber must not stop the others, nor the publisher
                log.exception("bus subscriber failed on %s", event.kind)
