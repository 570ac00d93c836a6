"""Shake detector: a deliberate, vigorous back-and-forth shake of the wearable calls for help.

Pure integer arithmetic, no allocation per sample, time passed in (`t_ms`, ticks that wrap). The same code runs on
the device and in the evaluation (tools/eval_triggers.py); docs/triggers.md gives the reasons and the figures.

`ShakeDetector(rate_hz=100, sensitivity=3)`, `update(ax_mg, ay_mg, az_mg, t_ms) -> onset_t_ms or None`, `reset()`.

Algorithm:
1. Gravity removal: a first-order integer IIR high-pass per axis (cut-off ~0.5 Hz), h = a - g. Squares and dot
   products use 8 mg units (32 mg in the test along gravity) so they stay small ints (< 2**30) on a 32-bit
   microcontroller: no heap allocation.
2. Excursions: an episode starts when |h| >= threshold; its direction is kept as a unit vector u (scaled to 64).
   A reversal is when h points back along u with at least the threshold: dot(h, u) <= -threshold; u then becomes
   the new direction, so any orientation of the shake works and a turning wrist is followed.
3. What a hand does and a body does not (each restarts the episode when violated):
   - rhythm: half-cycles last HALF_MIN_MS..HALF_MAX_MS (2-11 Hz) and each is within RATIO_PCT of the mean of the
     episode's earlier ones (real shakes are irregular: one odd swing must not break the rhythm of the rest);
   - alignment: the reversal points within ~32 degrees of straight back (ALIGN_PCT);
   - along gravity (within ~55 degrees) the threshold is VERTICAL_PCT higher, and at least VERTICAL_MIN_MG: gait
     bounces the body vertically.
4. Decision: `excursions` consecutive alternating excursions (one fewer when all completed ones reached
   STRONG_PCT of the threshold; MIN_EXCURSIONS when all completed ones were big, BIG_PCT of the full threshold,
   across gravity and lasting BIG_HALF_MIN_MS) fire once; the result is the onset (time of the first excursion).
5. Burst gate: a burst of motion starts after CALM_MS below the threshold; a shake must be recognised within
   RUN_MAX_MS of its burst's start. Jogging or running down stairs is one long burst: after its first seconds
   it can no longer fire. Then REFRACTORY_MS of silence: one shake, one alarm.
6. Calm start: each episode's threshold follows the activity before it (ADAPT_PCT of the mean |h| over ~1.3 s,
   clamped to LOW_PCT..100 % of the threshold). Starting from a still device, an episode needs 68 % of the
   threshold, LOW_EXCURSIONS (3) excursions, no extra vertical margin (there is no gait to reject), and must be
   recognised within LOW_RUN_MS. Walking or stairs keep the full threshold. The real Wiimote shakes
   (docs/triggers.md) are short and irregular: a still hand's shake is recognised after one cycle.
7. A gap of more than GAP_MS between samples (the IMU slept until motion woke it) restarts the detector, so no
   stored time outlives the 2**30 ms ticks wrap. After reset() no episode starts for 2**(k+1) samples (0.64 s at
   100 Hz: the gravity estimate is primed from one sample, maybe mid-stride) and none gets the calm-start rules
   for 2**(k+2) (1.28 s: whether it was calm before is not known yet).
"""
from drivers.compat import ticks_add, ticks_diff
from drivers.intmath import isqrt as _isqrt

# sensitivity -> (threshold in mg, excursions). 1 is the least sensitive (hardest to trigger).
SENSITIVITY = {
    1: (1800, 5),
    2: (1650, 5),
    3: (1500, 5),
    4: (1300, 4),
    5: (1100, 4),
}
DEFAULT_SENSITIVITY = 3

