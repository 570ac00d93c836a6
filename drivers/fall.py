"""Fall detector: impact, then a changed posture, then lying still -> a pre-alarm the wearer can cancel.

Pure integer arithmetic, no allocation per sample, time passed in (`t_ms`, ticks that wrap).
`update(ax, ay, az, t_ms)` returns None or ("prealarm", impact_t_ms) once per fall. The detector only *suspects*
a fall: the app owns the cancel window (FALL_CANCEL_WINDOW_MS = 30 s: vibrate, let the wearer cancel with the
button's cancel hold, and raise the alarm only when the window closes unanswered).

Stages (reasons and measured figures in docs/triggers.md):
1. Posture before: a low-pass of each axis (time constant ~0.3 s), snapshotted every 250 ms into a ring of 5;
   at the impact the oldest snapshot (1.0-1.25 s earlier) is the posture before the fall, so the fall's own
   tumbling does not pollute it.
2. Impact: |a| >= impact_mg. Later impacts within settle_ms re-arm the check (a fall often bounces).
3. After settle_ms, a still window of still_ms: the range of |a| stays under still_range_mg and the average
   acceleration direction differs from the posture before by >= posture_deg (cos^2 compared in integers).
   Both together: standing up again, walking on, or sitting down hard all fail one of them.
"""
from drivers.compat import const, ticks_diff
from drivers.intmath import isqrt as _isqrt

FALL_CANCEL_WINDOW_MS = const(30000)  # the app's window, documented here so firmware and docs agree

PREALARM = "prealarm"
GAP_MS = const(1000)  # samples further apart than this start the detector afresh (keeping the posture)

_SNAPS = const(5)
_SNAP_MS = const(250)

_IDLE = const(0)
_SETTLING = const(1)
_WATCHING = const(2)

# cos of the posture change in 1/64 (no floats on the device): 45 degrees -> 45
_COS64 = {30: 55, 35: 52, 40: 49, 45: 45, 50: 41, 55: 37, 60: 32}


