"""The motion task: the accelerometer's FIFO, drained in bursts, through the shake and fall detectors.

MicroPython and CPython (tests/dual/test_motion_task.py runs it on both). Per sample it allocates nothing: the
burst buffer is made once, every sample gets its time by rate arithmetic on ticks (drivers.compat), and the
detectors are allocation-free. A chip or bus error never escapes `run()`: it is logged, the chip is restarted
after a growing pause (capped), and the detectors keep running once it answers again.

    motion = MotionTask(imu, on_shake=f, on_fall=g, log=log)   # imu: drivers.imu.lis3dh.LIS3DH or MPU6050
    await motion.run()                                         # forever; or motion.start() then motion.poll(now)

`on_shake(onset_t_ms)` and `on_fall(impact_t_ms)` are called from the task, synchronously (keep them short).
Sample times: the newest sample of the first burst after a (re)start is dated `now`; the following ones step by
1000 / rate_hz ms exactly, so the detectors see the chip's own clock. When that clock and ticks_ms drift apart by
more than RESYNC_MS (a stalled task, a chip clock off by a few percent) or samples were lost (FIFO overrun), the
timeline is anchored again on `now`.
"""
from drivers.compat import asleep_ms, ticks_add, ticks_diff, ticks_ms
from drivers.fall import FallDetector
from drivers.shake import ShakeDetector

POLL_MS = 100  # the LIS3DH holds 32 samples (320 ms at 100 Hz): drain three times as often
BURST = 32  # samples per read: the deepest FIFO read in one transaction
MAX_BURSTS = 8  # per poll; bounded even if a chip keeps reporting samples
RESYNC_MS = 500
OVERRUN_LOG_MS = 10000  # the task was too slow and the FIFO lost samples: said at most this often
BACKOFF_MIN_MS = 200
BACKOFF_MAX_MS = 30000
MOVE_MG = 150  # sample-to-sample change (|dx|+|dy|+|dz|) that counts as movement; chip noise is ~10-20 mg
STILL_MS = 1500  # still this long (and no fall being judged) before the board may sleep: with QUIET_MS in
# firmware/power.py, a wake-up by the motion interrupt costs about 2 s awake (power.json's imu_wake_seconds)
# The chip's motion interrupt threshold while the board sleeps (drivers/imu: high-pass, any axis, either way). 64 mg
# woke the simulated chip on its 12 mg noise 3 times in 20 still minutes (the difference of two noisy samples);
# at +-8 g the LIS3DH's low-power LSB is 64 mg. A shake (>= 1 g) or a fall's free fall (-1 g) crosses 186 mg at once.
WAKE_MG = 186


def _nolog(hop, **detail):
    pass


