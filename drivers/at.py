"""AT command channel over a UART-like stream (3GPP TS 27.007 / 27.005), for MicroPython and CPython asyncio.

The stream is polled (`any()`, `read(n)` non-blocking, `write(data)`): no StreamReader, because readline over a
UART was reported to fail on rp2 after thousands of lines and the MicroPython unix port cannot poll a pty.

One reader task frames lines (bounded buffer) and routes each line either to the pending command (information
lines, final result) or to the unsolicited-result-code handler, in any state, including in the middle of a
response. `command()` runs one command at a time (a lock).

Routing rule for a line while a command is pending:
1. a final result code (OK, ERROR, +CME ERROR, +CMS ERROR, NO CARRIER...) ends the command;
2. a line with the command's own prefix (AT+CREG? -> "+CREG:") is a response, except for the registration
   family where the unsolicited form is told apart by its fields (see `is_unsolicited_registration`);
3. a line with a known URC prefix (+CMTI, +CMT, RING, RDY...) goes to the URC handler;
4. anything else is an information line of the command (ATI, AT+CGMM answers have no prefix).
With no command pending every line is a URC, except stray final results (late answers after a timeout): dropped.
"""
import asyncio

from drivers.compat import MICROPYTHON, asleep_ms, sleep_ms, ticks_diff, ticks_ms

# MicroPython's asyncio raises its own TimeoutError class, not the builtin one: catch this name on both.
AsyncTimeout = asyncio.TimeoutError
CTRL_Z = b"\x1a"
ESC = b"\x1b"
MAX_LINE = 1024  # a PDU line is at most 2 * (12 + 164) = 352 hex digits; a QENG line about 200 characters


class ATError(Exception):
    """Base of every error of this module. `transient` True means: retrying later may succeed."""

    transient = False


class ATTimeout(ATError):
    """No final result (or no `> ` prompt) within the time allowed."""

    transient = True


class ATLinkError(ATError):
    """The transport itself failed (write error, stalled UART)."""

    transient = True


class ATParseError(ATError):
    """A response line did not have the expected shape (the only error a parser of this package raises)."""


class ATCommandError(ATError):
    """A plain final result other than OK: ERROR, NO CARRIER, COMMAND NOT SUPPORT..."""

    def __init__(self, result, command=None):
        super().__init__(result)
        self.result = result
        self.command = command


# Transient codes: what the network or the modem may accept a little later. Sources:
# - CMS 0..127 are RP-cause values (3GPP TS 24.011 section 8.2.5.4 and annex E): 38 network out of order,
#   41 temporary failure, 42 congestion, 47 resources unavailable are the temporary ones; 27 destination out
#   of service can recover too. 1 unassigned number, 8/10 barring, 21 rejected, 50/69 not subscribed... are not.
# - CMS 300.. from 3GPP TS 27.005 section 3.2.5: 300 ME failure, 314 SIM busy, 331 no network service,
#   332 network timeout, 500 unknown error (what SIMCom and Quectel modems report for radio failures).
# - CMS 512.. are manufacturer specific (27.005 3.2.5) and their meaning varies by maker (SIMCom, Quectel,
#   Nordic use 512..515 for "SIM not ready", "please wait", "no memory"...): 512..515 count as transient, because
#   a wrong "transient" costs a few bounded retries while a wrong "permanent" costs the attempt.
# - CME from 3GPP TS 27.007 section 9.2: 14 SIM busy, 30 no network service, 31 network timeout, 100 unknown;
#   515 "please wait, init or command processing in progress" (SIMCom/Quectel; python-gsmmodem's fake modem
#   answers it when the device is busy).
CMS_TRANSIENT = (27, 38, 41, 42, 47, 300, 314, 331, 332, 500, 512, 513, 514, 515)
CME_TRANSIENT = (14, 30, 31, 100, 515)

# Text forms some modems give with AT+CMEE=2 (27.007 section 9.2); mapped back to numbers.
_CME_TEXT = {
    "PHONE FAILURE": 0, "OPERATION NOT ALLOWED": 3, "OPERATION NOT SUPPORTED": 4, "SIM NOT INSERTED": 10,
    "SIM PIN REQUIRED": 11, "SIM PUK REQUIRED": 12, "SIM FAILURE": 13, "SIM BUSY": 14, "SIM WRONG": 15,
    "INCORRECT PASSWORD": 16, "MEMORY FULL": 20, "INVALID INDEX": 21, "NOT FOUND": 22,
    "NO NETWORK SERVICE": 30, "NETWORK TIMEOUT": 31, "UNKNOWN": 100, "UNKNOWN ERROR": 100,
}


class CMEError(ATError):
    """+CME ERROR: <code> (mobile equipment errors, 3GPP TS 27.007 section 9.2). code is None if unreadable."""

    def __init__(self, code, text=None):
        super().__init__("+CME ERROR: %s" % (text if code is None else code))
        self.code = code
        self.text = text
        self.transient = code in CME_TRANSIENT


