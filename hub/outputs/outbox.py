"""The outbox worker: sends what the store says must be sent (acks to wearables, SMS to contacts), with bounded
retries and backoff; after the last attempt it escalates (an event every live view shows) instead of retrying
forever. A message leaves the outbox only when the modem has taken it (+CMGS)."""
import asyncio
import logging
import time

from hub.bus import Event

log = logging.getLogger(__name__)


class OutboxWorker:
    def __init__(self, store, bus, send, timeline, max_attempts=6, retry_s=10.0, max_backoff_s=600.0):
        """send: async callable(recipient, body) -> list of message references; raises on failure."""
        self.store = store
        self.bus = bus
        self.send = send
        self.timeline = timeline
        self.max_attempts = max_attempts
        self.retry_s = retry_s
        self.max_backoff_s = max_backoff_s
        self._wake = None
        self._loop = None

    def wake(self):
        """Thread-safe: something was enqueued, look now."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self):
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        while True:
            await self.process_due()
            next_due = self.store.next_due_time()
            timeout = 5.0 if next_due is None else min(5.0, max(0.0, next_due - time.time()))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass
            self._wake.clear()

    async def process_due(self):
        for message in self.store.due_messages():
            await self._send_one(message)

    async def _send_one(self, message):
        alert_id = message["alert_id"]
        try:
            refs = await self.send(message["recipient"], message["body"])
        except Exception as exc:  # any failure of the link: counted, retried later, escalated at the end
            attempts = message["attempts"] + 1
            give_up = attempts >= self.max_attempts
            delay = min(self.max_backoff_s, self.retry_s * (2 ** (attempts - 1)))
            self.store.mark_attempt_failed(message["id"], f"{type(exc).__name__}: {exc}", time.time() + delay,
                                           give_up)
            detail = {"outbox_id": message["id"], "kind": message["kind"], "to": message["recipient"],
                      "attempt": attempts, "error": str(exc)}
            if alert_id is not None:
                self.store.add_hop(alert_id, "outbox.failed" if give_up else "outbox.retry", detail)
            self.timeline.record("hub.outbox_failed" if give_up else "hub.outbox_retry", alert_id=alert_id,
                                 **detail)
            if give_up:
                log.error("gave up sending %s to %s after %d attempts", message["kind"], message["recipient"],
                          attempts)
                self.bus.publish(Event("outbox.failed", self.store.get_alert(alert_id) if alert_id else None,
                                       detail))
            return
        self.store.mark_sent(message["id"], refs)
        detail = {"outbox_id": message["id"], "kind": message["kind"], "to": message["recipient"], "refs": refs,
                  "body": message["body"][:60]}
        if alert_id is not None:
            self.store.add_hop(alert_id, "sms.sent", detail)
        self.timeline.record("hub.sms_sent", alert_id=alert_id, **detail)
        self.bus.publish(Event("outbox.sent", self.store.get_alert(alert_id) if alert_id else None, detail))
