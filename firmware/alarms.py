"""The alarm lifecycle: an alarm is persisted in flash before anything else happens, handed to the uplink, followed
by a POS when it went without a fresh fix, and ends with the hub's receipt; what the hub says of it is felt.

    alarms = Alarms(state, cfg, gps, link, uplink, power, vibrator, battery)
    alarms.raise_alarm("SOS", "GEN")      # -> its counter
    alarms.check_followup()               # every second
    alarms.hub_answered(ack)              # an authenticated ack (drivers.alert.parse_ack)

A duress cancel (a "discreet" event) must feel like a real cancel to a bystander: whatever the hub says of it, or of
an alarm raised before it, is felt as a cancel's receipt is, never as "help has seen you".
"""
from drivers.alert import DISCREET_EVENTS, SILENT_EVENTS, URGENT_EVENTS, encode_alert
from drivers.compat import ticks_add, ticks_diff, ticks_ms, wall_time
from drivers.position import best_position
from firmware.hoplog import log

# Statuses from the hub and what the wearer feels.
STATUS_PATTERN = {"RCV": "received", "ACK": "ack", "DSP": "dispatched"}
# The counter of the last discreet alarm, kept in flash: a reboot between a duress and the operator's answer must
# not let the answer be felt.
DISCREET_FILE = "discreet.json"


class Alarms:
    """`link`: whatever knows the serving cell (its `cell`, or None); `battery`: a function giving the charge in
    percent, or None when it cannot be read."""

    def __init__(self, state, cfg, gps, link, uplink, power, vibrator, battery):
        self.state = state
        self.cfg = cfg
        self.gps = gps
        self.link = link
        self.uplink = uplink
        self.power = power
        self.vibrator = vibrator
        self.battery = battery
        self._followup = None  # (category, deadline ticks) while an alarm waits for its first fix
        # Answers about this counter or an older one are felt as a cancel's receipt. A discreet alarm still pending
        # counts too: the power may have been cut before its counter reached DISCREET_FILE.
        self._discreet_upto = state.flash.read(DISCREET_FILE, 0)
        for alarm in state.pending:
            if alarm["e"] in DISCREET_EVENTS and alarm["n"] > self._discreet_upto:
                self._discreet_upto = alarm["n"]

    def raise_alarm(self, event, category="GEN"):
        """Persist an alarm and hand it to the uplink at once, with the best position there is now. An alarm
        never waits for a fix: when it went without a fresh one, a POS follow-up carries the fix when it comes."""
        now = ticks_ms()
        counter = self.state.next_counter()
        cell = self.link.cell
        position = best_position(self.gps.fix(now), self.gps.last_fix(now), None, cell, now)
        if position["lat"] is None:
            position = None
        fix = self.gps.fix(now)
        device_time = (fix or {}).get("epoch_s") or wall_time()
        text = encode_alert(self.cfg["key"], self.cfg["device_id"], counter, event, category, device_time,
                            position, cell, self.battery())
        summary = {"event": event, "category": category, "cell": cell, "lat": None, "lon": None}
        if position:
            summary.update({"lat": position["lat"], "lon": position["lon"], "acc_m": position["acc_m"],
                            "fix_age_s": position["age_s"]})
        self.state.add({"n": counter, "e": event, "text": text, "tries": 0, "a": summary})
        log("fw.alarm_persisted", n=counter, event=event, category=category,
            fix=position is not None, text=text)
        if event in URGENT_EVENTS and (position is None or position["source"] != "gnss"):
            self._followup = (category, ticks_add(now, self.cfg["followup_s"] * 1000))
        self.power.alarm_raised(event)
        self.uplink.kick()
        if event in DISCREET_EVENTS:  # after the kick: the alarm is on its way before this second write
            self._discreet_upto = counter
            self.state.flash.write(DISCREET_FILE, counter)
        return counter

    def heartbeat(self):
        """An HB ("I am alive", with the battery and the last position): a newer one replaces one not yet sent
        or receipted, so a wearable out of coverage for a day does not queue 24 of them."""
        for alarm in list(self.state.pending):
            if alarm["e"] == "HB":
                self.uplink.receipt(alarm["n"])
        return self.raise_alarm("HB", "GEN")

    def awaiting_fix(self):
        """An alarm went without a fresh fix and its POS follow-up is still to come (the GPS stays on for it)."""
        return self._followup is not None

    def check_followup(self):
        """Send the first fresh fix after an alarm that went without one (called every second)."""
        if self._followup is None:
            return
        category, until = self._followup
        now = ticks_ms()
        if self.gps.fix(now) is not None:
            self._followup = None
            log("fw.followup", n=self.raise_alarm("POS", category))
        elif ticks_diff(now, until) > 0:
            self._followup = None
            log("fw.followup_gave_up", after_s=self.cfg["followup_s"])

    def hub_answered(self, ack):
        """The hub's authenticated answer about one alarm: its receipt (RCV), or what an operator did."""
        if ack["status"] == "RCV" or ack["counter"] <= self._discreet_upto:
            # A receipt, or any answer after a duress: felt as a cancel's receipt is ("received" when it is the first
            # word on a pending alarm, else nothing), so that a bystander cannot tell a duress from a cancel.
            alarm = self.uplink.receipt(ack["counter"])
            if alarm is not None:
                self.power.receipt(alarm["e"])
                if alarm["e"] not in SILENT_EVENTS:
                    self.vibrator.play("received")
            if ack["status"] != "RCV":
                self.power.operator_acted(ack["status"])  # the modem's window: nothing anyone can see
                log("fw.discreet_answer", status=ack["status"], n=ack["counter"], ms=ticks_ms())
            return
        # An operator acted: the alarm is certainly stored, whatever happened to the RCV.
        self.uplink.receipt(ack["counter"])
        self.power.operator_acted(ack["status"])
        pattern = STATUS_PATTERN.get(ack["status"])
        if pattern:
            self.vibrator.play(pattern)
            # ms: the firmware's clock, which the simulator's motor edges also carry.
            log("fw.felt", status=ack["status"], n=ack["counter"], pattern=pattern, ms=ticks_ms())