class FallDetector:
    def __init__(self, rate_hz=100, impact_mg=2000, settle_ms=1500, still_ms=2000, still_range_mg=500,
                 posture_deg=45, upright=None):
        if posture_deg not in _COS64:
            raise ValueError("posture_deg must be one of %r" % (sorted(_COS64),))
        self.rate_hz = rate_hz
        self.impact_mg = impact_mg
        self.settle_ms = settle_ms
        self.still_ms = still_ms
        self.still_range_mg = still_range_mg
        self.posture_deg = posture_deg
        self._cos64 = _COS64[posture_deg]
        # Optional: the reading (mg) when the wearer stands, known from how the device is worn (belt, pendant).
        # Then a fall must start from within 60 degrees of upright: turning over in bed is not a fall.
        self.upright = upright
        k = 0
        while (1 << (k + 1)) <= rate_hz * 3 // 10 and k < 12:  # time constant ~0.3 s: smooths steps
            k += 1
        self._k = k
        # Posture snapshots every SNAP_MS; at an impact the oldest (1.0-1.25 s before) is "before the fall",
        # untouched by the fall's own tumbling. Allocated once.
        self._snaps = [0] * (3 * _SNAPS)
        self._impact8_sq = (impact_mg >> 3) * (impact_mg >> 3)
        self.reset()

    def reset(self):
        self._primed = False
        self._sample_t = 0
        self._px = self._py = self._pz = 0  # low-pass, scaled by 2**k
        self._snap_i = 0
        self._snap_n = 0
        self._snap_t = 0
        self._bx = self._by = self._bz = 0  # posture before the impact (mg)
        self._state = _IDLE
        self._impact_t = 0
        self._peak = 0
        self._win_t = 0
        self._sx = self._sy = self._sz = 0
        self._n = 0
        self._mmin = 0
        self._mmax = 0

    def busy(self):
        """True from an impact until its verdict: the firmware must keep feeding samples (no sleep)."""
        return self._state != _IDLE

    def update(self, ax, ay, az, t_ms):
        k = self._k
        if self._primed:
            gap = ticks_diff(t_ms, self._sample_t)
            if gap < 0 or gap > GAP_MS:
                # The IMU slept or time jumped: a half-watched fall is void, stored times mean nothing now.
                self._state = _IDLE
                self._snap_n = 0
                self._snap_i = 0
        self._sample_t = t_ms
        if not self._primed:
            self._px = ax << k
            self._py = ay << k
            self._pz = az << k
            self._primed = True
        x8 = ax >> 3
        y8 = ay >> 3
        z8 = az >> 3
        m2 = x8 * x8 + y8 * y8 + z8 * z8  # |a|^2 in (8 mg)^2: a small int on a 32-bit port
        state = self._state
        if m2 >= self._impact8_sq:
            if state == _IDLE:
                self._take_before()
            if state == _IDLE or ticks_diff(t_ms, self._win_t) > 1000 or m2 > self._peak:
                # Reported impact: the strongest of a burst (a fall bounces; jogging before it is forgotten).
                self._peak = m2
                self._impact_t = t_ms
            self._state = _SETTLING
            self._win_t = t_ms  # the window starts settle_ms after the LAST impact
            return None
        if state == _IDLE:
            self._px += ax - (self._px >> k)
            self._py += ay - (self._py >> k)
            self._pz += az - (self._pz >> k)
            if self._snap_n == 0 or ticks_diff(t_ms, self._snap_t) >= _SNAP_MS:
                i = 3 * self._snap_i
                self._snaps[i] = self._px >> k
                self._snaps[i + 1] = self._py >> k
                self._snaps[i + 2] = self._pz >> k
                self._snap_i = (self._snap_i + 1) % _SNAPS
                if self._snap_n < _SNAPS:
                    self._snap_n += 1
                self._snap_t = t_ms
            return None
        if state == _SETTLING:
            if ticks_diff(t_ms, self._win_t) >= self.settle_ms:
                self._state = _WATCHING
                self._win_t = t_ms
                self._sx = self._sy = self._sz = 0
                self._n = 0
                self._mmin = m2
                self._mmax = m2
            return None
        # _WATCHING: accumulate the still window
        self._sx += ax
        self._sy += ay
        self._sz += az
        self._n += 1
        if m2 < self._mmin:
            self._mmin = m2
        if m2 > self._mmax:
            self._mmax = m2
        if ticks_diff(t_ms, self._win_t) < self.still_ms:
            return None
        result = None
        if self._still() and self._posture_changed() and self._was_upright():
            result = (PREALARM, self._impact_t)
        self._state = _IDLE
        # The posture low-pass restarts from the current posture: it is the new "before".
        self._px = (self._sx // self._n) << k
        self._py = (self._sy // self._n) << k
        self._pz = (self._sz // self._n) << k
        self._snap_n = 0
        self._snap_i = 0
        return result

    def _take_before(self):
        # The oldest snapshot: slot snap_i once the ring is full, slot 0 before.
        i = 3 * (self._snap_i if self._snap_n == _SNAPS else 0)
        if self._snap_n == 0:
            self._bx = self._px >> self._k
            self._by = self._py >> self._k
            self._bz = self._pz >> self._k
            return
        self._bx = self._snaps[i]
        self._by = self._snaps[i + 1]
        self._bz = self._snaps[i + 2]

    def _was_upright(self):
        u = self.upright
        if u is None:
            return True
        ux = u[0] >> 3
        uy = u[1] >> 3
        uz = u[2] >> 3
        bx = self._bx >> 3
        by = self._by >> 3
        bz = self._bz >> 3
        d = ux * bx + uy * by + uz * bz
        if d <= 0:
            return False
        nu = _isqrt(ux * ux + uy * uy + uz * uz)
        nb = _isqrt(bx * bx + by * by + bz * bz)
        return (d << 6) // (nu * nb or 1) >= 32  # cos >= 0.5

    def _still(self):
        lo = _isqrt(self._mmin) << 3
        hi = _isqrt(self._mmax) << 3
        return hi - lo <= self.still_range_mg

    def _posture_changed(self):
        n = self._n
        if n == 0:
            return False
        # Means in 8 mg units keep the products small ints on a 32-bit port.
        ax = (self._sx // n) >> 3
        ay = (self._sy // n) >> 3
        az = (self._sz // n) >> 3
        bx = self._bx >> 3
        by = self._by >> 3
        bz = self._bz >> 3
        d = ax * bx + ay * by + az * bz
        na = ax * ax + ay * ay + az * az
        nb = bx * bx + by * by + bz * bz
        if na == 0 or nb == 0:
            return False
        if d <= 0:
            return True  # 90 degrees or more
        return (d << 6) // (_isqrt(na) * _isqrt(nb) or 1) < self._cos64