HALF_MIN_MS = 45  # 11 Hz: faster "half-cycles" are vibration or the ringing after an impact
HALF_MAX_MS = 250  # 2 Hz: slower swings are body movements (jogging, 2.5-3.3 steps/s, is left to the burst gate)
RATIO_PCT = 170  # a half-cycle is within 1.7x of the mean of the episode's earlier ones: a hand, not a stride
ALIGN_PCT = 85  # a reversal points within ~32 degrees of straight back: a hand, not a rotating body
VERTICAL_PCT = 150  # along gravity the threshold is 1.5x: stairs and jogging bounce the body vertically
VERTICAL_MIN_MG = 2200  # ... and at least 2.2 g whatever the sensitivity: the body's bounce does not scale with it
VERTICAL_COS2_PCT = 33  # "along gravity" = within ~55 degrees (cos^2 >= 0.33): runners lean forward, and stairs'
# swings at 45-50 degrees escaped the former 45-degree cone (issue 5: a wider cone with 1.5x beat 45 degrees with 1.7x)
REFRACTORY_MS = 5000  # one shake, one alarm
GAP_MS = 1000  # samples further apart (the IMU slept, the firmware stalled) start the detector afresh
CALM_MS = 1000  # a burst of motion starts after this long below the threshold
STRONG_PCT = 150  # excursions reaching 1.5x the threshold are "strong": all strong -> one excursion fewer
RUN_MAX_MS = 2500  # a shake is recognised within this long of its burst's start, or it is sport
# Calm start (see docs/triggers.md): a shake that begins while the device was still needs less. The threshold of an
# episode is ADAPT_PCT of the mean |h| (L1, over ~1.3 s) before it, clamped to LOW_PCT..100 % of the threshold:
# a still device (|h| ~50 mg of noise) gets LOW_PCT, walking or stairs (300+ mg) the full threshold.
LOW_PCT = 68  # 1.02 g by default: tuned on odd SisFall subjects, Wiimote subjects 1, 3, 5, 7, 9, clapping
ADAPT_PCT = 1500
LOW_EXCURSIONS = 3  # a calm-start episode needs at most this many excursions (real shakes are short)
LOW_RUN_MS = 2000  # ... and must be recognised within this long of its start
MIN_EXCURSIONS = 3  # no shortcut goes below three excursions (one full cycle: there and back and there)
BIG_PCT = 150  # "big" swings reach 1.5x the threshold (2.25 g by default) ...
BIG_HALF_MIN_MS = 80  # ... last >= 80 ms (not a fall's impact ringing) and run across gravity: 3 of them suffice




def _hp_shift(rate_hz):
    """Shift k of the high-pass so that its cut-off rate/(2*pi*2**k) is near 0.5 Hz."""
    k = 0
    while (1 << (k + 1)) * 3 <= rate_hz and k < 12:
        k += 1
    return k