class CMSError(ATError):
    """+CMS ERROR: <code> (message service errors, 3GPP TS 27.005 section 3.2.5)."""

    def __init__(self, code, text=None):
        super().__init__("+CMS ERROR: %s" % (text if code is None else code))
        self.code = code
        self.text = text
        self.transient = code in CMS_TRANSIENT


_FINAL_PLAIN = ("OK", "ERROR", "NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE", "COMMAND NOT SUPPORT", "ABORTED")

# Unsolicited result codes (prefix match). Sources: 27.005 3.4.1 (+CMTI +CMT +CDS +CDSI +CBM), 27.007
# (+CREG +CGREG +CEREG +CRING RING +CLIP +CCWA +CUSD +CIEV +CGEV +CTZV), SIMCom manuals (RDY, Call Ready,
# SMS Ready, NORMAL POWER DOWN, UNDER-VOLTAGE..., *PSUTTZ, DST:, *ATREADY:, PB DONE, +CPIN: and +CFUN: at boot),
# Quectel manuals (RDY, +QIND:, +QIURC:, POWERED DOWN).
URC_PREFIXES = (
    "+CMTI:", "+CMT:", "+CDS:", "+CDSI:", "+CBM:", "+CBMI:", "+CREG:", "+CGREG:", "+CEREG:", "+C5GREG:",
    "RING", "+CRING:", "+CLIP:", "+CCWA:", "+CUSD:", "+CIEV:", "+CGEV:", "+CTZV:", "+CTZE:", "+CPIN:", "+CFUN:",
    "RDY", "Call Ready", "SMS Ready", "NORMAL POWER DOWN", "UNDER-VOLTAGE", "OVER-VOLTAGE", "POWERED DOWN",
    "*PSUTTZ", "DST:", "*ATREADY:", "PB DONE", "SMS DONE", "+QIND:", "+QIURC:", "+QUSIM:", "+CSQN:", "+PACSP",
    "+CGNSINF:", "UNDER-VOLTAGE WARNNING",
)
# URCs followed by one more line (the PDU): 27.005 3.4.1 in PDU mode.
TWO_LINE_URCS = ("+CMT:", "+CDS:", "+CBM:")
_REGISTRATION = ("+CREG:", "+CGREG:", "+CEREG:", "+C5GREG:")


def split_fields(text):
    """Split an AT parameter list on commas outside double quotes; quotes kept. Total: any str gives a list."""
    fields = []
    start = 0
    quoted = False
    for i in range(len(text)):
        c = text[i]
        if c == '"':
            quoted = not quoted
        elif c == "," and not quoted:
            fields.append(text[start:i].strip())
            start = i + 1
    fields.append(text[start:].strip())
    return fields


def unquote(field):
    if len(field) >= 2 and field[0] == '"' and field[-1] == '"':
        return field[1:-1]
    return field


def parse_int(field, base=10):
    """An integer field (quotes allowed); ATParseError otherwise."""
    field = unquote(field.strip())
    if base == 16 and field[:2] in ("0x", "0X"):
        field = field[2:]
    if not field:
        raise ATParseError("empty number")
    for c in field if field[0] not in "+-" else field[1:]:
        if not ("0" <= c <= "9" or (base == 16 and c in "abcdefABCDEF")):
            raise ATParseError("not a number: %r" % field)
    try:
        return int(field, base)
    except ValueError:
        raise ATParseError("not a number: %r" % field)


def response_fields(line, prefix):
    """`+CSQ: 20,99` with prefix "+CSQ:" -> ["20", "99"]; ATParseError if the prefix is missing."""
    if not isinstance(line, str) or not line.startswith(prefix):
        raise ATParseError("expected %s, got %r" % (prefix, line))
    return split_fields(line[len(prefix):].strip())


def prefix_of(cmd):
    """The response prefix a command expects: AT+CREG? -> "+CREG:", AT*FOO=1 -> "*FOO:", ATI -> None."""
    if len(cmd) < 4 or cmd[:2].upper() != "AT" or cmd[2] not in "+*^$#%":
        return None
    end = len(cmd)
    for i in range(3, len(cmd)):
        if cmd[i] in "=?":
            end = i
            break
    return cmd[2:end].upper() + ":"


def final_result(line):
    """None if `line` is not a final result code; "OK"; or the ATError it stands for."""
    if line == "OK":
        return "OK"
    if line.startswith("+CME ERROR:") or line.startswith("+CMS ERROR:"):
        text = line[11:].strip()
        code = None
        try:
            code = parse_int(text)
        except ATParseError:
            code = _CME_TEXT.get(text.upper()) if line[3] == "E" else None
        return CMEError(code, text) if line[3] == "E" else CMSError(code, text)
    for word in _FINAL_PLAIN:
        if line == word:
            return ATCommandError(line)
    return None


