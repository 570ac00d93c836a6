"""Cellular modem API over drivers.at: start, send SMS (PDU mode only), receive SMS, network state, supervision.

Runs on MicroPython (the wearable) and CPython (the hub). Never text mode: in text mode a Ctrl-Z inside a message
ends it and what follows is read as commands; in PDU mode only hex digits follow the prompt.

Incoming SMS are at-least-once: a stored SMS is deleted (AT+CMGD) only after the handler returned, which means
"durably stored"; a handler that raises leaves it on the SIM and it is offered again later (`fetch_stored`).
A delete that fails is retried when a later listing shows the same PDU at the same index, without calling the
handler again while this process lives; after a restart the message is offered again, and the receiver
deduplicates (by device id and counter).

Use (firmware or hub):
    modem = Modem(uart, power=pwrkey, model=None, log=print, on_event=on_event)
    modem.set_sms_handler(store_sms)          # async def store_sms(sms): commit, then return
    modem.set_report_handler(on_report)       # async def on_report(report): report["reference"], ["status"]
    await modem.start(pin=None)               # raises ATTimeout, SIMError, ATError
    refs = await modem.send_sms("+22376123456", text, status_report=True)
    asyncio.create_task(modem.supervise(10000))
"""
import asyncio

from drivers import modems, pdu
from drivers.at import (
    AsyncTimeout,
    ATChannel,
    ATError,
    ATParseError,
    ATTimeout,
    CMEError,
    CMSError,
    is_unsolicited_registration,
    parse_int,
    response_fields,
    split_fields,
    unquote,
    wait_event,
)
from drivers.compat import asleep_ms, ticks_diff, ticks_ms

MAX_QUEUE = 32  # incoming notices waiting for the worker; beyond it a full AT+CMGL pass catches up
REG_STAT = {0: "not registered", 1: "home", 2: "searching", 3: "denied", 4: "unknown", 5: "roaming"}
ACT_NAME = {0: "GSM", 1: "GSM compact", 2: "UTRAN", 3: "GSM/EGPRS", 4: "UTRAN/HSDPA", 5: "UTRAN/HSUPA",
            6: "UTRAN/HSPA", 7: "E-UTRAN", 8: "EC-GSM-IoT", 9: "E-UTRAN NB-S1", 13: "E-UTRA-NR"}


class SIMError(ATError):
    """The SIM is missing, locked (PIN/PUK) or failed; `state` is the +CPIN state or the CME text."""

    def __init__(self, state):
        super().__init__("SIM: %s" % state)
        self.state = state


# ------------------------------------------------------------------------------------------------- parsers
# Pure and total: every input gives a value or ATParseError.


def valid_number(number):
    """The device-side number check: a str of digits with an optional leading +, 3 to 20 digits (TS 23.040
    9.1.2.5 allows 20 digits in an address). The hub validates properly with phonenumbers before calling."""
    if not isinstance(number, str):
        return False
    digits = number[1:] if number.startswith("+") else number
    if not 3 <= len(digits) <= 20:
        return False
    for c in digits:
        if not "0" <= c <= "9":
            return False
    return True


def is_hex(text):
    if not isinstance(text, str) or not text or len(text) % 2:
        return False
    for c in text:
        if not ("0" <= c <= "9" or "A" <= c <= "F" or "a" <= c <= "f"):
            return False
    return True


def parse_csq(line):
    """+CSQ: <rssi>,<ber> (27.007 8.5) -> {"rssi", "rssi_dbm", "ber"}; 99 means unknown (None)."""
    f = response_fields(line, "+CSQ:")
    if len(f) < 2:
        raise ATParseError("bad +CSQ: %r" % line)
    rssi = parse_int(f[0])
    ber = parse_int(f[1])
    if 0 <= rssi <= 31:
        dbm = -113 + 2 * rssi
    elif rssi == 99:
        dbm = None
    elif 100 <= rssi <= 191:  # TD-SCDMA range of 27.007: -116 dBm + (rssi - 100)
        dbm = -116 + (rssi - 100)
    else:
        raise ATParseError("rssi out of range: %r" % line)
    return {"rssi": rssi, "rssi_dbm": dbm, "ber": ber if 0 <= ber <= 7 else None}


