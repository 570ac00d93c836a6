"""A simulated cellular modem behind a real pseudo-terminal: what a host sees on the UART of a SIM800L, A7670E,
SIM7600, EC25 or BG95, including boot URCs, timing and the failures that cost alerts in the field.

One thread per modem reads the pty master, runs timers (boot URCs, network round trips, fault recovery) and
writes replies. Everything that touches modem state holds `self._lock`, so the network and tests may call the
public methods from any thread.
"""
import binascii
import collections
import hashlib
import heapq
import itertools
import logging
import os
import random
import select
import threading
import time
import tty

from . import tpdu
from .commands import ATCommands
from .faults import FaultKnobs
from .parser import MAX_LINE
from .profiles import get_profile
from .sms_commands import SMSCommands
from .storage import REC_UNREAD, SMSStorage

CTRL_Z = 0x1A
ESC = 0x1B
BACKSPACE = 0x08
OUTBUF_LIMIT = 64 * 1024  # beyond the pty's own buffer: what a host that stopped reading loses



def _luhn_digit(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


class SimulatedModem(FaultKnobs, ATCommands, SMSCommands):
    """A modem with SIM card `number`, answering AT commands on `pty_path` once started.

    time_scale multiplies every delay the profile models (boot, network round trip): 0 in unit tests.
    network: a GSMNetwork (or None: sent SMS are kept in `sent` and nothing arrives).
    """

    def __init__(self, number, profile="sim800l", network=None, log=None, time_scale=1.0, seed=None,
                 sim_capacity=None, transcript_limit=200_000):
        self.number = number
        self.profile = get_profile(profile) if isinstance(profile, str) else profile
        self.network = network
        self.log = log or logging.getLogger("sim.modem")
        self.time_scale = time_scale
        digest = hashlib.sha256(number.encode()).hexdigest()
        digits = "".join(str(int(c, 16) % 10) for c in digest)
        body = (self.profile.imei_prefix + digits)[:14]
        self.imei = body + _luhn_digit(body)
        self.imsi = "61002" + digits[14:24]
        self.iccid = "89223" + digits[24:38]
        self._rng = random.Random(seed if seed is not None else digest)
        caps = dict(self.profile.storages)
        if sim_capacity is not None:
            caps["SM"] = sim_capacity
        # the SIM's and the module's memories survive reboots; SR holds status reports where the model has one
        first = self.profile.first_index
        self.storages = {name: SMSStorage(name, cap, first) for name, cap in caps.items()}
        if '"SR"' in self.profile.cpms_test:
            self.storages.setdefault("SR", SMSStorage("SR", 20, first))
        self.next_mr = 0
        self.sent = []            # SUBMIT TPDUs accepted when there is no network
        # (time.time(), "in" | "out" | "lost", bytes); bounded so a demo running for days keeps its memory
        self.transcript = collections.deque(maxlen=transcript_limit)
        self.faults = {}
        self.rssi = 18
        self.battery_pct, self.battery_mv = 82, 4012
        self.tz_quarters = 0      # Mali: UTC, no daylight saving
        self.operator = self.profile.operator
        self.plmn = "61002"
        self.cell = {
            "mcc": "610", "mnc": "02", "lac": 0x1000 + int(digest[0:3], 16), "ci": int(digest[3:10], 16) & 0xFFFFFFF,
            "bsic": int(digest[10:12], 16) % 64, "arfcn": 1 + int(digest[12:14], 16) % 124,
            "pci": int(digest[14:17], 16) % 504, "band": 3 if self.profile.radio != "LTE-M" else 20,
            "earfcn": 1300 if self.profile.radio != "LTE-M" else 6300,
        }
        self.rat = self.profile.radio  # the A7670E and Quectel modules fall back to GSM (fault "rat")
        self.pty_path = None
        self.power = "off"        # "off", "booting", "on"
        self.state = "command"    # "command", "prompt" (after "> "), "waiting" (network round trip)
        self._lock = threading.RLock()
        self._timers = []
        self._seq = itertools.count()
        self._epoch = 0
        self._master = None
        self._wake = None
        self._thread = None
        self._running = False
        self._outbuf = bytearray()
        self._echo = bytearray()  # echoed input of one read, written before any reply it triggers
        self._ready = threading.Event()
        self._reset_settings()
        self._reset_session()

    # ---- lifecycle ----------------------------------------------------------------------------------------
    def start(self):
        """Open the pty and power the modem on (boot URCs follow after the profile's delays)."""
        master, slave = os.openpty()
        tty.setraw(slave)
        self.pty_path = os.ttyname(slave)
        os.close(slave)  # without a client the master sees POLLHUP: output then goes nowhere, as on a real UART
        os.set_blocking(master, False)
        self._master = master
        self._wake = os.pipe()
        os.set_blocking(self._wake[1], False)  # a full pipe already means "wake up": never block a poker
        self._running = True
        self._thread = threading.Thread(target=self._loop, name="modem-" + self.number, daemon=True)
        self._thread.start()
        with self._lock:
            self._power_on()
        return self

    def stop(self):
        self._running = False
        self._poke()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self._lock:  # forget the fds before closing them: a late _poke must not hit a reused number
            fds = (self._master, *(self._wake or ()))
            self._master = self._wake = None
        for fd in fds:
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- public knobs -----------------------------------------------------------------------------------------
    def power_cycle(self, off_s=1.0):
        """What a PWRKEY pulse (or cutting the supply) does: power off, then boot with the boot URCs."""
        with self._lock:
            self._power_off()
            self._schedule(self._scaled(off_s), self._power_on, "power on", epoch=None)

    def power_key_on(self):
        """A power-key press on a modem that is off (after AT+CPOWD/AT+CPOF): it boots. One that is on or
        booting ignores it here (a real SIM800L would switch off: the firmware only presses it when off)."""
        with self._lock:
            if self.power == "off":
                self._power_on()
                return True
            return False

    def _timeline(self, hop, **fields):
        if self.network is not None:
            self.network.modem_event(self, hop, **fields)

    def wait_ready(self, timeout=30.0):
        """Block until the boot sequence (URCs, registration) is over; False on timeout."""
        return self._ready.wait(timeout)

    def reachable(self):
        """Whether the network can page this modem (powered, booted, registered, radio on, not hung)."""
        with self._lock:
            return (self.power == "on" and self.cfun == 1 and self._registered()
                    and not self.faults.get("hang"))

    def receive_deliver(self, body, smsc):
        """The network hands over an SMS-DELIVER TPDU; True when the mobile acknowledged it (RP-ACK)."""
        with self._lock:
            if not self.reachable():
                return False
            pdu_hex = binascii.hexlify(tpdu.encode_smsc(smsc) + body).decode().upper()
            mode, mt = self.cnmi[0], self.cnmi[1]
            if mt == 2:
                self.unacked_cmt += 1
                if mode:
                    self._send_urc("+CMT: %s,%d" % (self.profile.pdu_alpha, len(body)), pdu_hex)
                return True
            mem_name = self.cpms[2]
            index = self.storages[mem_name].store(REC_UNREAD, pdu_hex, len(body))
            if index is None:
                return False  # TS 23.040: memory capacity exceeded, the SMSC keeps it and retries
            if mode and mt in (1, 3):
                self._send_urc('+CMTI: "%s",%d' % (mem_name, index))
            self._timeline("modem.stored", storage=mem_name, index=index)
            return True

    def receive_status_report(self, body, smsc):
        """An SMS-STATUS-REPORT for a message this modem sent with TP-SRR set."""
        with self._lock:
            if not self.reachable():
                return False
            ds = self.cnmi[3]
            pdu_hex = binascii.hexlify(tpdu.encode_smsc(smsc) + body).decode().upper()
            if ds == 1:
                self._send_urc("+CDS: %d" % len(body), pdu_hex)
            elif ds == 2:
                mem_name = "SR" if "SR" in self.storages else self.cpms[2]
                index = self.storages[mem_name].store(REC_UNREAD, pdu_hex, len(body))
                if index is None:
                    return False
                self._send_urc('+CDSI: "%s",%d' % (mem_name, index))
            return True

    def inject_sms(self, sender, text, timestamp=None):
        """An SMS from `sender` arrives without a network (drivers.pdu encodes it); True when stored or shown."""
        from drivers import pdu as codec
        stamp = timestamp or tuple(time.gmtime()[:6]) + (0,)
        ok = True
        for hex_pdu in codec.encode_deliver(sender, text, stamp, smsc=self.smsc):
            smsc, body = tpdu.split_smsc(binascii.unhexlify(hex_pdu))
            ok = self.receive_deliver(body, smsc) and ok
        return ok

    def inbox(self, storage="SM"):
        """[(index, stat, pdu_hex)] of a storage, for tests and the network's control socket."""
        with self._lock:
            mem = self.storages[storage]
            return [(i, m.stat, m.pdu_hex) for i, m in sorted(mem.slots.items())]

    def transcript_text(self):
        """The transcript as one string (both directions, in order), handy in assertion messages."""
        return "".join("%s %r\n" % (d, b) for _t, d, b in self.transcript)

    # ---- power and settings -----------------------------------------------------------------------------------
    def _reset_settings(self):
        """Volatile settings after power-on, ATZ or AT&F: the profile's defaults."""
        self.echo = True
        self.verbose = True
        self.cmee = self.profile.cmee_default
        self.cmgf = 0
        self.cscs = "IRA" if self.profile.key.startswith("sim") else "GSM"
        self.csms = 0
        self.cnmi = tuple(self.profile.cnmi_default)
        self.csmp = (17, 167, 0, 0)
        self.csdh = 0
        self.reg_n_creg = self.reg_n_cgreg = self.reg_n_cereg = 0
        self.ceng_mode = 0
        self.cpms = ["SM", "SM", "SM"]
        self.cops_format = 0
        self.sregs = {"S0": 0, "S3": 13, "S4": 10, "S5": 8, "S7": 60}

    def _reset_session(self):
        self.cfun = 1
        self.smsc = self.network.smsc if self.network is not None else "+22370000000"
        self.reg_stat = 0
        self.sms_ready = False
        self.state = "command"
        self.line = bytearray()
        self.line_overflow = False
        self.prompt_data = bytearray()
        self.pending = None
        self.held_urcs = []
        self.held_input = bytearray()
        self.unacked_cmt = 0

    def _power_on(self):
        if self.power != "off":
            return
        self.faults.pop("hang", None)
        self._epoch += 1
        self._reset_settings()
        self._reset_session()
        self.power = "booting"
        self.log.info("modem %s (%s): power on", self.number, self.profile.key)
        self._timeline("modem.power_on", profile=self.profile.key)
        last = 0.0
        for delay, line in self.profile.boot_urcs:
            self._schedule(self._scaled(delay), lambda text=line: self._write(b"\r\n" + text.encode() + b"\r\n"),
                           "boot urc")
            last = max(last, delay)
        self._schedule(self._scaled(self.profile.boot_s), self._booted, "booted")
        self._schedule(self._scaled(last), self._boot_registered, "registered")

    def _booted(self):
        self.power = "on"

    def _boot_registered(self):
        self.sms_ready = True  # the last boot URC is "SMS Ready" / "SMS DONE" / "PB DONE"
        if self.cfun == 1 and not self.faults.get("registration_loss"):
            self._set_registration(1)
        self._ready.set()
        if self.network is not None:
            self.network.modem_ready(self)

    def _power_off(self):
        if self.power == "off":
            return
        self._epoch += 1
        self._ready.clear()
        self.power = "off"
        self.reg_stat = 0
        self.faults.pop("hang", None)
        self.line = bytearray()
        self.log.info("modem %s: power off", self.number)
        self._timeline("modem.power_off")

    def _reboot(self, reason):
        """Spontaneous reset (brown-out, watchdog): volatile state lost, boot URCs again."""
        self.log.info("modem %s: reboot (%s)", self.number, reason)
        self._power_off()
        self._power_on()

    def _registration_restore(self):
        self.faults.pop("registration_loss", None)
        if self.power == "on" and self.cfun == 1:
            self._set_registration(1)
            if self.network is not None:
                self.network.modem_ready(self)

    def _set_registration(self, stat=None, rat=None):
        """Change registration and/or radio; each +CREG/+CGREG/+CEREG whose status changed sends its URC."""
        before = {name: self._stat_for(name) for name in self.profile.registration}
        if stat is not None:
            self.reg_stat = stat
        if rat is not None:
            self.rat = rat
        for name in self.profile.registration:
            n = getattr(self, "reg_n_" + name.lstrip("+").lower())
            if n and self._stat_for(name) != before[name]:
                self._send_urc(self._reg_line(name, n, with_n=False))

    def _scaled(self, seconds):
        return seconds * self.time_scale

    # ---- timers -----------------------------------------------------------------------------------------------
    def _schedule(self, delay, fn, label, epoch=0, scaled=True):
        """Run fn on the modem thread after delay seconds (already scaled by the caller unless scaled=False).

        Timers carry the power epoch: a reboot cancels what the previous boot had pending. epoch=None survives.
        """
        with self._lock:
            tag = self._epoch if epoch == 0 else epoch
            heapq.heappush(self._timers, (time.monotonic() + max(0.0, delay), next(self._seq), tag, fn, label))
        self._poke()

    def _run_due_timers(self):
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _when, _seq, tag, fn, label = heapq.heappop(self._timers)
            if tag is not None and tag != self._epoch:
                continue
            try:
                fn()
            except Exception:  # a bug in one timer must not kill the modem thread
                self.log.exception("modem %s: timer %s failed", self.number, label)

    def _poke(self):
        wake = self._wake
        if wake is not None:
            try:
                os.write(wake[1], b"!")
            except OSError:
                pass

    # ---- the thread -------------------------------------------------------------------------------------------
    def _loop(self):
        wake_r = self._wake[0]
        os.set_blocking(wake_r, False)
        while self._running:
            with self._lock:
                timeout = 0.5
                if self._timers:
                    timeout = min(timeout, max(0.0, self._timers[0][0] - time.monotonic()))
                want_out = bool(self._outbuf)
            poller = select.poll()
            poller.register(wake_r, select.POLLIN)
            connected = self._client_connected()
            if connected:
                poller.register(self._master, select.POLLIN | (select.POLLOUT if want_out else 0))
            else:
                timeout = min(timeout, 0.05)  # a HUP pty polls readable forever: re-check for a client instead
            events = poller.poll(timeout * 1000)
            data = b""
            for fd, ev in events:
                if fd == wake_r:
                    try:
                        os.read(wake_r, 4096)
                    except OSError:
                        pass
                elif ev & select.POLLIN:
                    try:
                        data += os.read(self._master, 4096)
                    except OSError:
                        pass
            with self._lock:
                self._run_due_timers()  # a boot that is due happens before the bytes that came meanwhile
                if data:
                    self.transcript.append((time.time(), "in", data))
                    for b in data:
                        self._feed(b)
                    self._flush_echo()
                self._run_due_timers()
                self._flush()

    def _client_connected(self):
        try:
            p = select.poll()
            p.register(self._master, select.POLLIN)
            return not any(ev & select.POLLHUP for _fd, ev in p.poll(0))
        except (OSError, ValueError):
            return False

    def _flush(self):
        if not self._outbuf:
            return
        if not self._client_connected():
            self._outbuf.clear()
            return
        try:
            n = os.write(self._master, bytes(self._outbuf))
            del self._outbuf[:n]
        except BlockingIOError:
            pass
        except OSError:
            self._outbuf.clear()

    # ---- bytes from the host ------------------------------------------------------------------------------------
    def _feed(self, b):
        if self.power != "on" or self.faults.get("hang"):
            return
        if self.state == "prompt":
            if b == CTRL_Z:
                pending, data = self.pending, self.prompt_data.decode("latin-1")
                self.pending, self.prompt_data, self.state = None, bytearray(), "command"
                self._finish_prompt(pending, data)
            elif b == ESC:
                self.pending, self.prompt_data, self.state = None, bytearray(), "command"
                self._send_response([], "OK")
            else:
                if self.echo:
                    self._echo.append(b)
                if len(self.prompt_data) < 2 * 180:
                    self.prompt_data.append(b)
            return
        if self.state == "waiting":
            # the firmware's AT task is blocked on the network: bytes wait in the UART buffer, parsed afterwards
            if len(self.held_input) < 4096:
                self.held_input.append(b)
            return
        if self.echo:
            self._echo.append(b)
        if b == 13:
            line, self.line = self.line.decode("latin-1"), bytearray()
            if self.line_overflow:
                self.line_overflow = False
                self._send_response([], "ERROR")  # longer than the firmware's command buffer
            elif line.strip():
                self._command_line(line)
        elif b == 10:
            return
        elif b == BACKSPACE:
            del self.line[-1:]
        elif len(self.line) < MAX_LINE:
            self.line.append(b)
        else:
            self.line_overflow = True

    def _replay_held_input(self):
        held, self.held_input = bytes(self.held_input), bytearray()
        for b in held:
            self._feed(b)
        self._flush_echo()

    def _command_line(self, line):
        if self.faults.get("no_reply", 0) > 0 and "AT" in line.upper():
            self.faults["no_reply"] -= 1
            self.log.info("modem %s: swallowing %r", self.number, line)
            return
        self._run_command_line(line)

    def _start_prompt(self, pending):
        self.pending = pending
        self.prompt_data = bytearray()
        self.state = "prompt"
        self._write(b"\r\n> ")

    # ---- bytes to the host -----------------------------------------------------------------------------------
    def _send_response(self, lines, final):
        """lines: one list of information lines per command of the command line."""
        if self.verbose:
            data = "".join("\r\n" + "\r\n".join(block) + "\r\n" for block in lines) + "\r\n" + final + "\r\n"
        else:
            code = {"OK": "0", "ERROR": "4"}.get(final)
            data = "".join(line + "\r\n" for block in lines for line in block) \
                + (code + "\r" if code else final + "\r\n")
        out = data.encode("latin-1", "replace")
        if self.faults.get("stray_urc", 0) > 0:
            self.faults["stray_urc"] -= 1
            urc = ("\r\n" + self.faults["stray_urc_text"] + "\r\n").encode()
            cut = out.find(b"\r\n", 2) + 2 if lines else 0
            out = out[:cut] + urc + out[cut:]
        if self.faults.get("stall", 0) > 0:
            self.faults["stall"] -= 1
            out = out[:max(1, len(out) // 2)]
        self._write(out)
        if self.state == "command":
            self._flush_held_urcs()

    def _send_urc(self, *lines):
        text = "\r\n" + "\r\n".join(lines) + "\r\n"
        if self.state != "command":
            self.held_urcs.append(text)  # modems hold URCs until the pending command has its final result
            return
        self._write(text.encode())

    def _flush_held_urcs(self):
        held, self.held_urcs = self.held_urcs, []
        for text in held:
            self._write(text.encode())

    def _flush_echo(self):
        if self._echo:
            echo, self._echo = bytes(self._echo), bytearray()
            self._write(echo, echoed=True)

    def _write(self, data, echoed=False):
        if not echoed:
            self._flush_echo()
        p_drop = self.faults.get("drop_bytes", 0.0)
        p_dup = self.faults.get("duplicate_bytes", 0.0)
        if p_drop or p_dup:
            out = bytearray()
            for b in data:
                if p_drop and self._rng.random() < p_drop:
                    continue
                out.append(b)
                if p_dup and self._rng.random() < p_dup:
                    out.append(b)
            data = bytes(out)
        if self._master is None or not self._client_connected():
            self.transcript.append((time.time(), "lost", data))
            return
        if len(self._outbuf) + len(data) > OUTBUF_LIMIT:
            # a host that stopped reading: its UART receive buffer overflows and the bytes are lost
            self.transcript.append((time.time(), "lost", data))
            return
        self.transcript.append((time.time(), "out", data))
        self._outbuf += data
        if threading.current_thread() is not self._thread:
            self._poke()