def is_unsolicited_registration(line):
    """+CREG/+CGREG/+CEREG: the response to AT+CREG? starts with <n>,<stat> (two bare integers); the
    unsolicited form is <stat> alone or <stat>,"<lac>",... (27.007 7.2): one field, or a quoted second one."""
    colon = line.find(":")
    fields = split_fields(line[colon + 1:].strip())
    if len(fields) < 2:
        return not fields[0].startswith("(")  # "+CREG: (0-2)" answers AT+CREG=?
    return fields[1][:1] == '"'


def is_urc_prefix(line):
    for p in URC_PREFIXES:
        if line.startswith(p):
            return True
    return False


def _is_hex(text):
    if not text:
        return False
    for c in text:
        if not ("0" <= c <= "9" or "A" <= c <= "F" or "a" <= c <= "f"):
            return False
    return True


def _clean(raw):
    """Bytes of one line -> str: control bytes (NUL, Ctrl-Z, noise at power-up) and non-ASCII become nothing/'?'."""
    if raw and min(raw) >= 0x20 and max(raw) < 0x80:  # the usual case, checked by C loops
        return raw.decode().strip()
    out = []
    for b in raw:
        if b >= 0x80:
            out.append("?")
        elif b >= 0x20:
            out.append(chr(b))
    return "".join(out).strip()


async def wait_event(event, timeout_ms):
    if MICROPYTHON:
        await asyncio.wait_for_ms(event.wait(), timeout_ms)
    else:
        await asyncio.wait_for(event.wait(), timeout_ms / 1000)


class _Pending:
    def __init__(self, cmd, prefix, payload=None):
        self.cmd = cmd
        self.prefix = prefix
        self.payload = payload
        self.lines = []
        self.result = None  # "OK" or an ATError
        self.done = asyncio.Event()
        self.prompt = asyncio.Event()
        self.want_prompt = payload is not None
        self.echo_seen = False


