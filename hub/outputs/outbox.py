"""The outbox worker: sends what the store says must be sent (acks to wearables, SMS to contacts), with bounded
retries and backoff; after the last attempt it escalates (an event every live view shows) instead of retrying
forever. A message leaves the outbox only when the modem has taken it (+CMGS)."""
import asyncio
import time


class OutboxWorker:
    def __init__(self, store, hops, send, max_attempts=6, retry_s=10.0, max_backoff_s=600.0):
        """hops: the hub's hub.hops.Hops. send: async callable(recipient, body) -> list of message references;
        raises on failure."""
        self.store = store
        self.hops = hops
        self.send = send
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
                # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation that comes as the
                # wake-up does, and the hub's stop would then wait for this loop for ever.
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()

    async def process_due(self):
        # One at a time, asking the store again after each send: a call for help enqueued while others are being
        # sent goes next (due_messages orders by priority), not after the batch already read. Each message is tried
        # at most once per pass, as before: one that failed and is due again at once waits for the next pass.
        tried = set()
        while True:
            due = self.store.due_messages(limit=1)
            if not due or due[0]["id"] in tried:
                return
            tried.add(due[0]["id"])
            await self._send_one(due[0])

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
            # Escalated after the last attempt: every live view shows it, the log says it.
            self.hops.record("hub.outbox_failed" if give_up else "hub.outbox_retry", alert_id=alert_id,
                             outbox_id=message["id"], kind=message["kind"], to=message["recipient"],
                             attempt=attempts, error=str(exc))
            return
        self.store.mark_sent(message["id"], refs)
        self.hops.record("hub.sms_sent", alert_id=alert_id, outbox_id=message["id"], kind=message["kind"],
                         to=message["recipient"], refs=refs, body=message["body"][:60])
