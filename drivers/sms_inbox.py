"""The modem's SMS inbox: incoming notices (+CMTI/+CDSI/+CMT/+CDS) to reading (AT+CMGR, AT+CMGL=4), concatenated
parts put together (with a timeout: a part whose siblings never come is handed over alone, never dropped), the
handler called, then the delete (AT+CMGD). Status reports go to their own handler.

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

MAX_QUEUE = 32  # incoming notices waiting for the worker; beyond it a full AT+CMGL pass catches up


class SMSInbox:
    """`channel`: the drivers.at.ATChannel. `log(text)` and `event(kind, detail)`: the modem's (never raise).
    `storage`: where the model keeps incoming SMS (its quirks' storage; the modem updates it on detection).
    `active`: the modem is started, so the worker may talk to it (cleared while it is stopped or switched off)."""

    def __init__(self, channel, log, event, reassembly_timeout_ms=1800000, stored_retry_ms=30000):
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
        self._reassembler = pdu.Reassembler(timeout_ms=reassembly_timeout_ms)
        self._part_locations = {}  # (number, ref, total) -> [(storage, index)] of the parts seen
        # (storage, index, pdu_hex) handed over but not deleted (AT+CMGD failed): deleted when a listing shows
        # the same PDU at the same place, never blindly (the index may hold a new message by then).
        self._deleted_pending = []
        self._retry_stored = False
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
        if len(self.queue) >= MAX_QUEUE:
            self._retry_stored = True  # a full listing will find what this notice pointed to
            self._log("incoming queue full: will list stored messages")
        else:
            self.queue.append(item)
        self.wake.set()

    def check_stored(self):
        """Have the worker list the SIM soon (after a sleep that may have lost a +CMTI: the message is stored)."""
        self._retry_stored = True
        self._last_stored_try = None
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
                    self._retry_stored = True
            try:
                await self.housekeeping()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._log("housekeeping failed: %r" % (exc,))

    async def housekeeping(self):
        """Hands over the concatenations whose parts timed out, and lists the SIM again when a handler failed."""
        if not self.active:
            return
        now = ticks_ms()
        for message in self._reassembler.expire(now):
            async with self.lock:
                await self._deliver(message, self._part_locations.pop(message.get("_key"), []))
        if self._retry_stored and self.sms_handler is not None and (self._last_stored_try is None
                                   or ticks_diff(now, self._last_stored_try) >= self.stored_retry_ms):
            await self.fetch_stored()

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
        if sms.get("type") == "submit":
            return False
        concat = sms.get("concat")
        if concat:
            key = (sms.get("number"), concat.get("ref"), concat.get("total"))
            sms["_key"] = key
            places = self._part_locations.get(key)
            if places is None:
                places = []
                self._part_locations[key] = places
            for place in location:
                if place not in places:
                    places.append(place)
        message = self._reassembler.add(sms, ticks_ms())
        if message is None:
            return None  # a part waiting for the others (or a duplicate part): stays on the SIM for now
        if concat:
            location = self._part_locations.pop(key, location)
        return await self._deliver(message, location)

    async def _deliver(self, message, location, report=False):
        handler = self.report_handler if report else self.sms_handler
        message.pop("_key", None)
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
                if place not in self._deleted_pending:
                    self._deleted_pending.append(place)
                    if len(self._deleted_pending) > MAX_QUEUE:
                        self._deleted_pending.pop(0)  # forgetting one means a duplicate, never a loss
                self._retry_stored = True
        return ok
