"""The wearable's application: triggers -> alarm (persisted first) -> uplink, and the hub's acks -> vibration.

Everything physical comes from the board (firmware/board.py on the device, sim/device/board.py in the
simulator); the same code runs in both."""
# ruff: noqa: E402  (the collector is tuned before the other modules load)
import gc

# Collect after every 8 kB allocated instead of only when the heap is exhausted, from before the modules load: the
# garbage made while they load is reclaimed at once and the code and long-lived objects stay packed at the bottom
# of the heap. Without it, the simulator's 256 kB heap ended with 36 kB free in holes of at most 1.1 kB and the GPS
# task died on a 656-byte allocation; with it the largest hole is about 17 kB (docs/motion-firmware.md).
gc.threshold(8192)  # type: ignore[attr-defined]  # MicroPython-only

import json

from drivers.alert import SILENT_EVENTS, URGENT_EVENTS, ProtocolError, encode_alert, looks_like_ack, parse_ack
from drivers.button import ButtonDecoder
from drivers.compat import asleep_ms, ticks_add, ticks_diff, ticks_ms, wall_time
from drivers.gps import GPS
from drivers.modem import Modem
from drivers.position import best_position
from firmware.flashstore import AlarmState
from firmware.motion import MotionTask
from firmware.power import PowerManager
from firmware.uplink import Uplink
from firmware.vibration import Vibrator

BUTTON_POLL_MS = 10
PREALARM_REPEAT_MS = 5000  # the fall pre-alarm buzzes again this often until it is cancelled or sent
# Statuses from the hub and what the wearer feels.
STATUS_PATTERN = {"RCV": "received", "ACK": "ack", "DSP": "dispatched"}


def build_imu(board):
    """The accelerometer driver for board.imu_model on board.i2c (not started), or None when the board has none."""
    if not board.imu_model or board.i2c is None:
        return None
    from drivers.imu import build

    return build(board.i2c, board.imu_model, address=board.imu_address, range_g=8, rate_hz=100)


def build_rtc(board):
    """The external RTC's driver (started), or None when the board has none or it does not answer (the board then
    sleeps on its own timer, which costs more: logged by the caller)."""
    if not getattr(board, "rtc_model", None) or board.i2c is None:
        return None
    if board.rtc_model not in ("PCF8563", "BM8563"):  # the BM8563 is register-compatible
        raise ValueError("no driver for the RTC %r" % (board.rtc_model,))
    from drivers.rtc.pcf8563 import PCF8563

    return PCF8563(board.i2c, address=board.rtc_address or 0x51).start()


def log(hop, **detail):
    """One JSON line per hop on the console (the simulator timestamps it; on a device it goes to the REPL)."""
    detail["hop"] = hop
    try:
        print("@@ " + json.dumps(detail))
    except Exception:
        print("@@ " + json.dumps({"hop": hop}))