def parse_registration(line):
    """+CREG/+CGREG/+CEREG in either form (27.007 7.2, 10.1.20, 10.1.22) -> {"stat", "status", "lac", "ci",
    "act", "act_name", "n", "via"}; lac is the LAC or TAC, ci the cell id, both as ints (None when absent)."""
    if not isinstance(line, str):
        raise ATParseError("not a line")
    colon = line.find(":")
    if colon < 2 or line[0] != "+":
        raise ATParseError("not a registration line: %r" % line)
    via = line[1:colon]
    if via not in ("CREG", "CGREG", "CEREG", "C5GREG"):
        raise ATParseError("not a registration line: %r" % line)
    f = split_fields(line[colon + 1:].strip())
    n = None
    if not is_unsolicited_registration(line):
        n = parse_int(f[0])
        f = f[1:]
    if not f or not f[0]:
        raise ATParseError("no <stat> in %r" % line)
    stat = parse_int(f[0])
    lac = ci = act = None
    if len(f) >= 3:
        lac = parse_int(f[1], 16) if unquote(f[1]) else None
        ci = parse_int(f[2], 16) if unquote(f[2]) else None
    if len(f) >= 4 and f[3]:
        act = parse_int(f[3])
    return {"stat": stat, "status": REG_STAT.get(stat, "unknown"), "lac": lac, "ci": ci, "act": act,
            "act_name": ACT_NAME.get(act) if act is not None else None, "n": n, "via": via}


def registered(reg):
    return reg is not None and reg.get("stat") in (1, 5)


def parse_cops(line):
    """+COPS: <mode>[,<format>,<oper>[,<AcT>]] (27.007 7.3) -> {"mode", "format", "name", "act"}."""
    f = response_fields(line, "+COPS:")
    result = {"mode": parse_int(f[0]), "format": None, "name": None, "act": None}
    if len(f) >= 3:
        result["format"] = parse_int(f[1])
        result["name"] = unquote(f[2])
    if len(f) >= 4 and f[3]:
        result["act"] = parse_int(f[3])
    return result


def parse_cpin(lines):
    """AT+CPIN? answer -> the state string ("READY", "SIM PIN", ...)."""
    for line in lines:
        if line.startswith("+CPIN:"):
            state = line[6:].strip()
            if state:
                return state
    raise ATParseError("no +CPIN state in %r" % (lines,))


def parse_cbc(line):
    """+CBC: <bcs>,<bcl>,<mV> (27.007 8.4 plus SIMCom/Quectel voltage) or +CBC: 3.900V (A76XX)
    -> {"charging", "percent", "voltage_mv"} (None where the model does not say)."""
    f = response_fields(line, "+CBC:")
    if len(f) == 1 and f[0][-1:] in ("V", "v"):
        text = f[0][:-1]
        dot = text.find(".")
        if dot < 0:
            mv = parse_int(text) * 1000
        else:
            frac = (text[dot + 1:] + "000")[:3]
            mv = parse_int(text[:dot]) * 1000 + parse_int(frac)
        return {"charging": None, "percent": None, "voltage_mv": mv}
    if len(f) < 2:
        raise ATParseError("bad +CBC: %r" % line)
    bcs = parse_int(f[0])
    return {"charging": bcs == 1, "percent": parse_int(f[1]),
            "voltage_mv": parse_int(f[2]) if len(f) >= 3 and f[2] else None}


def parse_cmgs(lines):
    """+CMGS: <mr>[,<scts>] (27.005 3.5.1) -> message reference (int)."""
    for line in lines:
        if line.startswith("+CMGS:"):
            return parse_int(split_fields(line[6:].strip())[0])
    raise ATParseError("no +CMGS line in %r" % (lines,))


def parse_cmti(line):
    """+CMTI: <mem>,<index> or +CDSI: <mem>,<index> -> (storage, index)."""
    colon = line.find(":") if isinstance(line, str) else -1
    if colon < 0:
        raise ATParseError("bad notice: %r" % (line,))
    f = split_fields(line[colon + 1:].strip())
    if len(f) < 2:
        raise ATParseError("bad notice: %r" % line)
    storage = unquote(f[0]).upper()
    if not 1 <= len(storage) <= 4:
        raise ATParseError("bad storage in %r" % line)
    for c in storage:
        if not ("A" <= c <= "Z" or c == "_"):  # it goes back into AT+CPMS="...": ASCII letters only
            raise ATParseError("bad storage in %r" % line)
    index = parse_int(f[1])
    if index < 0:
        raise ATParseError("bad index in %r" % line)
    return storage, index


