"""Delivers alarms to the hub by SMS (PDU mode, through drivers.modem) and tells the trusted contacts.

At-least-once: an alarm stays in flash until the hub's authenticated RCV for its counter arrives. Each alarm is
resent every retry_s up to max_tries; after that the uplink escalates (the wearer feels "failed", the contacts
are told the hub is unreachable) and keeps trying every slow_retry_s, because an alarm is never dropped."""
from drivers.alert import CONTACT_EVENTS, STATUS_EVENTS
from drivers.compat import asleep_ms, ticks_add, ticks_diff, ticks_ms
from drivers.human import human_alert_text


class Uplink:
    def __init__(self, modem, state, cfg, log, vibrator):
        self.modem = modem
        self.state = state
        self.cfg = cfg
        self.log = log
        self.vibrator = vibrator
        self._due = {}  # counter -> ticks when next due (not persisted: after a reboot, everything is due)
        self._kick = False
        self.hold = None  # a function: True while sending must wait (no try is counted)
        self.on_sent = None  # a function(alarm) called when the modem took a best-effort message

    def kick(self):
        self._kick = True

    async def run(self):
        while True:
            self._kick = False
            for alarm in list(self.state.pending):
                if self.hold is not None and self.hold():
                    break  # the modem is off on purpose or starting: the power manager brings it up for this
                await self._service(alarm)
            for _ in range(100):  # 1 s, or less when kicked
                if self._kick:
                    break
                await asleep_ms(10)

    async def _service(self, alarm):
        now = ticks_ms()
        due = self._due.get(alarm["n"])
        if due is not None and ticks_diff(due, now) > 0:
            return
        try:
            self.log("fw.sms_sending", n=alarm["n"], tries=alarm["tries"] + 1)
            refs = await self.modem.send_sms(self.cfg["hub_number"], alarm["text"])
        except Exception as exc:  # the modem driver's bounded retries are over: try again later
            self.log("fw.sms_failed", n=alarm["n"], error=repr(exc))
            refs = None
        alarm["tries"] += 1
        self.state.save_pending()
        if refs is not None:
            self.log("fw.sms_sent", n=alarm["n"], refs=refs, to="hub")
        if alarm["e"] in STATUS_EVENTS:
            # Telemetry: done once the modem has taken it (the hub's receipt may come with the next heartbeat),
            # dropped after max_tries (the hub's silence watchdog tells staff). It never holds the modem on in a
            # coverage hole, and it never escalates to the wearer or the contacts: only alarms do.
            if refs is not None or alarm["tries"] >= self.cfg["max_tries"]:
                self.receipt(alarm["n"])
                if refs is None:
                    self.log("fw.telemetry_dropped", n=alarm["n"], event=alarm["e"], tries=alarm["tries"])
                elif self.on_sent is not None:
                    self.on_sent(alarm)
            else:
                self._due[alarm["n"]] = ticks_add(ticks_ms(), self.cfg["retry_s"] * 1000)
            return
        # The hub first (it is the one that gets help moving), then the people who know the wearer.
        if not alarm.get("contacts_done") and alarm["e"] in CONTACT_EVENTS and self.cfg["contacts"]:
            await self._tell_contacts(alarm)
        if alarm["tries"] >= self.cfg["max_tries"]:
            if not alarm.get("escalated"):
                alarm["escalated"] = True
                self.state.save_pending()
                self.log("fw.escalate", n=alarm["n"], reason="no receipt from the hub")
                self.vibrator.play("failed")
                await self._tell_contacts(alarm, unreachable=True)
            delay_s = self.cfg["slow_retry_s"]
        else:
            delay_s = self.cfg["retry_s"]
        self._due[alarm["n"]] = ticks_add(ticks_ms(), delay_s * 1000)

    async def _tell_contacts(self, alarm, unreachable=False):
        failed = False
        for contact in self.cfg["contacts"]:
            text = human_alert_text(self.cfg["wearer"], alarm["a"], contact["lang"])
            if unreachable:
                text = ("(central injoignable) " if contact["lang"] != "en" else "(hub unreachable) ") + text
            try:
                await self.modem.send_sms(contact["phone"], text)
                self.log("fw.contact_sms", n=alarm["n"], to=contact["phone"])
            except Exception as exc:
                failed = True
                self.log("fw.contact_sms_failed", n=alarm["n"], to=contact["phone"], error=repr(exc))
        if not unreachable and not failed:
            alarm["contacts_done"] = True
            self.state.save_pending()

    def receipt(self, counter):
        """The hub stored this alarm: forget it."""
        alarm = self.state.remove(counter)
        self._due.pop(counter, None)
        return alarm
