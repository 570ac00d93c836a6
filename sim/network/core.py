"""A simulated GSM network: an SMSC that routes SMS between simulated modems.

The SMSC relays what the sender's modem submitted (DCS, UDH and user data untouched) into an SMS-DELIVER stamped
with its own time, after a random delay; parts of a concatenated SMS travel independently (so they may arrive out
of order); a message for an unreachable mobile (off, unregistered, storage full) waits and is retried; a message
for a number nobody has fails with a status report. Every hop is a JSON event with a wall-clock time.
"""
import binascii
import json
import logging
import random
import threading
import time

from sim.modem import SimulatedModem, tpdu

# TS 23.040 9.2.3.15 TP-Status
ST_DELIVERED = 0x00
ST_INCOMPATIBLE_DESTINATION = 0x41
ST_VALIDITY_EXPIRED = 0x46
NETWORK_FAULTS = ("congestion", "outage")


class GSMNetwork:
    """Routes SMS between the modems added with add_modem().

    delay_s: a number or (low, high) seconds from SMSC acceptance to delivery; 0 in unit tests.
    loss: probability that the SMSC silently loses a message. seed: makes delays and losses reproducible.
    time_scale: passed to the modems (their boot and +CMGS round-trip timings).
    retry_s: how often the SMSC retries a message for an unreachable mobile (also retried when it registers).
    unknown: "fail" (status report 0x41 to a sender that asked) or "pending" (kept until that number appears).
    """

    def __init__(self, delay_s=(1.0, 3.0), loss=0.0, seed=None, smsc="+22370000000", log=None, timeline_path=None,
                 time_scale=1.0, retry_s=10.0, unknown="fail", tz_quarters=0, validity_s=3 * 24 * 3600):
        self.delay_s = delay_s
        self.loss = loss
        self.smsc = smsc
        self.log = log or logging.getLogger("sim.network")
        self.timeline_path = timeline_path
        self.time_scale = time_scale
        self.retry_s = retry_s
        self.unknown = unknown
        self.tz_quarters = tz_quarters
        self.validity_s = validity_s
        self.modems = {}
        self.events = []
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._pending = []   # messages waiting for their mobile
        self._faults = {}    # network fault -> monotonic end time or None
        self._concat_ref = 0  # for texts typed with send(): a phone numbers its concatenated messages
        self._thread = None
        self._running = False

    # ---- lifecycle -------------------------------------------------------------------------------------------
    def add_modem(self, number, profile="sim800l", **kwargs):
        """A SIM card with this number in a simulated modem of this profile (started now if the network runs)."""
        if number in self.modems:
            raise ValueError(f"number {number} is already on the network")
        kwargs.setdefault("time_scale", self.time_scale)
        modem = SimulatedModem(number, profile=profile, network=self, log=self.log, **kwargs)
        self.modems[number] = modem
        if self._running:
            modem.start()
        self._event("network.attach", number=number, profile=modem.profile.key)
        return modem

    def start(self):
        self._running = True
        self._thread = threading.Thread(target=self._loop, name="gsm-network", daemon=True)
        self._thread.start()
        for modem in self.modems.values():
            if modem.pty_path is None:
                modem.start()
        return self

    def stop(self):
        with self._cond:
            self._running = False
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        for modem in self.modems.values():
            modem.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- what the modems call -----------------------------------------------------------------------------------
    def submit(self, modem, body, mr):
        """The SMSC receives an SMS-SUBMIT from `modem` (called from its thread). None, or a +CMS error code."""
        try:
            sub = tpdu.parse_submit(body)
        except tpdu.TPDUError:
            return 304
        return self._accept(modem.number, sub, body, mr)

    def modem_ready(self, modem):
        """A mobile registered (boot, coverage back): page it now for what is waiting."""
        with self._cond:
            for msg in self._pending:
                if msg["to"] == modem.number:
                    msg["due"] = 0.0
            self._cond.notify_all()

    # ---- control -----------------------------------------------------------------------------------------------
    def send(self, sender, to, text, status_report=False):
        """An SMS typed on `sender`'s phone (a contact replying, an operator's test): encoded by drivers.pdu."""
        from drivers import pdu as codec
        refs = []
        with self._lock:
            self._concat_ref = (self._concat_ref + 1) % 256
            concat_ref = self._concat_ref
        for hex_pdu, _length in codec.encode_submit(to, text, status_report=status_report, concat_ref=concat_ref):
            _smsc, body = tpdu.split_smsc(binascii.unhexlify(hex_pdu))
            modem = self.modems.get(sender)
            if modem is not None:
                with modem._lock:
                    mr = modem.next_mr
                    modem.next_mr = (mr + 1) % 256
            else:
                mr = len(refs)
            body = body[:1] + bytes([mr]) + body[2:]
            error = self._accept(sender, tpdu.parse_submit(body), body, mr)
            if error is not None:
                raise RuntimeError(f"SMSC refused the message: +CMS ERROR {error}")
            refs.append(mr)
        return refs

    def inbox(self, number, storage="SM"):
        """What the mobile's storage holds, decoded: [{index, stat, pdu, type, number, text, timestamp, concat}]."""
        from drivers import pdu as codec
        modem = self.modems[number]
        out = []
        for index, stat, pdu_hex in modem.inbox(storage):
            item = {"index": index, "stat": stat, "pdu": pdu_hex}
            try:
                d = codec.decode(pdu_hex, has_smsc=True)
                item.update({k: d.get(k) for k in ("type", "number", "text", "timestamp", "concat", "status",
                                                   "reference")})
            except codec.PDUError as exc:
                item["error"] = str(exc)
            out.append(item)
        return out

    def inject(self, fault, duration_s=None):
        """A network-wide failure: "congestion" (the SMSC refuses submissions with RP cause 42) or "outage"
        (refused with cause 38 and nothing delivered), for duration_s wall seconds or until clear_faults()."""
        if fault not in NETWORK_FAULTS:
            raise ValueError(f"unknown network fault {fault!r}; known: {', '.join(NETWORK_FAULTS)}")
        with self._cond:
            until = None if duration_s is None else time.monotonic() + float(duration_s)
            self._faults[fault] = until
            self._event("network.fault", fault=fault, duration_s=duration_s)
            self._cond.notify_all()

    def clear_faults(self):
        with self._cond:
            self._faults.clear()
            self._event("network.fault_cleared")
            for msg in self._pending:
                msg["due"] = min(msg["due"], 0.0)
            self._cond.notify_all()

    def _active(self, fault):
        if fault not in self._faults:
            return False
        until = self._faults[fault]
        if until is not None and time.monotonic() >= until:
            del self._faults[fault]
            return False
        return True

    def _refusal(self):
        """The RP cause the SMSC answers a submission with now, or None (TS 24.011 8.2.5.4)."""
        if self._active("outage"):
            return 38
        if self._active("congestion"):
            return 42
        return None

    def fast_forward(self, seconds):
        """Age what the SMSC holds by `seconds` and retry it now (validity periods without waiting days)."""
        with self._cond:
            for msg in self._pending:
                msg["accepted"] -= seconds
                msg["due"] = 0.0
            self._cond.notify_all()

    def modem_event(self, modem, hop, **fields):
        """A modem-side hop for the timeline (boot, fault, SMS stored, status report shown)."""
        self._event(hop, number=modem.number, **fields)

    def events_since(self, since=0.0):
        with self._lock:
            return [e for e in self.events if e["t"] > since]

    def wait_event(self, hop, timeout=10.0, **match):
        """Block until an event with this hop (and these fields) is logged; returns it, or None on timeout."""
        found = self.wait_events(hop, 1, timeout, **match)
        return found[0] if found else None

    def wait_events(self, hop, count, timeout=10.0, **match):
        """Block until `count` matching events are logged; returns them (fewer on timeout)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [e for e in self.events if e["hop"] == hop and all(e.get(k) == v for k, v in match.items())]
                remaining = deadline - time.monotonic()
                if len(found) >= count or remaining <= 0:
                    return found[:count] if len(found) >= count else found
                self._cond.wait(remaining)

    # ---- the SMSC ----------------------------------------------------------------------------------------------
    def _accept(self, sender, sub, body, mr):
        text = _decode_text(body)
        now = time.time()
        with self._cond:
            refusal = self._refusal()
            if refusal is not None:
                self._event("network.refused", **{"from": sender, "to": sub["number"], "ref": mr,
                                                  "cause": refusal, "text": text})
                return refusal
            self._event("network.submit", **{"from": sender, "to": sub["number"], "ref": mr,
                                             "concat": list(sub["concat"]) if sub["concat"] else None,
                                             "status_report": sub["status_report"], "text": text})
            if self.loss and self._rng.random() < self.loss:
                self._event("network.lost", **{"from": sender, "to": sub["number"], "ref": mr})
                return None
            msg = {"from": sender, "to": sub["number"], "ref": mr, "submit": sub, "accepted": now,
                   "scts": self._stamp(now), "due": time.monotonic() + self._delay(), "attempts": 0,
                   "kind": "deliver"}
            self._pending.append(msg)
            self._cond.notify_all()
        return None

    def _delay(self):
        d = self.delay_s
        if isinstance(d, (int, float)):
            return float(d)
        low, high = d
        return self._rng.uniform(low, high) if high > low else float(low)

    def _stamp(self, t):
        g = time.gmtime(t + self.tz_quarters * 900)
        return (g.tm_year, g.tm_mon, g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec, self.tz_quarters)

    def _loop(self):
        while True:
            with self._cond:
                if not self._running:
                    return
                now = time.monotonic()
                if self._active("outage"):  # nothing moves; retry when it ends (or is cleared)
                    self._cond.wait(0.05)
                    continue
                due = sorted((m for m in self._pending if m["due"] <= now), key=lambda m: m["due"])
                for m in due:
                    self._pending.remove(m)
                if not due:
                    nxt = min((m["due"] for m in self._pending), default=now + 0.5)
                    self._cond.wait(max(0.001, min(0.5, nxt - now)))
                    continue
            for msg in due:  # outside the lock: delivering takes the destination modem's lock
                self._attempt(msg)

    def _attempt(self, msg):
        msg["attempts"] += 1
        validity = self.validity_s
        if msg["kind"] == "deliver" and msg["submit"].get("validity_s") is not None:
            validity = min(validity, msg["submit"]["validity_s"])  # the sender's TP-VP, capped by the SMSC's
        if time.time() - msg["accepted"] > validity:
            self._fail(msg, ST_VALIDITY_EXPIRED, "validity expired")
            return
        dest = self.modems.get(msg["to"])
        if msg["kind"] == "status-report":
            ok = dest is not None and dest.receive_status_report(msg["body"], self.smsc)
            if ok:
                self._event("network.status_report", **{"from": msg["from"], "to": msg["to"], "ref": msg["ref"],
                                                        "status": msg["status"]})
            else:
                self._retry(msg, "sender unreachable")
            return
        if dest is None:
            if self.unknown == "pending":
                self._retry(msg, "unknown number")
            else:
                self._fail(msg, ST_INCOMPATIBLE_DESTINATION, "unknown number")
            return
        sub = msg["submit"]
        deliver = tpdu.build_deliver(msg["from"], sub, msg["scts"], status_report_indication=sub["status_report"])
        if dest.receive_deliver(deliver, self.smsc):
            self._event("network.deliver", **{"from": msg["from"], "to": msg["to"], "ref": msg["ref"],
                                              "concat": list(sub["concat"]) if sub["concat"] else None,
                                              "attempts": msg["attempts"]})
            if sub["status_report"]:
                self._report(msg, ST_DELIVERED)
        else:
            reason = "storage full" if dest.reachable() else "unreachable"
            self._retry(msg, reason)

    def _retry(self, msg, reason):
        with self._cond:
            msg["due"] = time.monotonic() + self.retry_s
            self._pending.append(msg)
            self._event("network.pending", **{"from": msg["from"], "to": msg["to"], "ref": msg["ref"],
                                              "reason": reason, "kind": msg["kind"]})

    def _fail(self, msg, status, reason):
        self._event("network.failed", **{"from": msg["from"], "to": msg["to"], "ref": msg["ref"], "reason": reason,
                                         "status": status})
        if msg["kind"] == "deliver" and msg["submit"]["status_report"]:
            self._report(msg, status)

    def _report(self, msg, status):
        body = tpdu.build_status_report(msg["ref"], msg["to"], msg["scts"], self._stamp(time.time()), status)
        report = {"from": msg["to"], "to": msg["from"], "ref": msg["ref"], "kind": "status-report", "body": body,
                  "status": status, "accepted": time.time(), "due": time.monotonic() + self._delay() / 2,
                  "attempts": 0}
        with self._cond:
            self._pending.append(report)
            self._cond.notify_all()

    def _event(self, hop, **fields):
        event = {"t": time.time(), "hop": hop, **fields}
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()
            if self.timeline_path:
                with open(self.timeline_path, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(event) + "\n")
        self.log.debug("%s", event)
        return event


def _decode_text(body):
    """The text of a SUBMIT for the timeline (None when drivers.pdu cannot read it)."""
    try:
        from drivers import pdu as codec
        return codec.decode("00" + binascii.hexlify(body).decode(), has_smsc=True).get("text")
    except Exception:  # the timeline must never stop routing; the codec has its own tests
        return None
