"""The wearable's application: triggers -> alarm (persisted first) -> uplink, and the hub's acks -> vibration.

Everything physical comes from the board (firmware/board.py on the device, sim/device/board.py in the
simulator); the same code runs in both. `App` only wires the parts and runs their tasks:

    gestures (firmware/gestures.py, prealarm.py)   button, shake, fall pre-alarm, cancel window -> alarms
    alarms (firmware/alarms.py)                    persist, follow up, feel what the hub says -> uplink
    uplink (firmware/uplink.py)                    alarms -> hub and contacts, until receipted
    link (firmware/hublink.py)                     the modem, the hub's acks -> alarms, the serving cell
    power (firmware/power.py), gps_power           modem off between heartbeats, sleep; the GPS's duty cycle
"""
# ruff: noqa: E402  (the collector is tuned before the other modules load)
import gc

# Collect after every 8 kB allocated instead of only when the heap is exhausted, from before the modules load: the
# garbage made while they load is reclaimed at once and the code and long-lived objects stay packed at the bottom
# of the heap. Without it, the simulator's 256 kB heap ended with 36 kB free in holes of at most 1.1 kB and the GPS
# task died on a 656-byte allocation; with it the largest hole is about 17 kB (docs/motion-firmware.md).
gc.threshold(8192)  # type: ignore[attr-defined]  # MicroPython-only

from drivers.button import ButtonDecoder
from drivers.compat import asleep_ms
from drivers.gps import GPS
from drivers.modem import Modem
from firmware.alarms import Alarms
from firmware.chips import build_imu, build_rtc
from firmware.flashstore import AlarmState
from firmware.gestures import Gestures
from firmware.gpspower import GpsPower
from firmware.hoplog import log
from firmware.hublink import HubLink, log_modem_event
from firmware.motion import MotionTask
from firmware.power import PowerManager
from firmware.uplink import Uplink
from firmware.vibration import Vibrator

__all__ = ["App", "log"]  # sim/device/main.py logs a bad config with the firmware's own hop log

HEAP_LOG_ROUNDS = 3600  # the main loop's seconds between two heap figures


class App:
    def __init__(self, board, cfg, flash, modem=None, gps=None):
        self.board = board
        self.cfg = cfg
        self.state = AlarmState(flash)
        self.vibrator = Vibrator(board.motor, on_play=lambda name: log("fw.vibrate", pattern=name))
        self.modem = modem or Modem(board.modem_uart, power=board.modem_power, model=cfg["modem_model"],
                                    on_event=log_modem_event)
        self.gps = gps or GPS()
        self.buttons = ButtonDecoder(long_ms=cfg["long_press_ms"], patterns=cfg["patterns"])
        self.uplink = Uplink(self.modem, self.state, cfg, log, self.vibrator)
        self.link = HubLink(self.modem, self.state, cfg, board)
        imu, self._no_motion = _accelerometer(board)
        self.power = PowerManager(self, cfg, log=log, rtc=_clock(board))
        self.alarms = Alarms(self.state, cfg, self.gps, self.link, self.uplink, self.power, self.vibrator,
                             self.battery)
        self.link.on_ack = self.alarms.hub_answered
        self.gestures = Gestures(board, cfg, self.buttons, self.vibrator, self.alarms, self.power)
        self.gps_power = GpsPower(self.gps, board, cfg, self.alarms)
        self.motion = None
        if imu is not None:
            self.motion = MotionTask(imu, on_shake=self.gestures.on_shake, on_fall=self.gestures.on_fall, log=log,
                                     sensitivity=cfg["shake_sensitivity"])
        self.uplink.hold = lambda: self.power.switching or getattr(self.modem, "parked", False)
        self.uplink.on_sent = lambda alarm: self.power.receipt(alarm["e"])

    # -- what the power manager asks of the app (firmware/power.py) ------------------------------------------
    def raise_alarm(self, event, category="GEN"):
        return self.alarms.raise_alarm(event, category)

    def heartbeat(self):
        return self.alarms.heartbeat()

    def battery(self):
        try:
            return self.board.battery_percent()
        except Exception:
            return None

    def quiet(self, now):
        """Nothing needs the microcontroller awake: no gesture, cancel window, fall pre-alarm, follow-up,
        vibration, GPS or movement in progress."""
        if self.gestures.busy() or self.alarms.awaiting_fix() or self.vibrator.busy() or self.gps_power.on:
            return False
        return self.motion is None or self.motion.still(now)

    async def refresh_cell(self):
        await self.link.refresh_cell()

    # -- tasks ---------------------------------------------------------------------------------------------
    async def run(self):
        import asyncio

        log("fw.boot", device=self.cfg["device_id"], pending=len(self.state.pending), counter=self.state.counter)
        spawn = asyncio.create_task
        spawn(supervised("vibrator", self.vibrator.run))
        spawn(supervised("button", self.gestures.run))
        if self.motion is not None:
            spawn(supervised("motion", self.motion.run))
        else:
            log("fw.no_motion", reason=self._no_motion)
        spawn(supervised("gps", lambda: self.gps.run(self.board.gps_uart)))
        spawn(supervised("gps power", self.gps_power.run))
        spawn(supervised("modem", self.link.modem_task))
        await self.modem.up.wait()  # the uplink, the cell and the power manager all need a registered modem
        spawn(supervised("uplink", self.uplink.run))
        spawn(supervised("cell", self.link.cell_task))
        spawn(supervised("power", self.power.run))
        rounds = 0
        while True:
            gc.collect()
            self.alarms.check_followup()
            if rounds % HEAP_LOG_ROUNDS == 10 and hasattr(gc, "mem_free"):  # MicroPython: the heap, for the figures
                log("fw.heap", free=gc.mem_free(), used=gc.mem_alloc())  # type: ignore[attr-defined]
            rounds += 1
            await asleep_ms(1000)


def _accelerometer(board):
    """(its driver, None), or (None, why the board has no motion task)."""
    try:
        imu = build_imu(board)
    except Exception as exc:
        return None, repr(exc)
    if imu is None:
        return None, "the board has no accelerometer"
    return imu, None


def _clock(board):
    """The external RTC, started; None without one (the board then sleeps on its own timer)."""
    try:
        return build_rtc(board)
    except Exception as exc:
        log("fw.rtc_failed", error=repr(exc))
        return None


async def supervised(name, make):
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