class MotionTask:
    def __init__(self, imu, on_shake=None, on_fall=None, log=None, rate_hz=100, sensitivity=3, upright=None,
                 poll_ms=POLL_MS):
        self.imu = imu
        self.on_shake = on_shake
        self.on_fall = on_fall
        self.log = log or _nolog
        self.rate_hz = rate_hz
        self.poll_ms = poll_ms
        self.backoff_min_ms = BACKOFF_MIN_MS
        self.backoff_max_ms = BACKOFF_MAX_MS
        self.shake = ShakeDetector(rate_hz=rate_hz, sensitivity=sensitivity)
        self.fall = FallDetector(rate_hz=rate_hz, upright=upright)
        self._buf = [0] * (3 * BURST)
        self.started = False
        self.samples = 0  # samples fed to the detectors since boot
        self.errors = 0  # chip or bus errors since boot
        self.resyncs = 0
        self._t = 0  # time of the next sample
        self._frac = 0  # sub-millisecond remainder of the sample period, in 1/rate_hz ms
        self._anchored = False
        self._overflows = 0
        self._overrun_t = None
        self.moved_t = None  # ticks of the last sample that moved (MOVE_MG); None: not since boot
        self._lx = self._ly = self._lz = 0
        self.wake_armed = False

    def start(self):
        """Configures the chip (IMUError if it does not answer) and forgets the sample timeline."""
        self.started = False
        self.imu.start()
        self._overflows = getattr(self.imu, "overflows", 0)
        self._anchored = False
        self.started = True

    def _step(self):
        # Advances the sample clock by one period: 1000 // rate ms, the remainder carried (no drift at 400 Hz).
        self._frac += 1000
        step = self._frac // self.rate_hz
        self._frac -= step * self.rate_hz
        self._t = ticks_add(self._t, step)

    def poll(self, now_ms):
        """Drains the FIFO (at most MAX_BURSTS reads) into the detectors; returns the number of samples.
        Raises what the driver raises (IMUError) so that run() can restart the chip."""
        buf = self._buf
        total = 0
        bursts = 0
        while bursts < MAX_BURSTS:
            bursts += 1
            n = self.imu.read_fifo(buf, BURST)
            if n <= 0:
                break
            overflows = getattr(self.imu, "overflows", 0)
            if overflows != self._overflows:
                self._overflows = overflows
                self._anchored = False  # samples were lost: the chip's clock has a hole in it
                if self._overrun_t is None or ticks_diff(now_ms, self._overrun_t) > OVERRUN_LOG_MS:
                    self._overrun_t = now_ms
                    self.log("fw.imu_overrun", overflows=overflows)
            if not self._anchored:
                self._anchor(now_ms, n)
            shake = self.shake.update
            fall = self.fall.update
            lx = self._lx
            ly = self._ly
            lz = self._lz
            k = 0
            while k < n:
                j = 3 * k
                x = buf[j]
                y = buf[j + 1]
                z = buf[j + 2]
                t = self._t
                d = (x - lx if x > lx else lx - x) + (y - ly if y > ly else ly - y) + (z - lz if z > lz else lz - z)
                if d > MOVE_MG:
                    self.moved_t = t
                lx = x
                ly = y
                lz = z
                onset = shake(x, y, z, t)
                if onset is not None:
                    self._call(self.on_shake, onset, "shake")
                pre = fall(x, y, z, t)
                if pre is not None:
                    self._call(self.on_fall, pre[1], "fall")
                self._step()
                k += 1
            self._lx = lx
            self._ly = ly
            self._lz = lz
            total += n
            if n < BURST:
                break
        self.samples += total
        if self._anchored:
            drift = ticks_diff(now_ms, self._t)  # about one period while the chip and ticks_ms agree
            if drift > RESYNC_MS or drift < -RESYNC_MS:
                self._anchored = False
                self.resyncs += 1
        return total

    def still(self, now_ms):
        """No movement for STILL_MS and no fall being judged: the board may sleep on the motion interrupt."""
        if not self.started or self.fall.busy():
            return False
        return self.moved_t is not None and ticks_diff(now_ms, self.moved_t) >= STILL_MS

    def prepare_sleep(self):
        """Before the board sleeps: the chip watches for movement on its own (INT pin) at a few uA."""
        try:
            self.imu.enable_motion_wake(threshold_mg=WAKE_MG)
            self.wake_armed = True
        except Exception as exc:  # a chip that does not answer: run() restarts it after the sleep
            self.started = False
            self.log("fw.imu_error", error=str(exc), failures=0, retry_ms=0)

    def after_wake(self):
        """After the sleep: back to full rate; what the FIFO held at the low rate is dropped (its times are not
        ours) and the timeline starts again; the detectors restart on the gap themselves."""
        if not self.wake_armed:
            return
        self.wake_armed = False
        try:
            self.imu.motion_woke()
            self.imu.disable_motion_wake()
            self.imu.read_fifo(self._buf, BURST)
        except Exception as exc:
            self.started = False
            self.log("fw.imu_error", error=str(exc), failures=0, retry_ms=0)
        self._anchored = False
        self.moved_t = ticks_ms()  # it woke for a reason: stay awake at least STILL_MS

    def _anchor(self, now_ms, n):
        # The newest sample of this burst is "now": the first one is (n - 1) periods earlier.
        self._t = ticks_add(now_ms, -((n - 1) * 1000 // self.rate_hz))
        self._frac = 0
        self._anchored = True

    def _call(self, callback, t_ms, what):
        if callback is None:
            return
        try:
            callback(t_ms)
        except Exception as exc:  # the detectors must keep running whatever an alarm handler does
            self.log("fw.motion_callback_failed", trigger=what, error=repr(exc))

    async def run(self):
        failures = 0
        while True:
            try:
                if not self.started:
                    self.start()
                    self.log("fw.imu_ready", chip=getattr(self.imu, "NAME", "?"), rate_hz=self.rate_hz,
                             after_failures=failures)
                    failures = 0
                self.poll(ticks_ms())
            except Exception as exc:  # IMUError, or anything a broken bus raises: never kill the app
                self.started = False
                self.errors += 1
                failures += 1
                wait = self.backoff_min_ms << (failures - 1 if failures < 9 else 8)
                if wait > self.backoff_max_ms:
                    wait = self.backoff_max_ms
                self.log("fw.imu_error", error=str(exc), failures=failures, retry_ms=wait)
                await asleep_ms(wait)
                continue
            await asleep_ms(self.poll_ms)
