"""Power: the modem off between heartbeats, the microcontroller asleep whenever nothing is going on.

The budget (`deme power`, hardware/<build>/power.json) says where the battery goes: a registered modem draws more
than everything else together, so in the "gated" mode (the default) the modem is switched off by its model's
power-down command (it detaches first: the network keeps the hub's SMS at the SMS centre) and switched on again
for every alarm, every heartbeat and whatever is still pending. It stays on

- while any alarm is in flash without the hub's receipt (a heartbeat included);
- after an alarm for `alarm_listen_s`, or until an operator dispatches help or resolves it (what the wearer feels
  comes by SMS: the modem must be there to take it; the dispatch usually follows the acknowledgement within
  minutes, and the wearer must not wait for the next heartbeat to feel that help is on its way);
- after a heartbeat's receipt for `listen_s`, so that what waited at the SMS centre comes in;
- from the moment a press has lasted PRESS_WARM_MS: it is probably becoming the long press (SOS), and the
  modem's boot and registration (about 10 s) then overlap its last 1.5 s instead of following it. A held press
  that raises nothing costs one modem start and stop, as a heartbeat does (`deme power --presses-per-day`).

In between, when the button, the motion detector, the vibrator, the GPS and every cancel window are quiet, the
board sleeps (`board.sleep(ms, rtc)`: dormant on build A, woken by the RTC's timer for the next heartbeat, the
button or the accelerometer's motion interrupt). Sleeping blocks everything, on purpose: that is what the chip
does. "always" keeps the modem registered (the hub reaches the wearable at once; about a third of the battery
life) and never sleeps the microcontroller, whose UART must then catch every incoming SMS.
"""
from drivers.alert import URGENT_EVENTS
from drivers.compat import asleep_ms, ticks_add, ticks_diff, ticks_ms

TICK_MS = 250
MAX_SLEEP_MS = 15 * 60 * 1000  # wake at least this often: the PCF8563 timer and lightsleep(ms) both reach it
MIN_SLEEP_MS = 2000  # a shorter nap is not worth the wake-up
QUIET_MS = 500  # the board sleeps only after this long without a reason to stay awake
START_TRIES = 3  # modem start attempts before a power cycle; every later round retries (an alarm waits)
LOWBAT_REARM = 10  # percent above lowbat_percent at which a new LOWBAT may be sent (after charging)
# A knock, a grab or a pattern's tap lasts under about 300 ms; the long press lasts long_press_ms (2 s). From
# 500 ms on, a press is taken as a coming SOS: most of its hold is gained, taps and knocks cost nothing.
PRESS_WARM_MS = 500
PRESS_GRACE_S = 2  # the window outlasts the long press by this much (the decoder's polling, a slow release)


def _nolog(hop, **detail):
    pass


