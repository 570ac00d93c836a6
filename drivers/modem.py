"""Cellular modem API over drivers.at: start, send SMS (PDU mode only), network state, supervision with power cycle,
and the link's `up`/`down` events. Incoming SMS go through drivers.sms_inbox; reply parsers are drivers.modem_parse.

Runs on MicroPython (the wearable) and CPython (the hub). Never text mode: in text mode a Ctrl-Z inside a message
ends it and what follows is read as commands; in PDU mode only hex digits follow the prompt.

Use (firmware or hub):
    modem = Modem(uart, power=pwrkey, model=None, log=print, on_event=on_event)
    modem.set_sms_handler(store_sms)          # async def store_sms(sms): commit, then return
    modem.set_report_handler(on_report)       # async def on_report(report): report["reference"], ["status"]
    await modem.start(pin=None)               # raises ATTimeout, SIMError, ATError
    refs = await modem.send_sms("+22376123456", text, status_report=True)
    asyncio.create_task(modem.supervise(10000))
    await modem.up.wait()                     # the link is up (modem.down: it is down)
"""
import asyncio

from drivers import modems, pdu
from drivers.at import ATChannel, ATError, ATParseError, ATTimeout, CMEError, CMSError, unquote
from drivers.compat import asleep_ms
from drivers.modem_parse import (
    ACT_NAME,
    REG_STAT,
    is_hex,
    parse_cbc,
    parse_cmgl,
    parse_cmgr,
    parse_cmgs,
    parse_cmti,
    parse_cops,
    parse_cpin,
    parse_csq,
    parse_registration,
    registered,
    valid_number,
)
from drivers.sms_inbox import MAX_QUEUE, SMSInbox

# The parsers stay importable from here: drivers.modem is where callers and tests have always found them.
__all__ = ["Modem", "SIMError", "MAX_QUEUE", "ACT_NAME", "REG_STAT", "is_hex", "parse_cbc", "parse_cmgl", "parse_cmgr",
           "parse_cmgs", "parse_cmti", "parse_cops", "parse_cpin", "parse_csq", "parse_registration", "registered",
           "valid_number"]


class SIMError(ATError):
    """The SIM is missing, locked (PIN/PUK) or failed; `state` is the +CPIN state or the CME text."""

    def __init__(self, state):
        super().__init__("SIM: %s" % state)
        self.state = state


