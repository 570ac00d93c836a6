"""The modem's SMS inbox: incoming notices (+CMTI/+CDSI/+CMT/+CDS) to reading (AT+CMGR, AT+CMGL=4), concatenated
parts put together (with a timeout: a part whose siblings never come is handed over alone, never dropped), the
handler called, then the delete (AT+CMGD). Status reports go to their own handler.

The SIM is a landing area, never the store of unfinished messages: a part of a concatenated SMS is put in the
parts store (`parts`: MemoryParts on the wearable, a durable one on the hub) and deleted from the SIM as soon as
the store has it, so one stranger's endless message cannot fill the SIM and have a genuine SOS refused. What one
sender's unfinished messages hold is bounded (`max_sender_parts`, `max_sender_bytes`; `max_parts` for all): beyond
it the oldest is handed over at once, flagged incomplete with the reason ("evicted: ..."), never dropped silently.
A notice the queue cannot hold, or a "memory full" (+CMS ERROR: 322), makes the worker list the SIM at once.

At-least-once: a stored SMS is deleted only after the handler returned, which means "durably stored"; a handler
that raises leaves it on the SIM and it is offered again later (`fetch_stored`). A delete that fails is retried when
a later listing shows the same PDU at the same index, without calling the handler again while this process lives;
after a restart the message is offered again, and the receiver deduplicates (by device id and counter).

drivers.modem owns one inbox and feeds it the URCs; one worker task (`run`) handles the notices one at a time under
the same lock as `fetch_stored`, so nothing is handled twice. Runs on MicroPython and CPython.
"""
import asyncio

from drivers import pdu
from drivers.at import AsyncTimeout, ATError, ATParseError, ATTimeout, CMSError, wait_event
from drivers.compat import ticks_diff, ticks_ms
from drivers.modem_parse import parse_cmgl, parse_cmgr, parse_cmti

MAX_QUEUE = 32  # incoming notices waiting for the worker; beyond it a full AT+CMGL pass catches up at once
CMS_MEMORY_FULL = 322


class MemoryParts:
    """The parts store of the wearable (in memory): parts of unfinished concatenated SMS, by key (sender,
    reference, total). The hub's durable one (hub.store.api.StoredSMSParts) has the same methods; `put` returns
    only once the part is kept (that is what lets the inbox delete it from the SIM)."""

    def __init__(self):
        self._messages = {}  # key -> [first_ms, {seq: pdu_hex}]
        self._order = []  # keys, oldest first (MicroPython's dicts keep no order)

    def put(self, key, seq, pdu_hex):
        """Keep one part; False when that part was already kept (a copy)."""
        entry = self._messages.get(key)
        if entry is None:
            entry = [ticks_ms(), {}]
            self._messages[key] = entry
            self._order.append(key)
        if seq in entry[1]:
            return False
        entry[1][seq] = pdu_hex
        return True

    def get(self, key):
        """{seq: pdu_hex} of one message ({} when none is kept)."""
        entry = self._messages.get(key)
        return dict(entry[1]) if entry else {}

    def drop(self, key):
        if self._messages.pop(key, None) is not None:
            self._order.remove(key)

    def summary(self):
        """[(key, parts, bytes, age_ms)] of every unfinished message, oldest first."""
        now = ticks_ms()
        out = []
        for key in self._order:
            entry = self._messages[key]
            size = 0
            for pdu_hex in entry[1].values():
                size += len(pdu_hex) // 2
            out.append((key, len(entry[1]), size, ticks_diff(now, entry[0])))
        return out

    def usage(self, sender):
        """(parts, bytes) the unfinished messages of one sender hold."""
        parts = size = 0
        for key, count, nbytes, _age in self.summary():
            if key[0] == sender:
                parts += count
                size += nbytes
        return parts, size


