"""Fault knobs of the simulated modem: the failures that cost alerts in the field, scriptable per test and at run
time (the network's control socket forwards {"cmd": "fault"} here).

cms_error (code, count)      the next CMGS fail with +CMS ERROR: <code> (38, 41, 42, 500...)
brownout (count)             the next transmission resets the modem (supply dip): no +CMGS, boot URCs
busy (count)                 the next command lines answer +CME ERROR: 515
no_reply (count)             the next command lines are echoed and never answered
stall (count)                the next responses stop half-way
reboot (delay_s)             spontaneous reset: settings lost, boot URCs again
registration_loss (stat, duration_s)   +CREG/+CGREG/+CEREG stat 0/2/3 (URC if enabled), recovery after duration_s
registration_restore         back to registered (home)
rat (rat="GSM")              an LTE module falls back to GSM (+CEREG lost, +CREG AcT 0)
stray_urc (text, count)      a URC lands in the middle of the next response
line_noise (count)           random bytes on the line now
drop_bytes / duplicate_bytes (p)   each byte sent to the host is lost / doubled with probability p
storage_full (storage, full) the storage refuses new SMS (the SMSC keeps them and retries)
hang                         nothing is answered until power_cycle()
sim_absent (absent)          +CPIN? and SIM commands answer +CME ERROR: 10
Counts default to 1, probabilities to 0.1; durations are wall-clock seconds (not scaled by time_scale).
"""

FAULTS = ("cms_error", "brownout", "busy", "rat", "no_reply", "stall", "reboot", "registration_loss",
          "registration_restore", "stray_urc", "line_noise", "drop_bytes", "duplicate_bytes", "storage_full", "hang",
          "sim_absent")


class FaultKnobs:
    def inject(self, fault, **params):
        """Script a failure; see FAULTS. Counts default to 1, probabilities to 0.1; durations are wall seconds."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        count = int(params.get("count", 1))
        with self._lock:
            self.log.info("modem %s: fault %s %s", self.number, fault, params)
            self._timeline("modem.fault", fault=fault, params=params)
            if fault == "cms_error":
                self.faults["cms_error"] = count
                self.faults["cms_error_code"] = int(params.get("code", 500))
            elif fault in ("busy", "no_reply", "stall", "brownout"):
                self.faults[fault] = count
            elif fault == "stray_urc":
                self.faults["stray_urc"] = count
                self.faults["stray_urc_text"] = params.get("text", '+CMTI: "SM",%d' % self.storages["SM"].capacity)
            elif fault in ("drop_bytes", "duplicate_bytes"):
                self.faults[fault] = float(params.get("p", 0.1))
            elif fault == "line_noise":
                noise = bytes(self._rng.randrange(256) for _ in range(int(params.get("count", 16))))
                self._write(noise)
            elif fault == "storage_full":
                name = params.get("storage", "SM")
                self.storages[name].forced_full = bool(params.get("full", True))
            elif fault == "hang":
                self.faults["hang"] = True
            elif fault == "sim_absent":
                self.faults["sim_absent"] = bool(params.get("absent", True))
            elif fault == "reboot":
                self._schedule(float(params.get("delay_s", 0.0)), lambda: self._reboot("spontaneous"), "reboot",
                               epoch=None, scaled=False)
            elif fault == "registration_loss":
                self.faults["registration_loss"] = True
                self._set_registration(int(params.get("stat", 2)))
                duration = params.get("duration_s")
                if duration is not None:
                    self._schedule(float(duration), self._registration_restore, "registration back", epoch=None,
                                   scaled=False)
            elif fault == "rat":
                rat = params.get("rat", "GSM")
                if rat != self.profile.radio and (self.profile.radio == "GSM" or rat != "GSM"):
                    raise ValueError(f"{self.profile.key} cannot switch to {rat}: it has {self.profile.radio} "
                                     "and falls back to GSM only")
                self._set_registration(rat=rat)
            elif fault == "registration_restore":
                self._registration_restore()
        self._poke()

    def clear_faults(self):
        with self._lock:
            self.faults.clear()
            for s in self.storages.values():
                s.forced_full = False
            if self.power == "on" and self.cfun == 1:
                self._set_registration(1, rat=self.profile.radio)
            else:
                self.rat = self.profile.radio