def parse_cmgl(lines):
    """AT+CMGL=4 answer in PDU mode: pairs "+CMGL: <index>,<stat>,[<alpha>],<length>" then the PDU line
    (27.005 3.4.2) -> (entries [(index, stat, pdu_hex)], problems [text]). Malformed entries are reported in
    `problems` and skipped; never raises."""
    entries = []
    problems = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.startswith("+CMGL:"):
            problems.append("unexpected line %r" % line)
            continue
        try:
            f = split_fields(line[6:].strip())
            index = parse_int(f[0])
            stat = parse_int(f[1]) if len(f) > 1 and f[1] else None
            if index < 0:
                raise ATParseError("negative index")
        except ATParseError as exc:
            problems.append("bad header %r: %s" % (line, exc))
            continue
        if i < len(lines) and is_hex(lines[i]):
            entries.append((index, stat, lines[i]))
            i += 1
        else:
            problems.append("no PDU after %r" % line)
            entries.append((index, stat, None))
    return entries, problems


def parse_cmgr(lines):
    """AT+CMGR answer in PDU mode: "+CMGR: <stat>,[<alpha>],<length>" then the PDU -> (stat, pdu_hex), or None for
    an empty slot (SIM800 answers a bare OK)."""
    for i in range(len(lines)):
        if lines[i].startswith("+CMGR:"):
            f = split_fields(lines[i][6:].strip())
            stat = parse_int(f[0]) if f[0] else None
            if i + 1 < len(lines) and is_hex(lines[i + 1]):
                return stat, lines[i + 1]
            raise ATParseError("no PDU after %r" % lines[i])
    return None


# ------------------------------------------------------------------------------------------------- modem