class PowerManager:
    """`app`: the firmware App (its board, modem, uplink state, and `quiet()`/`heartbeat()`); `rtc`: a started
    drivers.rtc.pcf8563.PCF8563 or None (the board then sleeps on its own timer)."""

    def __init__(self, app, cfg, log=None, rtc=None):
        self.app = app
        self.board = app.board
        self.modem = app.modem
        self.cfg = cfg
        self.log = log or _nolog
        self.rtc = rtc
        self.mode = cfg["modem_mode"]
        self.heartbeat_ms = cfg["heartbeat_s"] * 1000
        self._next_hb = None
        self._listen_until = None
        self._quiet_since = None
        self.switching = False
        self.powered = True  # the modem task switches it on at boot
        self._on_since = ticks_ms()
        self._lowbat_sent = False
        self._cell_due = False  # the serving cell to read once the modem is up and what was pending has gone
        self._pressed = False  # the button opened the listen window that switches the modem on

    # -- what the app tells us --------------------------------------------------------------------------------
    def listen(self, seconds, now=None):
        """Keep the modem on for at least `seconds` more."""
        now = ticks_ms() if now is None else now
        until = ticks_add(now, seconds * 1000)
        if self._listen_until is None or ticks_diff(until, self._listen_until) > 0:
            self._listen_until = until

    def button_held(self, held_ms, now=None):
        """The wearer has been pressing for held_ms: past PRESS_WARM_MS, with the modem off, want it until the
        press could have become the long press; the alarm raised by then keeps it on as pending."""
        if self.mode != "gated" or self.powered or held_ms < PRESS_WARM_MS:
            return
        if not self.switching:
            self._pressed = True  # for the log: why the modem came on (while it is already coming, it is not)
        self.listen(self.cfg["long_press_ms"] // 1000 + PRESS_GRACE_S, now)

    def alarm_raised(self, event):
        if event in URGENT_EVENTS:  # help is coming: the wearer must feel it; the rest only need their receipt
            self.listen(self.cfg["alarm_listen_s"])

    def receipt(self, event):
        """A heartbeat went (the modem took it) or the hub receipted one: what waited at the SMS centre for us
        comes in within listen_s."""
        if event == "HB":
            self.listen(self.cfg["listen_s"])

    def operator_acted(self, status):
        """An operator acted on an alarm (status ACK, DSP or RES). After an acknowledgement the dispatch is still to
        come: the alarm's window stays open. After a dispatch or a resolution, what else may come can wait until
        the next heartbeat: listen_s more."""
        if status == "ACK":
            return
        self._listen_until = ticks_add(ticks_ms(), self.cfg["listen_s"] * 1000)

    # -- decisions --------------------------------------------------------------------------------------------
    def wants_modem(self, now):
        if self.mode == "always" or self.app.state.pending:
            return True
        return self._listen_until is not None and ticks_diff(self._listen_until, now) > 0

    def can_sleep(self, now):
        """With the modem off; or with it on, when its RI line can wake the board for an incoming SMS and nothing
        waits to be sent (a retry is a timer that must run)."""
        if not self.cfg["sleep"] or self.switching:
            return False
        if self.powered and (self.board.modem_ri is None or self.app.state.pending or not self.modem.link_up):
            return False
        if not self.app.quiet(now):
            self._quiet_since = None
            return False
        if self._quiet_since is None:
            self._quiet_since = now
        return ticks_diff(now, self._quiet_since) >= QUIET_MS

    # -- the task ---------------------------------------------------------------------------------------------
    async def run(self):
        self._next_hb = ticks_ms()  # a heartbeat at boot: the installer sees the wearable arrive at the hub
        while True:
            now = ticks_ms()
            if ticks_diff(now, self._next_hb) >= 0:
                self._next_hb = ticks_add(now, self.heartbeat_ms)
                self._heartbeat()
            if self.mode == "gated" and not self.switching:
                want = self.wants_modem(now)
                if want and not self.powered:
                    await self._modem_up()
                elif not want and self.powered and self.modem.link_up:
                    await self._modem_down()
            if self._cell_due and self.powered and self.modem.link_up and not self.app.state.pending:
                self._cell_due = False
                refresh = getattr(self.app, "refresh_cell", None)
                if refresh is not None:
                    await refresh()  # the cell the next alarm raised with the modem off will carry
            now = ticks_ms()
            if self.can_sleep(now):
                self._sleep(now)
            await asleep_ms(TICK_MS)

    def _heartbeat(self):
        battery = self.app.battery()
        low = self.cfg["lowbat_percent"]
        if battery is not None and low:
            if battery <= low and not self._lowbat_sent:
                self._lowbat_sent = True
                self.log("fw.lowbat", battery=battery)
                self.app.raise_alarm("LOWBAT", "GEN")
            elif battery >= low + LOWBAT_REARM:
                self._lowbat_sent = False
        self.app.heartbeat()

    async def _modem_up(self):
        self.switching = True
        started = ticks_ms()
        try:
            self.log("fw.modem_power", on=True, reason=self._reason())
            power = self.board.modem_power
            for attempt in range(1, START_TRIES + 1):
                if power is not None:
                    if attempt == START_TRIES:
                        await power.cycle()
                    else:
                        await power.on()
                try:
                    await self.modem.start(self.cfg["sim_pin"])
                    self.powered = True
                    self._on_since = ticks_ms()
                    self.log("fw.modem_ready", info=self.modem.info.get("model"),
                             after_ms=ticks_diff(ticks_ms(), started))
                    self._cell_due = True
                    return
                except Exception as exc:  # no answer yet, SIM busy: bounded, then the next round tries again
                    self.log("fw.modem_start_failed", error=repr(exc), tries=attempt)
                    await asleep_ms(1000)
        finally:
            self.switching = False

    async def _modem_down(self):
        self.switching = True
        try:
            by_command = await self.modem.power_down()
            power = self.board.modem_power
            if power is not None:
                if not by_command:
                    await power.off()  # the power key, held: an orderly switch-off without a command
                await power.cut()  # the supply switch, where the board has one
            self.powered = False
            self.log("fw.modem_power", on=False, by_command=by_command,
                     was_on_ms=ticks_diff(ticks_ms(), self._on_since))
        finally:
            self.switching = False

    def _reason(self):
        pressed, self._pressed = self._pressed, False
        if self.app.state.pending:
            return "pending"
        return "press" if pressed else "listen"

    def _sleep(self, now):
        ms = ticks_diff(self._next_hb, now)
        if self.powered and self.mode == "gated" and self._listen_until is not None:
            left = ticks_diff(self._listen_until, now)
            if left < ms:
                ms = left  # wake to switch the modem off when its listening time is over
        if ms > MAX_SLEEP_MS:
            ms = MAX_SLEEP_MS
        if ms < MIN_SLEEP_MS:
            return
        motion = self.app.motion
        if motion is not None:
            motion.prepare_sleep()
        woke = self.board.sleep(ms, self.rtc, ri=self.powered)
        slept = ticks_diff(ticks_ms(), now)
        if woke == "ri":
            # An SMS came while the UART was not listening: its +CMTI may be lost, the SIM still holds it.
            self.modem.check_stored()
        if motion is not None:
            motion.after_wake()
        self._quiet_since = None
        self.log("fw.sleep", ms=slept, asked_ms=ms, woke=woke)