class App:
    def __init__(self, board, cfg, flash, modem=None, gps=None):
        self.board = board
        self.cfg = cfg
        self.state = AlarmState(flash)
        self.vibrator = Vibrator(board.motor, on_play=lambda name: log("fw.vibrate", pattern=name))
        self.modem = modem or Modem(board.modem_uart, power=board.modem_power, model=cfg["modem_model"],
                                    on_event=self._modem_event)
        self.gps = gps or GPS()
        self.buttons = ButtonDecoder(long_ms=cfg["long_press_ms"], patterns=cfg["patterns"])
        self.uplink = Uplink(self.modem, self.state, cfg, log, self.vibrator)
        self.cell = None
        self.gps_on = True
        self._cancel_until = None
        self._last_alarm = None
        self._followup = None  # (category, deadline ticks) while an alarm waits for its first fix
        self._ttff_logged = False
        # Fall pre-alarm: open until _fall_until; a press cancels it, and the rest of that press (a cancel hold,
        # a duress tap) is absorbed until the button has been released for longer than a pattern gap.
        self._fall_until = None
        self._fall_buzz = 0
        self._fall_gesture = False
        self._fall_released = None
        self.motion = None
        self._no_motion = None
        try:
            imu = build_imu(board)
        except Exception as exc:
            imu = None
            self._no_motion = repr(exc)
        if imu is not None:
            self.motion = MotionTask(imu, on_shake=self.on_shake, on_fall=self.on_fall_prealarm, log=log,
                                     sensitivity=cfg["shake_sensitivity"])
        elif self._no_motion is None:
            self._no_motion = "the board has no accelerometer"
        rtc = None
        try:
            rtc = build_rtc(board)
        except Exception as exc:
            log("fw.rtc_failed", error=repr(exc))
        self.power = PowerManager(self, cfg, log=log, rtc=rtc)
        self.uplink.hold = lambda: self.power.switching or getattr(self.modem, "parked", False)
        self.uplink.on_sent = lambda alarm: self.power.receipt(alarm["e"])

    # -- alarms ------------------------------------------------------------------------------------------
    def raise_alarm(self, event, category="GEN"):
        """Persist an alarm and hand it to the uplink at once, with the best position there is now. An alarm
        never waits for a fix: when it went without a fresh one, a POS follow-up carries the fix when it comes."""
        now = ticks_ms()
        counter = self.state.next_counter()
        position = best_position(self.gps.fix(now), self.gps.last_fix(now), None, self.cell, now)
        if position["lat"] is None:
            position = None
        fix = self.gps.fix(now)
        device_time = (fix or {}).get("epoch_s") or wall_time()
        battery = self.battery()
        text = encode_alert(self.cfg["key"], self.cfg["device_id"], counter, event, category, device_time,
                            position, self.cell, battery)
        summary = {"event": event, "category": category, "cell": self.cell, "lat": None, "lon": None}
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
        return counter

    def heartbeat(self):
        """An HB ("I am alive", with the battery and the last position): a newer one replaces one not yet sent
        or receipted, so a wearable out of coverage for a day does not queue 24 of them."""
        for alarm in list(self.state.pending):
            if alarm["e"] == "HB":
                self.uplink.receipt(alarm["n"])
        return self.raise_alarm("HB", "GEN")

    def quiet(self, now):
        """Nothing needs the microcontroller awake: no gesture, cancel window, fall pre-alarm, follow-up,
        vibration, GPS or movement in progress."""
        if self.buttons.busy() or self.board.button.pressed():
            return False
        if self._cancel_until is not None or self._fall_until is not None or self._fall_gesture:
            return False
        if self._followup is not None or self.vibrator.busy() or self.gps_on:
            return False
        return self.motion is None or self.motion.still(now)

    async def gps_power_task(self):
        """The receiver draws tens of mA while on: on at boot until a fix, then standby; it wakes every
        gps_refresh_s to keep its almanac and a recent last fix, and at once for an alarm, staying on while a
        follow-up waits for its fix (a hot start takes seconds)."""
        uart = self.board.gps_uart
        model = self.board.gps_model
        on = True
        self.gps_on = True
        since = ticks_ms()
        self.gps.wake(since)
        while True:
            await asleep_ms(1000)
            now = ticks_ms()
            if on:
                fixed = self.gps.fix(now) is not None
                if fixed and self.gps.ttff_ms is not None and not self._ttff_logged:
                    self._ttff_logged = True
                    log("fw.gps_fix", ttff_ms=self.gps.ttff_ms)
                on_for = ticks_diff(now, since)
                done = fixed and on_for >= self.cfg["gps_on_s"] * 1000
                if self._followup is None and (done or on_for >= self.cfg["gps_max_on_s"] * 1000):
                    self.gps.sleep(now, uart, model)
                    on = False
                    self.gps_on = False
                    since = now
                    log("fw.gps_standby", fix=fixed)
            elif self._followup is not None or (self.cfg["gps_refresh_s"] and
                                                ticks_diff(now, since) >= self.cfg["gps_refresh_s"] * 1000):
                self.gps.wake(now, uart, model)
                self._ttff_logged = False
                on = True
                self.gps_on = True
                since = now
                log("fw.gps_wake", reason="alarm" if self._followup is not None else "refresh")

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

    def battery(self):
        try:
            return self.board.battery_percent()
        except Exception:
            return None

    def on_button_event(self, event):
        kind = event[0]
        log("fw.button", kind=kind, arg=event[1])
        if kind == "sos":
            self.vibrator.play("pressed")
            self._last_alarm = self.raise_alarm("SOS", "GEN")
            self._open_cancel_window()
        elif kind == "category":
            self.vibrator.play("pressed")
            self._last_alarm = self.raise_alarm("SOS", event[1])
            self._open_cancel_window()
        elif kind in ("cancel", "duress"):
            # Identical feel for both: a bystander must not tell a duress cancel from a real one.
            self.vibrator.play("cancelled")
            self.raise_alarm("CAN" if kind == "cancel" else "DUR")
            self._close_cancel_window()

    def _open_cancel_window(self):
        self._cancel_until = ticks_add(ticks_ms(), self.cfg["cancel_window_s"] * 1000)
        self.buttons.cancel_window(True)

    def _close_cancel_window(self):
        self._cancel_until = None
        self._sync_cancel_window()

    def _sync_cancel_window(self):
        # The decoder's window stays open while an SOS or a fall pre-alarm can be cancelled, or a fall-cancelling
        # press is still going on (so its hold cannot turn into an SOS).
        self.buttons.cancel_window(self._cancel_until is not None or self._fall_until is not None
                                   or self._fall_gesture)

    # -- motion triggers -----------------------------------------------------------------------------------
    def on_shake(self, onset_ms):
        log("fw.shake", onset_ago_ms=ticks_diff(ticks_ms(), onset_ms))
        self.vibrator.play("pressed")
        self._last_alarm = self.raise_alarm("SOS", "GEN")
        self._open_cancel_window()

    def on_fall_prealarm(self, impact_ms):
        if self._fall_until is not None:
            return  # one pre-alarm at a time
        window_s = self.cfg["fall_cancel_s"]
        log("fw.fall_prealarm", impact_ago_ms=ticks_diff(ticks_ms(), impact_ms), window_s=window_s)
        self.vibrator.play("prealarm")
        self._fall_buzz = ticks_ms()
        self._fall_until = ticks_add(self._fall_buzz, window_s * 1000)
        self._sync_cancel_window()

    def _fall_tick(self, now, event):
        """Called by the button task after each decoder update; returns the event still to handle (or None)."""
        if self._fall_until is not None:
            if self.buttons.pressed():
                self._fall_until = None
                self._fall_gesture = True
                self._fall_released = None
                log("fw.fall_cancelled", how="press")
                self.vibrator.play("cancelled")
            elif ticks_diff(now, self._fall_until) >= 0:
                self._fall_until = None
                self._sync_cancel_window()
                log("fw.fall_alarm", window_s=self.cfg["fall_cancel_s"])
                self.vibrator.play("pressed")
                self._last_alarm = self.raise_alarm("FALL", "MED")
            elif ticks_diff(now, self._fall_buzz) >= PREALARM_REPEAT_MS:
                self._fall_buzz = now  # a wearer who is dazed may miss one buzz
                self.vibrator.play("prealarm")
        if self._fall_gesture:
            if event is not None:
                log("fw.button", kind=event[0], arg=event[1], absorbed="fall_cancel")
                if event[0] == "duress":
                    # Forced to cancel: felt exactly like the cancel (already played), sent silently.
                    self.raise_alarm("DUR", "MED")
                event = None
            if self.buttons.pressed():
                self._fall_released = None
            elif self._fall_released is None:
                self._fall_released = now
            elif ticks_diff(now, self._fall_released) > self.buttons.gap_ms + 200:
                self._fall_gesture = False
                self._sync_cancel_window()
                log("fw.fall_cancel_done")  # the button is back to normal
        return event

    # -- the hub's answers ----------------------------------------------------------------------------------
    async def on_sms(self, sms):
        """Called by the modem driver; returning means handled (the SMS is then deleted from the SIM)."""
        text = sms.get("text")
        if not looks_like_ack(text):
            log("fw.sms_ignored", sender=sms.get("number"))
            return
        device_id = self.cfg["device_id"]
        key = self.cfg["key"]
        try:
            ack = parse_ack(text, lambda i: key if i == device_id else None)
        except ProtocolError as exc:
            log("fw.ack_rejected", reason=str(exc), sender=sms.get("number"))
            return
        if not self.state.accept_hub_counter(ack["hub_counter"]):
            log("fw.ack_rejected", reason="replayed hub counter %d" % ack["hub_counter"])
            return
        log("fw.ack", status=ack["status"], n=ack["counter"], h=ack["hub_counter"])
        if ack["status"] == "RCV":
            alarm = self.uplink.receipt(ack["counter"])
            if alarm is not None:
                self.power.receipt(alarm["e"])
                if alarm["e"] not in SILENT_EVENTS:
                    self.vibrator.play("received")
        else:
            # An operator acted: the alarm is certainly stored, whatever happened to the RCV.
            self.uplink.receipt(ack["counter"])
            self.power.operator_acted(ack["status"])
            pattern = STATUS_PATTERN.get(ack["status"])
            if pattern:
                self.vibrator.play(pattern)
                # ms: the firmware's clock, which the simulator's motor edges also carry.
                log("fw.felt", status=ack["status"], n=ack["counter"], pattern=pattern, ms=ticks_ms())

    def _modem_event(self, kind, detail):
        log("fw.modem", kind=kind, detail=str(detail) if detail is not None else None)

    # -- tasks ---------------------------------------------------------------------------------------------
    async def button_task(self):
        while True:
            now = ticks_ms()
            event = self.buttons.update(self.board.button.pressed(), now)
            if self._fall_until is not None or self._fall_gesture:
                event = self._fall_tick(now, event)
            if event is not None:
                self.on_button_event(event)
            elif self._fall_until is None and not self._fall_gesture:  # a press in a fall's pre-alarm cancels it
                self.power.button_held(self.buttons.held_ms(now), now)  # an SOS may be coming: start the modem
            if self._cancel_until is not None and ticks_diff(now, self._cancel_until) > 0:
                self._close_cancel_window()
            await asleep_ms(BUTTON_POLL_MS)

    async def refresh_cell(self):
        """The serving cell, kept for alarms raised while the modem is off (the last one known then)."""
        try:
            cell = await self.modem.serving_cell()
            if cell and cell.get("mcc") is not None and cell.get("cell_id") is not None:
                known = {"mcc": cell["mcc"], "mnc": cell["mnc"], "lac": cell.get("lac") or 0,
                         "cell_id": cell["cell_id"]}
                if known != self.cell:
                    self.cell = known
                    log("fw.cell", **known)
        except Exception as exc:
            log("fw.cell_failed", error=repr(exc))

    async def cell_task(self):
        while True:
            if not getattr(self.modem, "parked", False):  # off on purpose: the power manager refreshes on power-up
                await self.refresh_cell()
            await asleep_ms(self.cfg["cell_refresh_s"] * 1000)

    async def modem_task(self):
        self.modem.set_sms_handler(self.on_sms)
        if self.board.modem_power is not None:
            # The board boots with the modem unpowered (hardware/README.md): switch it on first.
            await self.board.modem_power.on()
        tries = 0
        while True:
            try:
                await self.modem.start(self.cfg["sim_pin"])
                log("fw.modem_ready", info=self.modem.info.get("model"))
                break
            except Exception as exc:
                tries += 1
                log("fw.modem_start_failed", error=repr(exc), tries=tries)
                if tries % 3 == 0 and self.board.modem_power is not None:
                    await self.board.modem_power.cycle()
                await asleep_ms(2000)
        await self.modem.supervise()

    async def supervised(self, name, make):
        """Run a task forever: if it dies (MemoryError, a driver bug), log it and start it again."""
        restarts = 0
        while True:
            try:
                await make()
                return
            except Exception as exc:
                restarts += 1
                log("fw.task_died", task=name, error=repr(exc), restarts=restarts)
                gc.collect()
                await asleep_ms(min(10000, 200 * restarts))

    async def run(self):
        import asyncio

        log("fw.boot", device=self.cfg["device_id"], pending=len(self.state.pending), counter=self.state.counter)
        spawn = asyncio.create_task
        spawn(self.supervised("vibrator", self.vibrator.run))
        spawn(self.supervised("button", self.button_task))
        if self.motion is not None:
            spawn(self.supervised("motion", self.motion.run))
        else:
            log("fw.no_motion", reason=self._no_motion)
        spawn(self.supervised("gps", lambda: self.gps.run(self.board.gps_uart)))
        spawn(self.supervised("gps power", self.gps_power_task))
        spawn(self.supervised("modem", self.modem_task))
        while not self.modem.link_up:
            await asleep_ms(50)
        spawn(self.supervised("uplink", self.uplink.run))
        spawn(self.supervised("cell", self.cell_task))
        spawn(self.supervised("power", self.power.run))
        rounds = 0
        while True:
            gc.collect()
            self.check_followup()
            if rounds % 3600 == 10 and hasattr(gc, "mem_free"):  # MicroPython: the heap, for the figures
                log("fw.heap", free=gc.mem_free(), used=gc.mem_alloc())  # type: ignore[attr-defined]
            rounds += 1
            await asleep_ms(1000)