class Modem:
    """`uart`: UART-like (any/read/write). `power`: optional object with `async cycle()` (PWRKEY/reset).
    `model`: quirks name ("sim800", "a7670", "sim7600", "ec25", "bg95"); None: detected from AT+CGMI/CGMM.
    `log(text)`: optional. `on_event(kind, detail)`: optional plain function (must not block).
    `retry_delays_ms`: waits between send attempts on transient errors (the count bounds the retries).
    `auto_fetch`: after every start(), list the SIM (AT+CMGL=4) once a handler is set: messages that arrived
    while the service was down or the modem was being power-cycled."""

    def __init__(self, uart, power=None, model=None, log=None, on_event=None, poll_ms=5,
                 retry_delays_ms=(2000, 5000, 15000), reassembly_timeout_ms=1800000, send_timeout_ms=60000,
                 sync_tries=10, sync_timeout_ms=1000, check_timeout_ms=2000, max_failures=3, max_recoveries=3,
                 stored_retry_ms=30000, auto_fetch=True):
        self.uart = uart
        self.power = power
        self.model = model
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
        self.stored_retry_ms = stored_retry_ms
        self.auto_fetch = auto_fetch
        self.channel = ATChannel(uart, urc_handler=self._on_urc, log=log, poll_ms=poll_ms)
        self.quirks = modems.by_name(model) if model else modems.Generic()
        self.info = {}
        self.sim_state = None
        self.link_up = False
        self.reg = None  # the latest registration state seen (any of CREG/CGREG/CEREG)
        self._regs = {}  # via -> registration dict: registered means registered on any of them
        self._sms_handler = None
        self._report_handler = None
        self._queue = []
        self._wake = asyncio.Event()
        self._rx_lock = asyncio.Lock()
        self._reassembler = pdu.Reassembler(timeout_ms=reassembly_timeout_ms)
        self._part_locations = {}  # (number, ref, total) -> [(storage, index)] of the parts seen
        # (storage, index, pdu_hex) handed over but not deleted (AT+CMGD failed): deleted when a listing shows
        # the same PDU at the same place, never blindly (the index may hold a new message by then).
        self._deleted_pending = []
        self._mem1 = None
        self._retry_stored = False
        self._last_stored_try = None
        self._needs_init = False
        self._failures = 0
        self._escalations = 0
        self._pin = None
        self._worker_task = None
        self._started = False
        self.parked = False  # switched off on purpose (power_down): supervision leaves it alone until start()

    # --- small helpers -------------------------------------------------------------------------------
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
        self._sms_handler = handler

    def set_report_handler(self, handler):
        """`async handler(report)`: SMS-STATUS-REPORT dicts from drivers.pdu.decode (reference, status...)."""
        self._report_handler = handler

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
            self._worker_task = asyncio.create_task(self._worker())
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
        self._mem1 = mem
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
            self._retry_stored = True
            self._last_stored_try = None
            self._wake.set()
        if not self.link_up:
            self.link_up = True
            self._event("link up", self.info.get("model"))
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
            self.quirks = modems.detect(info["manufacturer"], info["model"])
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
            if line.startswith("+CMTI:") or line.startswith("+CDSI:"):
                storage, index = parse_cmti(line)
                self._enqueue(("stored", storage, index))
            elif line.startswith("+CMT:") or line.startswith("+CDS:"):
                if extra is None:  # the PDU line never came: not acknowledged, so the network sends it again
                    self._log("%s without its PDU line" % line)
                else:
                    self._enqueue(("cmt" if line[3] == "M" else "cds", extra))
            elif line.startswith("+CREG:") or line.startswith("+CGREG:") or line.startswith("+CEREG:"):
                self._registration_changed(parse_registration(line))
            elif line in self.quirks.reboot_urcs or line.startswith("*ATREADY"):
                if self._started:
                    self._needs_init = True
                    self._event("modem restarted", line)
                    self._wake.set()
            elif line.startswith("+CPIN:") and line[6:].strip() != "READY":
                self._event("sim", line[6:].strip())
        except ATError as exc:
            self._log("unreadable URC %r: %s" % (line, exc))

    def _enqueue(self, item):
        if len(self._queue) >= MAX_QUEUE:
            self._retry_stored = True  # a full listing will find what this notice pointed to
            self._log("incoming queue full: will list stored messages")
        else:
            self._queue.append(item)
        self._wake.set()

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

    async def _worker(self):
        """Handles incoming notices one at a time; the same lock as fetch_stored, so nothing is handled twice."""
        while True:
            try:
                await wait_event(self._wake, 1000)
            except AsyncTimeout:
                pass
            self._wake.clear()
            while self._queue:
                item = self._queue.pop(0)
                try:
                    await self._handle_item(item)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # one bad message must never stop reception
                    self._log("incoming %r failed: %r" % (item[0], exc))
                    self._retry_stored = True
            try:
                await self._housekeeping()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._log("housekeeping failed: %r" % (exc,))

    async def _housekeeping(self):
        if not self._started:
            return
        now = ticks_ms()
        for message in self._reassembler.expire(now):
            async with self._rx_lock:
                await self._deliver(message, self._part_locations.pop(message.get("_key"), []))
        if self._retry_stored and self._sms_handler is not None and (self._last_stored_try is None
                                   or ticks_diff(now, self._last_stored_try) >= self.stored_retry_ms):
            await self.fetch_stored()

    async def _handle_item(self, item):
        kind = item[0]
        async with self._rx_lock:
            if kind == "stored":
                await self._read_stored(item[1], item[2])
            elif kind == "cmt":
                await self._direct(item[1], report=False)
            elif kind == "cds":
                await self._direct(item[1], report=True)

    async def _use_storage(self, storage):
        if storage != self._mem1:
            await self.channel.command('AT+CPMS="%s"' % storage)
            self._mem1 = storage

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

    def check_stored(self):
        """Have the worker list the SIM soon (after a sleep that may have lost a +CMTI: the message is stored)."""
        self._retry_stored = True
        self._last_stored_try = None
        self._wake.set()

    async def fetch_stored(self):
        """List every stored message (AT+CMGL=4) and dispatch it: messages that arrived while nobody listened,
        and those whose handler failed before. Returns how many were handed to a handler."""
        self._last_stored_try = ticks_ms()
        self._retry_stored = False
        handed = 0
        async with self._rx_lock:
            await self._use_storage(self.quirks.storage)
            lines = await self.channel.command("AT+CMGL=4", timeout_ms=20000)
            entries, problems = parse_cmgl(lines)
            for problem in problems:
                self._log("AT+CMGL: " + problem)
            listed = [(self.quirks.storage, index, pdu_hex) for index, _, pdu_hex in entries]
            self._deleted_pending = [p for p in self._deleted_pending if p in listed or p[0] != self.quirks.storage]
            for index, stat, pdu_hex in entries:
                if stat in (2, 3):
                    continue  # stored outgoing messages are not ours to handle
                if await self._dispatch_pdu(pdu_hex, self.quirks.storage, index) is True:
                    handed += 1
        return handed

    async def _direct(self, pdu_hex, report):
        """+CMT / +CDS routed directly (no storage): hand over, then acknowledge with AT+CNMA (27.005 3.4.4).
        A handler that raises gets no acknowledgement: the network delivers again."""
        if await self._dispatch_pdu(pdu_hex, None, None) is not False:
            await self._try("AT+CNMA")  # handled, or a part held until the others come

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
        handler = self._report_handler if report else self._sms_handler
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

    def link_down(self, reason):
        """The one link-down path (idempotent): marks the link down and reports it once."""
        if self.link_up:
            self.link_up = False
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