class SMSInbox:
    """`channel`: the drivers.at.ATChannel. `log(text)` and `event(kind, detail)`: the modem's (never raise).
    `storage`: where the model keeps incoming SMS (its quirks' storage; the modem updates it on detection).
    `active`: the modem is started, so the worker may talk to it (cleared while it is stopped or switched off).
    `parts`: the parts store (MemoryParts when None); its unfinished messages are picked up again after a restart."""

    max_sender_parts = 32  # parts one sender's unfinished messages may hold
    max_sender_bytes = 32 * 176  # their PDUs' bytes (176: SMSC field and the longest TPDU)
    max_parts = 256  # all senders together: beyond it the sender holding the most loses its oldest message

    def __init__(self, channel, log, event, reassembly_timeout_ms=1800000, stored_retry_ms=30000, parts=None):
        self.channel = channel
        self._log = log
        self._event = event
        self.stored_retry_ms = stored_retry_ms
        self.storage = "SM"
        self.selected_storage = None  # the AT+CPMS <mem1> the modem has now
        self.active = False
        self.sms_handler = None
        self.report_handler = None
        self.queue = []
        self.wake = asyncio.Event()
        self.lock = asyncio.Lock()
        self.reassembly_timeout_ms = reassembly_timeout_ms
        self.parts = parts if parts is not None else MemoryParts()
        # (storage, index, pdu_hex) handed over but not deleted (AT+CMGD failed): deleted when a listing shows
        # the same PDU at the same place, never blindly (the index may hold a new message by then).
        self._deleted_pending = []
        self._retry_stored = False  # list again once stored_retry_ms passed (a handler failed)
        self._list_now = False  # list at once: a notice was not queued, or the storage said it is full
        self._hand_over_failed = None  # when a kept message's handler last failed (retried after stored_retry_ms)
        self._last_stored_try = None

    # --- notices -------------------------------------------------------------------------------------
    def on_urc(self, line, extra):
        """An incoming-message URC from the channel's reader: recorded for the worker. Returns whether the line
        was one; raises ATParseError for a malformed one (the modem logs it)."""
        if line.startswith("+CMTI:") or line.startswith("+CDSI:"):
            storage, index = parse_cmti(line)
            self._enqueue(("stored", storage, index))
        elif line.startswith("+CMT:") or line.startswith("+CDS:"):
            if extra is None:  # the PDU line never came: not acknowledged, so the network sends it again
                self._log("%s without its PDU line" % line)
            else:
                self._enqueue(("cmt" if line[3] == "M" else "cds", extra))
        else:
            return False
        return True

    def _enqueue(self, item):
        if item in self.queue:
            pass  # the same notice twice: one reading does
        elif len(self.queue) >= MAX_QUEUE:
            if not self._list_now:
                self._log("incoming queue full: will list stored messages at once")
            self._list_now = True  # a full listing finds what this notice pointed to; a +CMT is sent again
        else:
            self.queue.append(item)
        self.wake.set()

    def check_stored(self):
        """Have the worker list the SIM soon (after a sleep that may have lost a +CMTI: the message is stored)."""
        self._list_now = True
        self.wake.set()

    # --- the worker ----------------------------------------------------------------------------------
    async def run(self):
        """Handles the notices one at a time, then the housekeeping; forever (cancel it to stop)."""
        while True:
            try:
                await wait_event(self.wake, 1000)
            except AsyncTimeout:
                pass
            self.wake.clear()
            while self.queue:
                item = self.queue.pop(0)
                try:
                    await self._handle_item(item)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # one bad message must never stop reception
                    self._log("incoming %r failed: %r" % (item[0], exc))
                    if isinstance(exc, CMSError) and exc.code == CMS_MEMORY_FULL:
                        self._list_now = True
                    else:
                        self._retry_stored = True
            try:
                await self.housekeeping()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._log("housekeeping failed: %r" % (exc,))

    async def housekeeping(self):
        """Lists the SIM at once when a notice was not queued or the storage is full, again when a handler failed
        (after stored_retry_ms); hands over the concatenations that are complete (a handler failed before, or a
        restart came in between) or whose parts timed out."""
        if not self.active:
            return
        now = ticks_ms()
        if self.sms_handler is not None and (self._list_now or self._retry_stored and (
                self._last_stored_try is None or ticks_diff(now, self._last_stored_try) >= self.stored_retry_ms)):
            await self.fetch_stored()
        if self.sms_handler is None or self._hand_over_failed is not None and ticks_diff(
                now, self._hand_over_failed) < self.stored_retry_ms:
            return
        self._hand_over_failed = None
        for key, count, _size, age_ms in self.parts.summary():
            if count >= key[2] or age_ms >= self.reassembly_timeout_ms:
                async with self.lock:
                    await self._hand_over(key)

    async def _handle_item(self, item):
        kind = item[0]
        async with self.lock:
            if kind == "stored":
                await self._read_stored(item[1], item[2])
            elif kind == "cmt":
                await self._direct(item[1], report=False)
            elif kind == "cds":
                await self._direct(item[1], report=True)

    # --- reading -------------------------------------------------------------------------------------
    async def _use_storage(self, storage):
        if storage != self.selected_storage:
            await self.channel.command('AT+CPMS="%s"' % storage)
            self.selected_storage = storage

    async def _read_stored(self, storage, index):
        await self._use_storage(storage)
        try:
            answer = parse_cmgr(await self.channel.command("AT+CMGR=%d" % index))
        except CMSError as exc:
            if exc.code == 321:  # invalid index: already deleted (handled by a listing)
                return
            if exc.code == CMS_MEMORY_FULL:
                self._list_now = True
            raise
        except ATParseError as exc:
            self._log("AT+CMGR=%d: %s" % (index, exc))
            answer = (None, None)
        if answer is None:
            return
        await self._dispatch_pdu(answer[1], storage, index)

    async def fetch_stored(self):
        """List every stored message (AT+CMGL=4) and dispatch it: messages that arrived while nobody listened,
        and those whose handler failed before. Returns how many were handed to a handler."""
        self._last_stored_try = ticks_ms()
        self._retry_stored = False
        self._list_now = False
        handed = 0
        storage = self.storage
        async with self.lock:
            await self._use_storage(storage)
            lines = await self.channel.command("AT+CMGL=4", timeout_ms=20000)
            entries, problems = parse_cmgl(lines)
            for problem in problems:
                self._log("AT+CMGL: " + problem)
            listed = [(storage, index, pdu_hex) for index, _, pdu_hex in entries]
            self._deleted_pending = [p for p in self._deleted_pending if p in listed or p[0] != storage]
            for index, stat, pdu_hex in entries:
                if stat in (2, 3):
                    continue  # stored outgoing messages are not ours to handle
                if await self._dispatch_pdu(pdu_hex, storage, index) is True:
                    handed += 1
        return handed

    async def _direct(self, pdu_hex, report):
        """+CMT / +CDS routed directly (no storage): hand over, then acknowledge with AT+CNMA (27.005 3.4.4).
        A handler that raises gets no acknowledgement: the network delivers again."""
        if await self._dispatch_pdu(pdu_hex, None, None) is not False:
            try:  # handled, or a part held until the others come
                await self.channel.command("AT+CNMA")
            except ATTimeout:
                raise
            except ATError as exc:
                self._log("AT+CNMA failed: %s" % exc)

    # --- handing over --------------------------------------------------------------------------------
    async def _dispatch_pdu(self, pdu_hex, storage, index):
        """Decode one PDU and hand it over (reassembling parts). True: a handler took it; None: a part kept until
        the others come; False: not handed over (no handler, handler failed, not an incoming message)."""
        location = [(storage, index, pdu_hex)] if index is not None else []
        if location and location[0] in self._deleted_pending:
            await self._delete(location)  # already handed over: only the delete is missing
            return False
        try:
            if pdu_hex is None:
                raise pdu.PDUError("no PDU")
            sms = pdu.decode(pdu_hex)
        except pdu.PDUError as exc:
            self._log("undecodable SMS at %s %s: %s" % (storage, index, exc))
            sms = {"type": "undecodable", "pdu": pdu_hex, "error": str(exc), "text": None, "number": None}
            return await self._deliver(sms, location)
        if sms.get("type") == "status-report":
            return await self._deliver(sms, location, report=True)
        if sms.get("type") == "submit" or sms.get("type") not in ("deliver", None):
            # not an incoming message, yet on the SIM as one: handed over as it is, so it leaves the SIM
            sms = {"type": "undecodable", "pdu": pdu_hex, "error": "not an SMS-DELIVER", "text": None,
                   "number": sms.get("number")}
            return await self._deliver(sms, location)
        concat = sms.get("concat")
        if not concat:
            sms["parts"] = 1
            sms["incomplete"] = False
            sms["missing"] = []
            return await self._deliver(sms, location)
        return await self._take_part(sms, pdu_hex, location)

    # --- concatenated SMS: the parts store -----------------------------------------------------------
    async def _take_part(self, sms, pdu_hex, location):
        """A part goes to the parts store, then leaves the SIM (deleted only once kept: nothing is lost). The
        message is handed over once complete; the sender's oldest unfinished messages beyond its bounds go first.
        """
        concat = sms["concat"]
        key = (sms.get("number"), concat.get("ref"), concat.get("total"))
        seq = concat.get("part")
        if not isinstance(seq, int) or not 1 <= seq <= key[2]:
            sms["concat"] = None  # a part number the header's total does not allow: handed over alone
            sms["parts"] = 1
            sms["incomplete"] = True
            sms["missing"] = []
            return await self._deliver(sms, location)
        self.parts.put(key, seq, pdu_hex)  # raises if it cannot be kept: the part then stays on the SIM
        await self._delete(location)
        await self._bound(key)
        kept = self.parts.get(key)
        if len(kept) >= key[2]:
            return await self._hand_over(key)
        return None

    async def _bound(self, newest):
        """Hand over (evicted, flagged) the oldest unfinished messages of a sender beyond its bounds, and of the
        sender holding the most when all together are beyond max_parts."""
        rows = self.parts.summary()  # oldest first
        sender = newest[0]
        parts = size = total = 0
        for key, count, nbytes, _age in rows:
            total += count
            if key[0] == sender:
                parts += count
                size += nbytes
        for key, count, nbytes, _age in rows:
            if parts <= self.max_sender_parts and size <= self.max_sender_bytes:
                break
            if key[0] == sender:
                await self._hand_over(key, "evicted: sender %s over %d parts or %d bytes of unfinished messages"
                                      % (sender, self.max_sender_parts, self.max_sender_bytes))
                parts -= count
                size -= nbytes
                total -= count
        while total > self.max_parts:
            held = {}
            for key, count, _nbytes, _age in rows:
                held[key[0]] = held.get(key[0], 0) + count
            biggest = None
            for who in held:
                if biggest is None or held[who] > held[biggest]:
                    biggest = who
            for key, count, _nbytes, _age in rows:
                if key[0] == biggest:
                    await self._hand_over(key, "evicted: %d parts of unfinished messages are held, %s holds most"
                                          % (total, biggest))
                    total -= count
                    rows = [row for row in rows if row[0] != key]
                    break

    async def _hand_over(self, key, reason=None):
        """Join the kept parts of one message and hand it over (incomplete when parts are missing); dropped from
        the parts store once the handler took it."""
        kept = self.parts.get(key)
        decoded = {}
        for seq in kept:
            try:
                decoded[seq] = pdu.decode(kept[seq])
            except pdu.PDUError as exc:
                self._log("kept part %d of %r undecodable: %s" % (seq, key, exc))
        if not decoded:
            self.parts.drop(key)
            return False
        message = pdu.Reassembler._join(decoded, key[2])
        if message["incomplete"] and reason is None:
            reason = "incomplete: parts %d of %d after the reassembly timeout" % (len(decoded), key[2])
        if reason is not None:
            message["reason"] = reason
            self._log("%s (%r)" % (reason, key))
        if await self._deliver(message, []) is True:
            self.parts.drop(key)
            return True
        self._hand_over_failed = ticks_ms()
        return False

    async def _deliver(self, message, location, report=False):
        handler = self.report_handler if report else self.sms_handler
        message["index"] = location[0][1] if location else None
        message["storage"] = location[0][0] if location else None
        message["indexes"] = [place[1] for place in location]
        if handler is None:
            if not report:
                self._log("no SMS handler: message left on the SIM")
                self._retry_stored = True  # listed again once a handler is set
                return False
            return await self._delete(location)  # nobody wants reports: do not let them fill the SIM
        try:
            await handler(message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._retry_stored = True
            self._last_stored_try = ticks_ms()  # the next listing waits stored_retry_ms
            self._event("sms handler failed", repr(exc))
            return False
        await self._delete(location)
        return True

    async def _delete(self, location):
        ok = True
        for place in location:
            storage, index = place[0], place[1]
            try:
                await self._use_storage(storage)
                await self.channel.command("AT+CMGD=%d" % index)
                if place in self._deleted_pending:
                    self._deleted_pending.remove(place)
            except ATError as exc:
                ok = False
                self._log("AT+CMGD=%d failed: %s" % (index, exc))
                if isinstance(exc, CMSError) and exc.code == CMS_MEMORY_FULL:
                    self._list_now = True
                if place not in self._deleted_pending:
                    self._deleted_pending.append(place)
                    if len(self._deleted_pending) > MAX_QUEUE:
                        self._deleted_pending.pop(0)  # forgetting one means a duplicate, never a loss
                self._retry_stored = True
        return ok