class ATChannel:
    """`uart`: any(), read(n) non-blocking -> bytes or None, write(data). `urc_handler(line, extra_or_None)`: a
    plain function, called from the reader task (must not block; queue work elsewhere). `log(message)`: optional.
    `poll_ms`: reader poll period when nothing is waiting."""

    def __init__(self, uart, urc_handler=None, log=None, poll_ms=5):
        self.uart = uart
        self.urc_handler = urc_handler
        self.log = log
        self.poll_ms = poll_ms
        self._buf = b""  # bytes, not bytearray: MicroPython cannot delete bytearray slices
        self._discarding = False  # inside an overlong line: drop until the next line end
        self._pending = None
        self._urc_header = None  # first line of a two-line URC waiting for its PDU line
        self._lock = asyncio.Lock()
        self._task = None
        self.stats = {"lines": 0, "urcs": 0, "dropped": 0, "timeouts": 0}

    def start(self):
        if self._task is None:
            self._task = asyncio.create_task(self._reader())

    def stop(self):
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _log(self, msg):
        if self.log is not None:
            try:
                self.log(msg)
            except Exception:
                pass

    # --- reader side -------------------------------------------------------------------------------------
    async def _reader(self):
        errors = 0
        while True:
            try:
                n = self.uart.any()
                data = self.uart.read(min(n, 256)) if n else None
                errors = 0
            except Exception as exc:  # a UART that fails must not kill the channel: back off and retry
                errors += 1
                self._log("uart read failed: %r" % (exc,))
                await asleep_ms(min(1000, self.poll_ms * 10 * errors))
                continue
            if data:
                self.feed(data)
                await asleep_ms(0)
            elif self._pending is not None:
                await asleep_ms(1)  # an answer is due: keep the round trip short
            else:
                await asleep_ms(self.poll_ms)

    def feed(self, data):
        """Frame bytes into lines and route them (public so tests and replays can drive it directly)."""
        buf = self._buf + data if self._buf else bytes(data)
        while True:
            cr = buf.find(b"\r")
            lf = buf.find(b"\n")
            cut = cr if lf < 0 or (0 <= cr < lf) else lf
            if cut < 0:
                break
            raw = buf[:cut]
            buf = buf[cut + 1:]
            if self._discarding or cut > MAX_LINE:
                if cut > MAX_LINE:
                    self._overlong()
                self._discarding = False
                continue
            line = _clean(raw)
            if line:
                self._route(line)
        if len(buf) > MAX_LINE:
            self._overlong()
            buf = b""
            self._discarding = True
        self._buf = buf
        pending = self._pending
        if pending is not None and pending.want_prompt and len(buf) and buf[0] == 0x3E:  # ">"
            self._buf = buf[2 if len(buf) > 1 and buf[1] == 0x20 else 1:]
            pending.want_prompt = False
            pending.prompt.set()

    def _overlong(self):
        self.stats["dropped"] += 1
        self._log("overlong line dropped")

    def _urc(self, line, extra):
        self.stats["urcs"] += 1
        if self.urc_handler is not None:
            try:
                self.urc_handler(line, extra)
            except Exception as exc:
                self._log("urc handler failed on %r: %r" % (line, exc))

    def _route(self, line):
        self.stats["lines"] += 1
        header = self._urc_header
        if header is not None:
            self._urc_header = None
            if _is_hex(line):
                self._urc(header, line)
                return
            self._urc(header, None)  # the PDU line never came: report the header alone, route this line
        if line == ">":
            return  # a prompt that came after its command was abandoned (ESC sent): not an answer
        pending = self._pending
        if pending is not None and not pending.done.is_set():
            if not pending.echo_seen and line.upper() == pending.cmd.upper():
                pending.echo_seen = True  # ATE1 echo
                return
            if pending.payload is not None and line == pending.payload:
                return  # echo of the PDU after the prompt
            result = final_result(line)
            if result is not None:
                pending.result = result
                pending.done.set()
                pending.prompt.set()  # wakes command_with_prompt when an error comes instead of `> `
                return
            if pending.prefix is not None and line.startswith(pending.prefix):
                if not (pending.prefix in _REGISTRATION and is_unsolicited_registration(line)):
                    pending.lines.append(line)
                    return
            elif not is_urc_prefix(line):
                pending.lines.append(line)
                return
        elif final_result(line) is not None:
            self.stats["dropped"] += 1
            self._log("stray final result dropped: %r" % line)
            return
        for p in TWO_LINE_URCS:
            if line.startswith(p):
                self._urc_header = line
                return
        self._urc(line, None)

    # --- command side ------------------------------------------------------------------------------------
    async def command(self, cmd, timeout_ms=5000, expect_prefix=None):
        """Send `cmd` (without line end); return its information lines. Raises CMEError, CMSError,
        ATCommandError, ATTimeout."""
        async with self._lock:
            pending = _Pending(cmd, expect_prefix or prefix_of(cmd))
            return await self._run(pending, timeout_ms)

    async def write_raw(self, data):
        """Bytes outside any command (ESC to close a stale prompt, a blind ATV1), between commands: never in
        the middle of another task's command or prompt."""
        async with self._lock:
            self._write(data)

    async def command_with_prompt(self, cmd, payload, timeout_ms=60000, prompt_timeout_ms=10000):
        """AT+CMGS style: send `cmd`, wait for `> `, write `payload` (str of hex digits) and Ctrl-Z; return the
        information lines (+CMGS: <mr>). No prompt in time: ESC aborts and ATTimeout is raised."""
        async with self._lock:
            pending = _Pending(cmd, prefix_of(cmd), payload)
            self._pending = pending
            self._write(cmd.encode() + b"\r")
            started = ticks_ms()
            try:
                await wait_event(pending.prompt, prompt_timeout_ms)
            except AsyncTimeout:
                self._write(ESC)
                self._pending = None
                self.stats["timeouts"] += 1
                raise ATTimeout("no prompt for " + cmd)
            if pending.done.is_set():  # an error instead of the prompt
                self._pending = None
                return self._finish(pending)
            self._write(payload.encode() + CTRL_Z)
            left = timeout_ms - ticks_diff(ticks_ms(), started)
            return await self._await_final(pending, max(left, 1))

    async def _run(self, pending, timeout_ms):
        self._pending = pending
        self._write(pending.cmd.encode() + b"\r")
        return await self._await_final(pending, timeout_ms)

    async def _await_final(self, pending, timeout_ms):
        try:
            await wait_event(pending.done, timeout_ms)
        except AsyncTimeout:
            self.stats["timeouts"] += 1
            raise ATTimeout("no answer to " + pending.cmd)
        finally:
            self._pending = None
        return self._finish(pending)

    def _finish(self, pending):
        if pending.result == "OK":
            return pending.lines
        if isinstance(pending.result, ATCommandError):
            pending.result.command = pending.cmd
        raise pending.result

    def _write(self, data):
        # A UART may accept part of the data (full tx FIFO); write the rest in a bounded number of tries.
        try:
            view = memoryview(data)
            for _ in range(100):
                # machine.UART.write returns None when its timeout passed with nothing written (EAGAIN)
                n = self.uart.write(view) or 0
                if n >= len(view):
                    return
                view = view[n:]
                sleep_ms(1)
        except Exception as exc:  # the transport failed (unplugged adapter, closed pty)
            self._pending = None
            raise ATLinkError("uart write failed: %r" % (exc,))
        self._pending = None
        raise ATLinkError("uart write stalled")