class ShakeDetector:
    def __init__(self, rate_hz=100, sensitivity=DEFAULT_SENSITIVITY, threshold_mg=None, excursions=None,
                 half_min_ms=HALF_MIN_MS, half_max_ms=HALF_MAX_MS, refractory_ms=REFRACTORY_MS, ratio_pct=RATIO_PCT,
                 align_pct=ALIGN_PCT, vertical_pct=VERTICAL_PCT, calm_ms=CALM_MS, run_max_ms=RUN_MAX_MS,
                 strong_pct=STRONG_PCT, vertical_cos2_pct=VERTICAL_COS2_PCT, low_mg=None, adapt_pct=ADAPT_PCT,
                 low_run_ms=LOW_RUN_MS, low_vertical=False, low_excursions=None, ratio_mean=True,
                 big_pct=BIG_PCT, big_half_min_ms=BIG_HALF_MIN_MS, warmup=True,
                 vertical_min_mg=VERTICAL_MIN_MG):
        if sensitivity not in SENSITIVITY:
            raise ValueError("shake sensitivity must be 1..5, got %r" % (sensitivity,))
        thr, exc = SENSITIVITY[sensitivity]
        self.rate_hz = rate_hz
        self.threshold_mg = thr if threshold_mg is None else threshold_mg
        self.excursions = exc if excursions is None else excursions
        self.half_min_ms = half_min_ms
        self.half_max_ms = half_max_ms
        self.refractory_ms = refractory_ms
        self.ratio_pct = ratio_pct
        self._align64 = (align_pct * align_pct * 64) // 10000
        self.vertical_pct = vertical_pct
        self.calm_ms = calm_ms
        self.run_max_ms = run_max_ms
        self.strong_pct = strong_pct
        self.vertical_cos2_pct = vertical_cos2_pct
        self._k = _hp_shift(rate_hz)
        # Squares are compared in 8 mg units so they stay small ints (< 2**30) on a 32-bit microcontroller.
        self._thr4 = self.threshold_mg >> 3
        self._thr4_sq = self._thr4 * self._thr4
        self._strong4 = self._thr4 * strong_pct // 100 if strong_pct else 0
        self.low_mg = self.threshold_mg * LOW_PCT // 100 if low_mg is None else low_mg
        self._low4 = self.low_mg >> 3
        self.adapt_pct = adapt_pct
        self.low_run_ms = low_run_ms
        self.low_vertical = low_vertical
        if low_excursions is None:
            low_excursions = self.excursions if self.excursions < LOW_EXCURSIONS else LOW_EXCURSIONS
        self.low_excursions = low_excursions
        self.ratio_mean = ratio_mean
        self.big_pct = big_pct
        self._big4 = self._thr4 * big_pct // 100
        self.big_half_min_ms = big_half_min_ms
        self.warmup = warmup
        self._vmin4 = vertical_min_mg >> 3
        self._ka = self._k + 2  # activity level: a mean of |h| over ~1.3 s at 100 Hz
        self.reset()

    def reset(self):
        """Forget everything, including the gravity estimate (e.g. after the sensor was reconfigured)."""
        self._primed = False
        self._sample_t = 0
        self._gx = self._gy = self._gz = 0
        self._act = 0
        # Samples until the activity level has settled (no calm start before); no episode at all in the first
        # 2**(k+1), while the gravity estimate (primed from one sample) settles.
        self._warm = (1 << self._ka) if self.warmup else 0
        self._restart()

    def _restart(self):
        # Everything but the gravity estimate: after a gap the device's attitude is still the best guess.
        self._count = 0
        self._strong = 0
        self._big = 0
        self._peak = 0
        self._half = 0
        self._hsum = 0
        self._ux = self._uy = self._uz = 0
        self._last_t = 0
        self._onset_t = 0
        self._quiet_until = 0
        self._quiet = False
        self._loud_seen = False
        self._loud_t = 0
        self._run_t = 0
        self._e4 = self._thr4
        self._chain_t = 0

    def _capture(self, hx, hy, hz):
        n = _isqrt(hx * hx + hy * hy + hz * hz)
        if n == 0:
            n = 1
        self._ux = (hx << 6) // n
        self._uy = (hy << 6) // n
        self._uz = (hz << 6) // n

    def update(self, ax_mg, ay_mg, az_mg, t_ms):
        """One sample in milli-g; returns the onset time (ms) of a shake once, when it is recognised, else None."""
        k = self._k
        if self._primed:
            gap = ticks_diff(t_ms, self._sample_t)
            if gap < 0 or gap > GAP_MS:
                self._restart()  # the IMU slept (motion wake) or time jumped: stored times mean nothing now
        self._sample_t = t_ms
        if not self._primed:
            self._gx = ax_mg << k
            self._gy = ay_mg << k
            self._gz = az_mg << k
            self._primed = True
        self._gx += ax_mg - (self._gx >> k)
        self._gy += ay_mg - (self._gy >> k)
        self._gz += az_mg - (self._gz >> k)
        hx = (ax_mg - (self._gx >> k)) >> 3
        hy = (ay_mg - (self._gy >> k)) >> 3
        hz = (az_mg - (self._gz >> k)) >> 3
        m2 = hx * hx + hy * hy + hz * hz
        loud = m2 >= self._thr4_sq
        # Activity level: a running mean of |h| (L1, 8 mg units, scaled by 2**ka) over the last ~1.3 s.
        self._act += (hx if hx >= 0 else -hx) + (hy if hy >= 0 else -hy) + (hz if hz >= 0 else -hz) - (
            self._act >> self._ka)
        if loud:
            # A burst of motion begins after calm_ms without any: a shake must be recognised early in its
            # burst. Sport (jogging, running down stairs) is one long burst and stops counting after run_max_ms.
            if not self._loud_seen:
                self._run_t = t_ms
                self._loud_seen = True
            self._loud_t = t_ms
        elif self._loud_seen and ticks_diff(t_ms, self._loud_t) > self.calm_ms:
            self._loud_seen = False  # checked every sample, so stored times never age past the ticks wrap
        if self._warm:
            self._warm -= 1  # just started: a sample of a stride is not gravity, and "calm" is not known yet
            if self._warm >= (1 << self._ka) - (1 << (k + 1)):
                return None
        if self._quiet:
            if ticks_diff(t_ms, self._quiet_until) < 0:
                return None
            self._quiet = False
        if self._count == 0:
            self._begin(hx, hy, hz, m2, t_ms)
            return None
        e4 = self._e4
        low = e4 < self._thr4
        since = ticks_diff(t_ms, self._last_t)
        if since > self.half_max_ms:
            self._count = 0  # too slow: not a shake (or the shake is over)
            self._begin(hx, hy, hz, m2, t_ms)
            return None
        p = (hx * self._ux + hy * self._uy + hz * self._uz) >> 6
        if p > self._peak:
            self._peak = p  # how far this excursion went along its own direction
        if p > -e4:
            return None
        if since < self.half_min_ms:
            self._start(hx, hy, hz, t_ms)  # ringing after an impact, not a hand's swing
            return None
        if self.vertical_pct != 100 and (self.low_vertical or not low):
            v4 = e4 * self.vertical_pct // 100
            if v4 < self._vmin4:
                v4 = self._vmin4
            if -p < v4 and self._vertical(hx >> 2, hy >> 2, hz >> 2):
                return None  # along gravity, gait and stairs swing hard: a vertical shake must be stronger
        if self._align64 and p * p * 64 < self._align64 * m2:
            self._start(hx, hy, hz, t_ms)  # the swing turned sideways: a body moving, not a hand shaking
            return None
        ratio = self.ratio_pct
        if ratio and self._count >= 2:
            if self.ratio_mean:
                prev = self._hsum
                n = self._count - 1
            else:
                prev = self._half
                n = 1
            if since * 100 * n > prev * ratio or prev * 100 > since * ratio * n:
                self._start(hx, hy, hz, t_ms)
                return None
        self._half = since
        self._hsum += since
        if self.strong_pct and self._peak * 100 >= e4 * self.strong_pct:
            self._strong += 1
        if (self._big4 and self._peak >= self._big4 and since >= self.big_half_min_ms
                and not self._vertical(self._ux, self._uy, self._uz)):
            self._big += 1  # a strong swing across gravity, not an impact's ringing: the waist rarely does that
        self._peak = 0
        self._capture(hx, hy, hz)
        self._last_t = t_ms
        self._count += 1
        need = self.low_excursions if low else self.excursions
        # Enough excursions, or one fewer when all the completed ones were strong (a hard shake is sure sooner), or
        # MIN_EXCURSIONS when all the completed ones were big swings across gravity.
        if (self._count >= need or (self.strong_pct and self._count == need - 1 and need > MIN_EXCURSIONS
                                    and self._strong >= self._count - 1)
                or (self._big4 and self._count >= MIN_EXCURSIONS and self._big >= self._count - 1)):
            self._count = 0
            if self.run_max_ms and self._loud_seen and ticks_diff(t_ms, self._run_t) > self.run_max_ms:
                return None  # deep inside a long burst of vigorous movement: sport, not a call for help
            if low and ticks_diff(t_ms, self._chain_t) > self.low_run_ms:
                return None  # a gentle rhythm that went on too long: a gesture or gait, not a call for help
            self._quiet = True
            self._quiet_until = ticks_add(t_ms, self.refractory_ms)
            return self._onset_t
        return None

    def _begin(self, hx, hy, hz, m2, t_ms):
        # A new episode: its threshold follows the activity just before it (calm -> low_mg, busy -> threshold_mg).
        e4 = self._level()
        if m2 >= e4 * e4:
            self._e4 = e4
            self._chain_t = t_ms
            self._start(hx, hy, hz, t_ms)

    def _level(self):
        if self._warm:
            return self._thr4  # warming up: whether it was calm before is not known
        e4 = (self._act >> self._ka) * self.adapt_pct // 100
        if e4 < self._low4:
            return self._low4
        return self._thr4 if e4 > self._thr4 else e4

    def _vertical(self, vx, vy, vz):
        # Is v within ~55 degrees of gravity (cos^2 >= VERTICAL_COS2_PCT), either way? v is h in 32 mg units (|v| <=
        # ~490 at +-8 g) or a unit vector x64; g in 32 mg units (~31 at 1 g). The products stay below 2**30 (small
        # ints on a 32-bit port: no heap allocation) while |g| < 2 g: d*d <= (490 * 62)**2 < 2**30.
        k = self._k + 5
        gx = self._gx >> k
        gy = self._gy >> k
        gz = self._gz >> k
        d = vx * gx + vy * gy + vz * gz
        return d * d >= (self.vertical_cos2_pct * (vx * vx + vy * vy + vz * vz) // 100) * (gx * gx + gy * gy + gz * gz)

    def _start(self, hx, hy, hz, t_ms):
        if self._e4 < self._thr4:
            # A gentle episode that broke: the activity it raised decides the threshold from now on.
            e4 = self._level()
            if e4 > self._e4:
                self._e4 = e4
                self._chain_t = t_ms
        self._capture(hx, hy, hz)
        self._strong = 0
        self._big = 0
        self._peak = 0
        self._hsum = 0
        self._count = 1
        self._last_t = t_ms
        self._onset_t = t_ms