class Modem:
    """`uart`: UART-like (any/read/write). `power`: optional object with `async cycle()` (PWRKEY/reset).
    `model`: any name of drivers/modems/models.py ("SIM800L", "sim800", "A7670E", "ec25"...); None: detected
    from AT+CGMI/CGMM, as is a name the table does not know (logged: a mistyped name must not keep a wearable from
    calling for help).
    `log(text)`: optional. `on_event(kind, detail)`: optional plain function (must not block).
    `retry_delays_ms`: waits between send attempts on transient errors (the count bounds the retries).
    `auto_fetch`: after every start(), list the SIM (AT+CMGL=4) once a handler is set: messages that arrived
    while the service was down or the modem was being power-cycled.
    `sms_parts`: where parts of concatenated SMS wait for their siblings once off the SIM (drivers.sms_inbox:
    MemoryParts by default; the hub passes a durable one)."""

    def __init__(self, uart, power=None, model=None, log=None, on_event=None, poll_ms=5,
                 retry_delays_ms=(2000, 5000, 15000), reassembly_timeout_ms=1800000, send_timeout_ms=60000,
                 sync_tries=10, sync_timeout_ms=1000, check_timeout_ms=2000, max_failures=3, max_recoveries=3,
                 stored_retry_ms=30000, auto_fetch=True, sms_parts=None):
        self.uart = uart
        self.power = power
        self.log = log
        self.on_event = on_event
        self.poll_ms = poll_ms
        self.retry_delays_ms = retry_delays_ms
        self.send_timeout_ms = send_timeout_ms
        self.sync_tries = sync_tries
        self.sync_timeout_ms = sync_timeout_ms
        self.check_timeout_ms = check_timeout_ms
        self.max_failures = max_failures
        self.max_recoveries = max_recoveries
        self.auto_fetch = auto_fetch
        self.channel = ATChannel(uart, urc_handler=self._on_urc, log=log, poll_ms=poll_ms)
        self.inbox = SMSInbox(self.channel, self._log, self._event, reassembly_timeout_ms=reassembly_timeout_ms,
                              stored_retry_ms=stored_retry_ms, parts=sms_parts)
        self._use_quirks(self._named_quirks(model))
        self.info = {}
        self.sim_state = None
        # The link's state as two events, so callers wait instead of polling; only _link_up()/link_down() touch them.
        self.up = asyncio.Event()
        self.down = asyncio.Event()
        self.down.set()
        self.reg = None  # the latest registration state seen (any of CREG/CGREG/CEREG)
        self._regs = {}  # via -> registration dict: registered means registered on any of them
        self._needs_init = False
        self._failures = 0
        self._escalations = 0
        self._pin = None
        self._worker_task = None
        self.parked = False  # switched off on purpose (power_down): supervision leaves it alone until start()

    # --- small helpers -------------------------------------------------------------------------------
    @property
    def link_up(self):
        """Whether the link is up (for status reports; to wait for it, `await modem.up.wait()`)."""
        return self.up.is_set()

    @property
    def _started(self):
        """start() finished and neither stop() nor a power-down or power cycle came since: the boot URCs that
        follow would be an unexpected restart, and the inbox's worker may talk to the modem."""
        return self.inbox.active

    @_started.setter
    def _started(self, value):
        self.inbox.active = value

    def _named_quirks(self, model):
        self.model = model
        if not model:
            return modems.Generic()
        try:
            return modems.quirks_for(model)
        except modems.UnknownModemModel as exc:
            self._log("%s: the model will be detected" % exc)
            self.model = None
            return modems.Generic()

    def _use_quirks(self, quirks):
        self.quirks = quirks
        self.inbox.storage = quirks.storage

    def _log(self, text):
        if self.log is not None:
            try:
                self.log(text)
            except Exception:
                pass

    def _event(self, kind, detail=None):
        self._log("modem event: %s %s" % (kind, detail if detail is not None else ""))
        if self.on_event is not None:
            try:
                self.on_event(kind, detail)
            except Exception as exc:
                self._log("event handler failed: %r" % (exc,))

    def set_sms_handler(self, handler):
        """`async handler(sms)`: return only once the SMS is durably stored; raise to keep it on the SIM."""
        self.inbox.sms_handler = handler

    def set_report_handler(self, handler):
        """`async handler(report)`: SMS-STATUS-REPORT dicts from drivers.pdu.decode (reference, status...)."""
        self.inbox.report_handler = handler

    def check_stored(self):
        """Have the inbox list the SIM soon (after a sleep that may have lost a +CMTI: the message is stored)."""
        self.inbox.check_stored()

    async def fetch_stored(self):
        """List every stored message (AT+CMGL=4) and hand it over; returns how many a handler took."""
        return await self.inbox.fetch_stored()

    def set_event_handler(self, on_event):
        self.on_event = on_event

    async def command(self, cmd, timeout_ms=5000):
        return await self.channel.command(cmd, timeout_ms=timeout_ms)

    async def _try(self, cmd, timeout_ms=5000):
        """A command whose failure is not fatal: its lines, or None."""
        try:
            return await self.channel.command(cmd, timeout_ms=timeout_ms)
        except ATTimeout:
            raise
        except ATError as exc:
            self._log("%s failed: %s" % (cmd, exc))
            return None

    async def _retrying(self, cmd, tries=10, delay_ms=500, timeout_ms=5000):
        """A command the modem refuses while it boots (SIM busy, SMS not ready): bounded retries."""
        for attempt in range(tries):
            try:
                return await self.channel.command(cmd, timeout_ms=timeout_ms)
            except (CMEError, CMSError) as exc:
                # CMS 302 "operation not allowed" is what SIM800 answers to SMS commands before "SMS Ready".
                busy = exc.transient or (isinstance(exc, CMSError) and exc.code == 302)
                if not busy or attempt == tries - 1:
                    raise
            except ATError:
                if attempt == tries - 1:
                    raise
            await asleep_ms(delay_ms)

    # --- lifecycle -----------------------------------------------------------------------------------
    async def start(self, pin=None):
        """Bring the modem to a known state: AT sync, echo off, numeric errors, model, SIM, PDU mode, storage,
        new-message indications. Raises ATTimeout (no answer), SIMError, or the ATError of a refused step."""
        self._pin = pin  # kept for the re-inits after a reboot or power cycle
        self.parked = False
        self.channel.start()
        if self._worker_task is None:
            self._worker_task = asyncio.create_task(self.inbox.run())
        await self._sync()
        self._needs_init = False
        await self.channel.command("ATE0")
        await self._try("AT+CMEE=1")
        await self._probe_identity()
        if self.quirks.start_delay_ms:
            await asleep_ms(self.quirks.start_delay_ms)
        await self._unlock_sim(pin)
        await self._retrying("AT+CMGF=0")
        mem = self.quirks.storage
        await self._retrying('AT+CPMS="%s","%s","%s"' % (mem, mem, mem))
        self.inbox.selected_storage = mem
        await self._retrying(self.quirks.cnmi)
        for via in self.quirks.registration:
            await self._try("AT+%s=2" % via)  # unsolicited registration with lac/ci (27.007 7.2)
        self._failures = 0
        self._escalations = 0
        self._started = True
        try:
            await self.registration()  # reports "registered" now, so a later loss is reported too
        except ATError as exc:
            self._log("registration: %s" % exc)
        if self.auto_fetch:  # what arrived while nobody listened (or during a power cycle): listed by the worker
            self.inbox.check_stored()
        self._link_up()
        return self.info

    async def power_down(self):
        """Switch the modem off on purpose (between heartbeats): its model's power-down command, so it detaches
        from the network first and the network keeps SMS for it at the SMS centre. The link goes down through the
        one link-down path and supervision pauses until the next start(). Returns False when the model has no
        such command or the modem refused it: the caller then uses the power key."""
        self._started = False  # the power-down URC that follows is ours, not an unexpected restart
        self.parked = True
        self.link_down("powered down")
        self._regs = {}
        cmd = self.quirks.power_down
        if cmd is None:
            return False
        try:
            await self.channel.command(cmd, timeout_ms=self.check_timeout_ms * 5)
        except ATError as exc:  # no answer, or refused: the power key will do it
            self._log("%s failed: %s" % (cmd, exc))
            return False
        return True

    async def stop(self):
        self._started = False
        if self._worker_task is not None:
            self._worker_task.cancel()
            self._worker_task = None
        self.channel.stop()
        await asleep_ms(0)

    async def _sync(self):
        await self.channel.write_raw(b"\x1b")  # leave a `> ` prompt a crashed session may have left open
        for _ in range(self.sync_tries):
            try:
                await self.channel.command("AT", timeout_ms=self.sync_timeout_ms)
                return
            except ATTimeout:
                # A modem left in ATV0 answers "0" instead of OK: ask for verbose results, blind.
                await self.channel.write_raw(b"ATV1\r")
            except ATError:
                return  # it answered: in sync
            await asleep_ms(200)
        raise ATTimeout("modem does not answer AT after %d tries" % self.sync_tries)

    async def _probe_identity(self):
        info = {"manufacturer": None, "model": None, "revision": None, "imei": None}
        for key, cmd in (("manufacturer", "AT+CGMI"), ("model", "AT+CGMM"), ("revision", "AT+CGMR"),
                         ("imei", "AT+CGSN")):
            lines = await self._try(cmd)
            if lines:
                text = lines[0]
                colon = text.find(":")
                if text.startswith("+") and colon > 0:  # some models prefix the answer: "+CGMR: ..."
                    text = text[colon + 1:].strip()
                info[key] = unquote(text)
        if info["imei"] is not None and not (info["imei"].isdigit() and 14 <= len(info["imei"]) <= 17):
            info["imei"] = None
        if not self.model:
            self._use_quirks(modems.detect(info["manufacturer"], info["model"]))
        info["quirks"] = self.quirks.name
        self.info = info

    async def _unlock_sim(self, pin):
        state = None
        for _ in range(20):
            try:
                state = parse_cpin(await self.channel.command("AT+CPIN?"))
            except CMEError as exc:
                if exc.code == 10:
                    self.sim_state = "NOT INSERTED"
                    raise SIMError("not inserted")
                if not exc.transient:
                    raise SIMError(exc.text or str(exc.code))
                state = None
            if state == "SIM PIN" and pin is not None:
                pin = str(pin)
                if not (pin.isdigit() and 4 <= len(pin) <= 8):
                    raise SIMError("PIN must be 4 to 8 digits")
                await self.channel.command('AT+CPIN="%s"' % pin)
                pin = None  # one try only: a wrong PIN must not be repeated into a PUK lock
                await asleep_ms(500)
                continue
            if state is not None and state != "NOT READY":
                break
            await asleep_ms(500)
        self.sim_state = state
        if state != "READY":
            raise SIMError(state or "busy")

    # --- sending -------------------------------------------------------------------------------------
    async def send_sms(self, number, text, status_report=False):
        """Send `text` to `number` as one or more SMS (PDU mode). Returns the message references (one per
        part; None where the modem's answer had none). ValueError for a bad number; CMSError/ATTimeout after the
        bounded retries."""
        if not valid_number(number):
            raise ValueError("number must be 3 to 20 digits with an optional leading +")
        parts = pdu.encode_submit(number, text, status_report=status_report)
        refs = []
        for pdu_hex, length in parts:
            if not is_hex(pdu_hex) or not isinstance(length, int) or not 0 < length < 200:
                raise ATError("PDU codec gave a PDU that is not hex")  # never write anything but hex
            refs.append(await self._send_part(pdu_hex.upper(), length))
        return refs

    async def _send_part(self, pdu_hex, length):
        attempts = len(self.retry_delays_ms) + 1
        for attempt in range(attempts):
            try:
                lines = await self.channel.command_with_prompt("AT+CMGS=%d" % length, pdu_hex,
                                                               timeout_ms=self.send_timeout_ms)
            except ATError as exc:
                if not exc.transient or attempt == attempts - 1:
                    self._event("send failed", str(exc))
                    raise
                self._log("send attempt %d failed (%s): retrying" % (attempt + 1, exc))
                await asleep_ms(self.retry_delays_ms[attempt])
                continue
            try:
                return parse_cmgs(lines)
            except ATParseError:
                self._log("sent, but no message reference in %r" % (lines,))
                return None

    # --- receiving -----------------------------------------------------------------------------------
    def _on_urc(self, line, extra):
        """Called by the channel's reader: only records and wakes the worker (never blocks, never raises)."""
        try:
            if self.inbox.on_urc(line, extra):
                pass
            elif line.startswith("+CREG:") or line.startswith("+CGREG:") or line.startswith("+CEREG:"):
                self._registration_changed(parse_registration(line))
            elif line in self.quirks.reboot_urcs or line.startswith("*ATREADY"):
                if self._started:
                    self._needs_init = True
                    self._event("modem restarted", line)
                    self.inbox.wake.set()
            elif line.startswith("+CPIN:") and line[6:].strip() != "READY":
                self._event("sim", line[6:].strip())
        except ATError as exc:
            self._log("unreadable URC %r: %s" % (line, exc))

    def is_registered(self):
        for reg in self._regs.values():
            if registered(reg):
                return True
        return False

    def _registration_changed(self, *regs):
        """New states of one or more registration commands; one event at most for all of them."""
        was = self.is_registered()
        for reg in regs:
            self._regs[reg.get("via")] = reg
        best = [reg for reg in regs if registered(reg)]
        self.reg = best[0] if best else regs[-1]
        reg = self.reg
        now = self.is_registered()
        if now and not was:
            self._event("registered", reg)
        elif was and not now:
            self._event("registration lost", reg)

    # --- network state -------------------------------------------------------------------------------
    async def registration(self):
        """{"stat", "status", "lac", "ci", "act", "act_name", "via"} from the first of the model's registration
        commands (CEREG, CGREG, CREG) that reports registered, else the last one that answered."""
        found = []
        for via in self.quirks.registration:
            lines = await self._try("AT+%s?" % via)
            for line in lines or ():
                if line.startswith("+%s:" % via):
                    try:
                        found.append(parse_registration(line))
                    except ATParseError as exc:
                        self._log(str(exc))
        if not found:
            raise ATError("no registration answer")
        self._registration_changed(*found)
        for reg in found:
            if registered(reg):
                return reg
        return found[-1]

    async def signal(self):
        lines = await self.channel.command("AT+CSQ")
        return parse_csq(modems.first_line(lines, "+CSQ:"))

    async def operator(self, numeric=False):
        """{"mode", "format", "name", "act"} from AT+COPS?; numeric=True asks for the MCC+MNC form (AT+COPS=3,2)
        and restores the long alphanumeric form after."""
        if numeric:
            await self._try("AT+COPS=3,2")
        try:
            lines = await self.channel.command("AT+COPS?", timeout_ms=10000)
        finally:
            if numeric:
                await self._try("AT+COPS=3,0")
        return parse_cops(modems.first_line(lines, "+COPS:"))

    async def serving_cell(self):
        """{"mcc", "mnc", "lac", "cell_id", "rat"} by the model's own query (CPSI, QENG, or CREG=2 + COPS)."""
        return await self.quirks.serving_cell(self)

    async def battery(self):
        """{"charging", "percent", "voltage_mv"} or None when the model has no AT+CBC."""
        if not self.quirks.battery:
            return None
        lines = await self._try("AT+CBC")
        if not lines:
            return None
        return parse_cbc(modems.first_line(lines, "+CBC:"))

    async def probe(self):
        """Everything known about the modem, for `deme modem probe`; a failing part is reported as its error."""
        result = dict(self.info)
        result["sim"] = self.sim_state
        for key, fn in (("registration", self.registration), ("signal", self.signal),
                        ("operator", self.operator), ("serving_cell", self.serving_cell),
                        ("battery", self.battery)):
            try:
                result[key] = await fn()
            except ATError as exc:
                result[key] = {"error": str(exc)}
        return result

    # --- supervision ---------------------------------------------------------------------------------
    async def check(self):
        """One supervision round: AT liveness, re-init after a modem reboot or power-down, registration. After
        `max_failures` consecutive timeouts the modem is power-cycled and restarted (`max_recoveries` times at
        most, then "escalate"; each escalation makes the next episode wait longer). Returns whether the link
        is up."""
        if self.parked:
            return False
        if self._needs_init:
            return await self._reinit("modem restarted")
        try:
            await self.channel.command("AT", timeout_ms=self.check_timeout_ms)
        except ATTimeout:
            return await self._missed("no reply to AT")
        except ATError:
            pass  # it answered, even if with an error
        self._failures = 0
        if not self.link_up:
            return await self._reinit("answering again")
        try:
            await self.registration()
        except ATTimeout:
            pass
        except ATError as exc:
            self._log("registration: %s" % exc)
        return self.link_up

    async def supervise(self, interval_ms=10000, rounds=None):
        """Run check() every interval_ms (forever, or `rounds` times)."""
        done = 0
        while rounds is None or done < rounds:
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # supervision itself must survive anything
                self._log("supervision round failed: %r" % (exc,))
            done += 1
            await asleep_ms(interval_ms)

    def _link_up(self):
        """The one link-up path (idempotent): `up` set, `down` cleared, reported once."""
        if not self.up.is_set():
            self.down.clear()
            self.up.set()
            self._event("link up", self.info.get("model"))

    def link_down(self, reason):
        """The one link-down path (idempotent): `up` cleared, `down` set, reported once."""
        if self.up.is_set():
            self.up.clear()
            self.down.set()
            self._event("link down", reason)

    async def _missed(self, reason):
        self._failures += 1
        limit = self.max_failures * (1 + min(self._escalations, 9))
        self._log("%s (%d/%d)" % (reason, self._failures, limit))
        if self._failures >= limit:
            await self._recover("%s %d times" % (reason, self._failures))
        return self.link_up

    async def _reinit(self, reason):
        try:
            await self.channel.command("AT", timeout_ms=self.check_timeout_ms)
        except ATTimeout:
            self.link_down(reason + "; no answer")
            return await self._missed(reason + "; no answer")
        except ATError:
            pass
        try:
            await self.start(pin=self._pin)
        except ATError as exc:
            self.link_down("%s; start failed: %s" % (reason, exc))
        return self.link_up

    async def _recover(self, reason):
        self.link_down(reason)
        self._started = False  # the boot URCs of our own power cycle are not an unexpected restart
        for attempt in range(1, self.max_recoveries + 1):
            if self.power is not None:
                self._event("power cycle", attempt)
                try:
                    await self.power.cycle()
                except Exception as exc:
                    self._event("power cycle failed", repr(exc))
            try:
                await self.start(pin=self._pin)
                return True
            except ATError as exc:
                self._event("recovery failed", "%d: %s" % (attempt, exc))
            if self.power is None:
                break
        self._failures = 0
        self._escalations += 1
        self._event("escalate", "modem unrecoverable: %s" % reason)
        return False
