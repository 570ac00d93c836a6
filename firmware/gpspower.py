"""The GPS receiver's power: it draws tens of mA while on. On at boot until a fix, then standby; it wakes every
gps_refresh_s to keep its almanac and a recent last fix, and at once for an alarm, staying on while a follow-up
waits for its fix (a hot start takes seconds)."""
from drivers.compat import asleep_ms, ticks_diff, ticks_ms
from firmware.hoplog import log

CHECK_MS = 1000


class GpsPower:
    """`alarms`: what tells whether an alarm still waits for a fix (`awaiting_fix()`)."""

    def __init__(self, gps, board, cfg, alarms):
        self.gps = gps
        self.board = board
        self.cfg = cfg
        self.alarms = alarms
        self.on = True  # the receiver is powered at boot
        self._ttff_logged = False

    async def run(self):
        uart = self.board.gps_uart
        model = self.board.gps_model
        self.on = True
        since = ticks_ms()
        self.gps.wake(since)
        while True:
            await asleep_ms(CHECK_MS)
            now = ticks_ms()
            waiting = self.alarms.awaiting_fix()
            if self.on:
                fixed = self.gps.fix(now) is not None
                if fixed and self.gps.ttff_ms is not None and not self._ttff_logged:
                    self._ttff_logged = True
                    log("fw.gps_fix", ttff_ms=self.gps.ttff_ms)
                on_for = ticks_diff(now, since)
                done = fixed and on_for >= self.cfg["gps_on_s"] * 1000
                if not waiting and (done or on_for >= self.cfg["gps_max_on_s"] * 1000):
                    self.gps.sleep(now, uart, model)
                    self.on = False
                    since = now
                    log("fw.gps_standby", fix=fixed)
            elif waiting or (self.cfg["gps_refresh_s"] and
                             ticks_diff(now, since) >= self.cfg["gps_refresh_s"] * 1000):
                self.gps.wake(now, uart, model)
                self._ttff_logged = False
                self.on = True
                since = now
                log("fw.gps_wake", reason="alarm" if waiting else "refresh")
