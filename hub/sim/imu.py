"""IMU simulation: accelerometer chips on a fake I2C bus, recordings and synthetic shakes.

- FakeI2C + FakeMPU6050 / FakeLIS3DH: a machine.I2C-like bus whose devices hold a register map and behave like the
  chips (WHO_AM_I, reset, range, output registers, auto-increment, FIFO with overflow, motion-wake interrupt).
  Written in the subset MicroPython also runs (tests/dual/fake_i2c.py re-exports it for the dual tests); the
  recording helpers below import their CPython-only modules lazily.
- Recordings: read `t_ms,ax_mg,ay_mg,az_mg` CSV (.csv or .csv.xz), resample to the device rate and clip to the
  device range, so the detectors see what the chip would have given them; replay them into a fake chip.
- Synthetic shakes (the documented model of docs/triggers.md) and the Wiimote shake recordings.
"""

DEVICE_RATE_HZ = 100
DEVICE_RANGE_G = 8


class RecordingError(ValueError):
    """A recording that cannot be read; the message names the file and the line."""


def read_csv(path):
    """Returns (t_ms, ax, ay, az) lists of ints. Accepts a header line; rejects anything else that is not numeric."""
    import lzma
    from pathlib import Path

    path = Path(path)
    opener = lzma.open if path.name.endswith(".xz") else open
    try:
        with opener(path, "rt") as f:
            text = f.read()
    except (OSError, lzma.LZMAError) as exc:
        raise RecordingError(f"{path}: cannot read ({exc})") from exc
    ts, xs, ys, zs = [], [], [], []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line or line[0] in "#tT":
            continue
        parts = line.split(",")
        if len(parts) < 4:
            raise RecordingError(f"{path}:{lineno}: expected t_ms,ax_mg,ay_mg,az_mg, got {line[:60]!r}")
        try:
            t = float(parts[0])
            x, y, z = float(parts[1]), float(parts[2]), float(parts[3])
        except ValueError:
            raise RecordingError(f"{path}:{lineno}: not a number in {line[:60]!r}") from None
        if ts and t < ts[-1]:
            raise RecordingError(f"{path}:{lineno}: time goes backwards ({t} after {ts[-1]})")
        ts.append(t)
        xs.append(x)
        ys.append(y)
        zs.append(z)
    return ts, xs, ys, zs


def to_device(ts, xs, ys, zs, rate_hz=DEVICE_RATE_HZ, range_g=DEVICE_RANGE_G):
    """Linear resampling onto a rate_hz grid starting at ts[0], rounded to int mg and clipped to +-range_g.

    Returns a list of (t_ms, ax, ay, az) int tuples. A recording already on the grid is copied, not interpolated.
    """
    lim = int(range_g * 1000)
    if not ts:
        return []

    def clip(v):
        v = int(round(v))
        return lim if v > lim else -lim if v < -lim else v

    step = 1000.0 / rate_hz
    t0 = ts[0]
    on_grid = all(abs((t - t0) - i * step) < 0.01 for i, t in enumerate(ts[:50])) and (
        abs((ts[-1] - t0) - (len(ts) - 1) * step) < 0.5)
    if on_grid:
        return [(int(round(t)), clip(x), clip(y), clip(z)) for t, x, y, z in zip(ts, xs, ys, zs, strict=True)]
    out = []
    j = 0
    n = len(ts)
    i = 0
    while True:
        t = t0 + i * step
        if t > ts[-1]:
            break
        while j + 1 < n and ts[j + 1] < t:
            j += 1
        if j + 1 < n and ts[j + 1] > ts[j]:
            w = (t - ts[j]) / (ts[j + 1] - ts[j])
            w = 0.0 if w < 0 else 1.0 if w > 1 else w
            x = xs[j] + w * (xs[j + 1] - xs[j])
            y = ys[j] + w * (ys[j + 1] - ys[j])
            z = zs[j] + w * (zs[j + 1] - zs[j])
        else:
            x, y, z = xs[j], ys[j], zs[j]
        out.append((int(round(t)), clip(x), clip(y), clip(z)))
        i += 1
    return out


def load(path, rate_hz=DEVICE_RATE_HZ, range_g=DEVICE_RANGE_G):
    return to_device(*read_csv(path), rate_hz=rate_hz, range_g=range_g)


def run_detector(detector, samples):
    """Feeds samples to a detector with update(ax, ay, az, t_ms); returns [(sample t_ms, result)] for non-None."""
    hits = []
    update = detector.update
    for t, x, y, z in samples:
        r = update(x, y, z, t)
        if r is not None:
            hits.append((t, r))
    return hits


# --- Synthetic shakes (the documented model of docs/triggers.md) --------------------------------------------------

WEAR_POSITIONS = {
    # name: (share of the hand's acceleration the device gets, gravity direction in the device frame or None for
    # any direction). A wrist band or a hand-held pendant moves with the hand; a belt clip shaken in its holster
    # moves less and stays upright.
    "hand": (1.0, None),
    "wrist": (0.9, None),
    "pendant": (0.8, (0.0, -1.0, 0.0)),
    "belt": (0.6, (0.0, -1.0, 0.0)),
}


def _unit(rng):
    while True:
        v = [rng.gauss(0, 1) for _ in range(3)]
        n = sum(c * c for c in v) ** 0.5
        if n > 1e-6:
            return [c / n for c in v]


def _perpendicular(u, rng):
    w = _unit(rng)
    d = sum(a * b for a, b in zip(u, w, strict=True))
    p = [b - d * a for a, b in zip(u, w, strict=True)]
    n = sum(c * c for c in p) ** 0.5 or 1.0
    return [c / n for c in p]


SHAKE_HALF_SIGMA = 0.35  # log-normal spread of half-cycle lengths: consecutive ones differ by a median ~1.4x
SHAKE_PEAK_SIGMA = 0.3  # log-normal spread of half-cycle strengths: p10-p90 ~0.7-1.5x


def _lognormal(rng, sigma):
    import math

    f = math.exp(rng.gauss(0.0, sigma))
    return 0.5 if f < 0.5 else 2.0 if f > 2.0 else f


def synthetic_shake(rng, freq_hz=None, amp_g=None, duration_s=None, position=None, rate_hz=DEVICE_RATE_HZ,
                    lead_s=2.0, tail_s=2.0, range_g=DEVICE_RANGE_G, background=None):
    """One deliberate shake: returns (samples, onset_ms, params).

    Model: a hand oscillating at freq_hz (2-7 Hz) with acceleration amplitude amp_g (1.5-6 g, log-uniform), each
    half-cycle's length and strength drawn log-normally (sigma 0.35 and 0.3, clipped to 0.5-2x), the first cycle
    ramping up from half strength, along a random axis in the device frame that wobbles (+-15 degrees) with a 25 %
    elliptical side component, scaled by the wear position, on top of gravity (direction drawn per position) and
    sensor noise (20 mg rms), lasting 1-3 s. `background`, if given, is a list of (ax, ay, az) mg samples of real
    activity used instead of still gravity + noise.

    Why these numbers (docs/triggers.md, "Synthetic shake model"): the 50 real Wiimote shakes have consecutive
    half-cycles differing by a median 1.38x (29 % of pairs by more than 1.7x; the earlier +-12 % jitter allowed at
    most 1.27x), excursion peaks spread 0.52-1.25x of their p95 (p10-p90; earlier +-20 %), a median active
    duration of 1.0 s (p10 0.34 s), and one-axis amplitudes from 0.4 to 3.1 g (p10-p90), so a 2 g floor was
    optimistic.
    """
    import math

    freq = freq_hz if freq_hz is not None else rng.uniform(2.0, 7.0)
    amp = amp_g if amp_g is not None else math.exp(rng.uniform(math.log(1.5), math.log(6.0)))
    dur = duration_s if duration_s is not None else rng.uniform(1.0, 3.0)
    pos = position if position is not None else rng.choice(sorted(WEAR_POSITIONS))
    share, gdir = WEAR_POSITIONS[pos]
    if gdir is None:
        gdir = _unit(rng)
    else:
        gdir = list(gdir)
    axis = _unit(rng)
    side = _perpendicular(axis, rng)
    wob = _perpendicular(axis, rng)
    n_lead = int(lead_s * rate_hz)
    n_shake = int(dur * rate_hz)
    n = n_lead + n_shake + int(tail_s * rate_hz)
    # Half-cycles with jittered lengths and strengths.
    dyn = [0.0] * n
    i = n_lead
    sign = 1.0
    half = 0
    while i < n_lead + n_shake:
        length = max(2, int(round(rate_hz / (2 * freq) * _lognormal(rng, SHAKE_HALF_SIGMA))))
        strength = amp * share * _lognormal(rng, SHAKE_PEAK_SIGMA) * (0.5 + 0.25 * half if half < 2 else 1.0)
        for j in range(length):
            if i + j >= n:
                break
            dyn[i + j] = sign * strength * math.sin(math.pi * (j + 0.5) / length)
        i += length
        sign = -sign
        half += 1
    samples = []
    step = 1000.0 / rate_hz
    lim = int(range_g * 1000)
    wob_f = rng.uniform(0.3, 1.0)
    for k in range(n):
        t = k / rate_hz
        a = dyn[k]
        tilt = math.radians(15) * math.sin(2 * math.pi * wob_f * t)
        ax_ = [math.cos(tilt) * u + math.sin(tilt) * w for u, w in zip(axis, wob, strict=True)]
        # Elliptical side motion: a quarter period out of phase, a quarter of the strength.
        s = 0.25 * dyn[k - max(1, int(rate_hz / (4 * freq)))] if k >= n_lead else 0.0
        if background is not None:
            bx, by, bz = background[k % len(background)]
            base = (bx, by, bz)
        else:
            base = tuple(1000.0 * gdir[c] + rng.gauss(0, 20) for c in range(3))
        v = [base[c] + 1000.0 * (a * ax_[c] + s * side[c]) for c in range(3)]
        v = [lim if x > lim else -lim if x < -lim else int(round(x)) for x in v]
        samples.append((int(round(k * step)), v[0], v[1], v[2]))
    onset = int(round(n_lead * step))
    params = {"freq_hz": round(freq, 2), "amp_g": round(amp, 2), "duration_s": round(dur, 2), "position": pos}
    return samples, onset, params


def wiimote_shakes(path):
    """The Wiimote 'shake' gestures: [(subject label, [g values])] (one axis, about 100 Hz, gravity included)."""
    out = []
    with open(path) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 3:
                continue
            values = [float(x) for x in cols[1:] if x and x.lower() != "nan"]
            out.append((cols[0], values))
    return out


def wiimote_to_device(values_g, rng, lead_s=2.0, tail_s=2.0, scale_to_g=None, rate_hz=DEVICE_RATE_HZ,
                      range_g=DEVICE_RANGE_G):
    """Puts one Wiimote axis on a random device axis direction on top of gravity: (samples, onset_ms).

    The recording's mean (gravity and any offset) is removed; what remains is the hand's acceleration along that
    axis. Onset is the first sample whose |acceleration| reaches half the recording's 95th percentile (the
    recordings start with a still hand of varying length). scale_to_g rescales so that 95th percentile = that.
    """
    m = sum(values_g) / len(values_g)
    dyn = [v - m for v in values_g]
    mags = sorted(abs(v) for v in dyn)
    p95 = mags[int(0.95 * (len(mags) - 1))] or 1e-3
    k = scale_to_g / p95 if scale_to_g else 1.0
    dyn = [v * k for v in dyn]
    first = next(i for i, v in enumerate(dyn) if abs(v) >= 0.5 * p95 * k)
    axis = _unit(rng)
    gdir = _unit(rng)
    n_lead = int(lead_s * rate_hz)
    seq = [0.0] * n_lead + dyn + [0.0] * int(tail_s * rate_hz)
    lim = int(range_g * 1000)
    step = 1000.0 / rate_hz
    samples = []
    for i, a in enumerate(seq):
        v = [1000.0 * (gdir[c] + a * axis[c]) + rng.gauss(0, 20) for c in range(3)]
        v = [lim if x > lim else -lim if x < -lim else int(round(x)) for x in v]
        samples.append((int(round(i * step)), v[0], v[1], v[2]))
    return samples, int(round((n_lead + first) * step))


# --- Chips on a fake I2C bus (MicroPython-compatible subset: no zip(strict=), no f-strings with '=') -------------

ENODEV = 19  # what machine.I2C raises (OSError) when no device acknowledges the address


class FakeI2C:
    """The machine.I2C memory interface over simulated chips, with a transaction count for the tests."""

    def __init__(self, *devices):
        self.devices = {}
        self.transactions = 0
        for d in devices:
            self.attach(d)

    def attach(self, device):
        self.devices[device.address] = device
        return device

    def scan(self):
        return sorted(self.devices)

    def _device(self, addr):
        self.transactions += 1
        dev = self.devices.get(addr)
        if dev is None:
            raise OSError(ENODEV)
        return dev

    def readfrom_mem(self, addr, reg, n):
        buf = bytearray(n)
        self._device(addr).read(reg, buf)
        return bytes(buf)

    def readfrom_mem_into(self, addr, reg, buf):
        self._device(addr).read(reg, buf)

    def writeto_mem(self, addr, reg, data):
        self._device(addr).write(reg, data)


def _clip16(v):
    return 32767 if v > 32767 else -32768 if v < -32768 else v


class FakeMPU6050:
    """MPU-6050 (WHO_AM_I 0x68) or MPU-6500 (who_am_i=0x70): accelerometer part of the register map.

    push(x_mg, y_mg, z_mg) is one sample period of the chip: output registers, FIFO (1024 bytes, oldest bytes
    overwritten when full, FIFO_OFLOW flagged) and the motion interrupt (|change| > MOT_THR * 2 mg for MOT_DUR
    samples, on any axis; the chip's high-pass is modelled as the change from the previous sample).
    """

    FIFO_SIZE = 1024

    def __init__(self, address=0x68, who_am_i=0x68):
        self.address = address
        self.who_am_i = who_am_i
        self.fifo = []
        self.int_pin = False
        self.reset()

    def reset(self):
        self.regs = bytearray(128)
        self.regs[0x6B] = 0x40  # PWR_MGMT_1: asleep after power-on/reset
        self.regs[0x75] = self.who_am_i
        self.fifo = []  # bytes as ints (MicroPython's bytearray cannot delete items)
        self.int_pin = False
        self._prev = None
        self._mot_count = 0
        self.resets = getattr(self, "resets", -1) + 1

    def _lsb_per_g(self):
        return 16384 >> ((self.regs[0x1C] >> 3) & 3)

    def push(self, x_mg, y_mg, z_mg):
        r = self.regs
        if r[0x6B] & 0x40 and not r[0x6B] & 0x20:
            return  # asleep (and not cycling): no conversion
        lsb = self._lsb_per_g()
        raw = (_clip16(x_mg * lsb // 1000), _clip16(y_mg * lsb // 1000), _clip16(z_mg * lsb // 1000))
        data = bytearray(6)
        for i in range(3):
            v = raw[i] & 0xFFFF
            data[2 * i] = v >> 8
            data[2 * i + 1] = v & 0xFF
        r[0x3B:0x41] = data
        if r[0x6A] & 0x40 and r[0x23] & 0x08:  # USER_CTRL.FIFO_EN and FIFO_EN.ACCEL
            self.fifo.extend(data)
            if len(self.fifo) > self.FIFO_SIZE:
                self.fifo = self.fifo[len(self.fifo) - self.FIFO_SIZE:]
                r[0x3A] |= 0x10  # FIFO_OFLOW_INT
        if r[0x38] & 0x40 and self._prev is not None:  # INT_ENABLE.MOT_EN
            thr = r[0x1F] * 2
            moved = False
            for i in range(3):
                if abs((x_mg, y_mg, z_mg)[i] - self._prev[i]) > thr:
                    moved = True
            self._mot_count = self._mot_count + 1 if moved else 0
            if moved and self._mot_count >= max(1, r[0x20]):
                r[0x3A] |= 0x40  # MOT_INT
                self.int_pin = True
        self._prev = (x_mg, y_mg, z_mg)

    def read(self, reg, buf):
        r = self.regs
        for i in range(len(buf)):
            if reg == 0x74:  # FIFO_R_W does not auto-increment: each byte pops the FIFO
                if self.fifo:
                    buf[i] = self.fifo.pop(0)
                else:
                    buf[i] = 0xFF
                continue
            a = reg + i
            if a == 0x72:
                buf[i] = (len(self.fifo) >> 8) & 0xFF
            elif a == 0x73:
                buf[i] = len(self.fifo) & 0xFF
            else:
                buf[i] = r[a & 0x7F]
            if a == 0x3A:  # INT_STATUS clears on read
                r[0x3A] = 0
                self.int_pin = False

    def write(self, reg, data):
        for i in range(len(data)):
            a = (reg + i) & 0x7F
            v = data[i]
            if a == 0x6B and v & 0x80:
                self.reset()
                continue
            if a == 0x6A and v & 0x04:  # FIFO_RESET self-clears
                self.fifo = []
                v &= ~0x04
            if a in (0x75, 0x3A, 0x72, 0x73):
                continue  # read-only
            self.regs[a] = v


class FakeLIS3DH:
    """LIS3DH (WHO_AM_I 0x33): high-resolution/normal/low-power output, +-2..16 g, FIFO of 32 samples (FIFO and
    stream modes, overrun flag), auto-increment only when the sub-address MSB is set (rolling back from OUT_Z_H to
    OUT_X_L while the FIFO is on), INT1 wake-up on high events with threshold, duration and latch. The interrupt
    high-pass (HP_IA1) is modelled by subtracting the sample at the time INT1_CFG was written.
    """

    FIFO_DEPTH = 32
    _THS_MG = (16, 32, 62, 186)
    _SENS_HR = (1, 2, 4, 12)  # mg/digit in 12-bit high-resolution mode

    def __init__(self, address=0x18):
        self.address = address
        self.reset()

    def reset(self):
        self.regs = bytearray(64)
        self.regs[0x0F] = 0x33
        self.regs[0x20] = 0x07
        self.fifo = []
        self.int1 = False
        self._ref = (0, 0, 0)
        self._last = (0, 0, 0)
        self._dur = 0
        self._out_index = 0

    def _encode(self, mg):
        fs = (self.regs[0x23] >> 4) & 3
        v = _clip16((mg // self._SENS_HR[fs]) << 4) if self.regs[0x23] & 0x08 else _clip16(
            (mg // (self._SENS_HR[fs] * 4)) << 6)
        return v & 0xFFFF

    def push(self, x_mg, y_mg, z_mg):
        r = self.regs
        if (r[0x20] >> 4) == 0:
            return  # power-down
        sample = bytearray(6)
        for i in range(3):
            v = self._encode((x_mg, y_mg, z_mg)[i])
            sample[2 * i] = v & 0xFF
            sample[2 * i + 1] = v >> 8
        r[0x28:0x2E] = sample
        mode = r[0x2E] >> 6
        if r[0x24] & 0x40 and mode:
            if len(self.fifo) >= self.FIFO_DEPTH:
                r[0x2F] |= 0x40  # OVRN_FIFO
                if mode == 2:  # stream: oldest dropped
                    self.fifo.pop(0)
                    self.fifo.append(sample)
            else:
                self.fifo.append(sample)
        self._last = (x_mg, y_mg, z_mg)
        cfg = r[0x30]
        if cfg & 0x3F:
            fs = (r[0x23] >> 4) & 3
            thr = (r[0x32] & 0x7F) * self._THS_MG[fs]
            vals = (x_mg, y_mg, z_mg)
            hit = False
            for i in range(3):
                v = vals[i] - self._ref[i] if r[0x21] & 0x01 else vals[i]
                if cfg & (0x02 << (2 * i)) and v > thr:
                    hit = True
                if cfg & (0x01 << (2 * i)) and v < -thr:
                    hit = True
            self._dur = self._dur + 1 if hit else 0
            if hit and self._dur > (r[0x33] & 0x7F):
                r[0x31] = 0x40 | 0x2A
                if r[0x22] & 0x40:
                    self.int1 = True
            elif not r[0x24] & 0x08:  # not latched: follows the condition
                r[0x31] = 0
                self.int1 = False

    def _fifo_src(self):
        n = len(self.fifo)
        v = self.regs[0x2F] & 0x40
        if n == 0:
            v |= 0x20
        return v | (n if n < 32 else 31)

    def read(self, reg, buf):
        inc = reg & 0x80
        a = reg & 0x7F
        fifo_on = self.regs[0x24] & 0x40 and self.regs[0x2E] >> 6
        for i in range(len(buf)):
            if 0x28 <= a <= 0x2D and fifo_on:
                if self._out_index == 0 and self.fifo:
                    self.regs[0x28:0x2E] = self.fifo.pop(0)
                    if len(self.fifo) < self.FIFO_DEPTH:
                        self.regs[0x2F] &= ~0x40
                buf[i] = self.regs[a]
                self._out_index = (self._out_index + 1) % 6
            elif a == 0x2F:
                buf[i] = self._fifo_src()
            else:
                buf[i] = self.regs[a]
            if a == 0x31:  # INT1_SRC read clears a latched interrupt
                self.regs[0x31] = 0
                self.int1 = False
            if inc:
                a += 1
                if a == 0x2E and fifo_on:
                    a = 0x28  # roll back to OUT_X_L: bursts read several FIFO samples
        if not fifo_on:
            self._out_index = 0

    def write(self, reg, data):
        a = reg & 0x7F
        for i in range(len(data)):
            v = data[i]
            if a == 0x24 and v & 0x80:  # BOOT: reload trimming; registers keep their values
                v &= ~0x80
            if a == 0x2E and (v >> 6) == 0:
                self.fifo = []  # bypass mode empties the FIFO
                self.regs[0x2F] &= ~0x40
            if a == 0x30:
                self._ref = self._last
                self._dur = 0
            if a not in (0x0F, 0x2F, 0x31, 0x27):
                self.regs[a] = v
            if reg & 0x80:
                a += 1


def replay(chip, samples):
    """Pushes (t_ms, ax, ay, az) samples into a fake chip, one sample period each; yields after each push."""
    for t, x, y, z in samples:
        chip.push(x, y, z)
        yield t


# --- Synthetic negatives: clapping and a bus ride (what must NOT call for help) ----------------------------------

def synthetic_clapping(rng, duration_s=None, rate_hz=DEVICE_RATE_HZ, range_g=DEVICE_RANGE_G, lead_s=0.5):
    """Applause with the device on a wrist: returns samples. Per clap (2-5 Hz): the hand accelerates toward the
    other (a lobe of 0.8-2 g), hits it (a 15-25 ms spike of 3-8 g the other way), then is pulled back (a lobe of
    0.5-1.5 g); the clap axis wobbles +-20 degrees; gravity in a random direction; 20 mg noise. The applause starts
    after lead_s of stillness (the evaluation uses 2 s, so a detector that has just started is settled and sees
    applause from a still hand, as it would when running all day)."""
    import math

    dur = duration_s if duration_s is not None else rng.uniform(5.0, 20.0)
    rate = rng.uniform(2.0, 5.0)
    axis = _unit(rng)
    wob = _perpendicular(axis, rng)
    gdir = _unit(rng)
    n = int((dur + lead_s - 0.5) * rate_hz)
    dyn = [0.0] * n
    i = int(lead_s * rate_hz)
    while i < n:
        period = max(8, int(rate_hz / rate * rng.uniform(0.9, 1.1)))
        a1 = rng.uniform(0.8, 2.0)
        spike = rng.uniform(3.0, 8.0)
        a2 = rng.uniform(0.5, 1.5)
        approach = int(period * 0.45)
        hit = max(2, int(rng.uniform(0.015, 0.025) * rate_hz))
        back = period - approach - hit
        for j in range(approach):
            if i + j < n:
                dyn[i + j] = a1 * math.sin(math.pi * (j + 0.5) / approach)
        for j in range(hit):
            if i + approach + j < n:
                dyn[i + approach + j] = -spike * math.sin(math.pi * (j + 0.5) / hit)
        for j in range(back):
            if i + approach + hit + j < n:
                dyn[i + approach + hit + j] = -a2 * math.sin(math.pi * (j + 0.5) / back)
        i += period
    lim = int(range_g * 1000)
    out = []
    for k in range(n):
        tilt = math.radians(20) * math.sin(2 * math.pi * 0.4 * k / rate_hz)
        ax_ = [math.cos(tilt) * u + math.sin(tilt) * w for u, w in zip(axis, wob, strict=True)]
        v = [1000.0 * (gdir[c] + dyn[k] * ax_[c]) + rng.gauss(0, 20) for c in range(3)]
        v = [lim if x > lim else -lim if x < -lim else int(round(x)) for x in v]
        out.append((int(round(k * 1000 / rate_hz)), v[0], v[1], v[2]))
    return out


def synthetic_bus_ride(rng, duration_s=None, rate_hz=DEVICE_RATE_HZ, range_g=DEVICE_RANGE_G):
    """A seated passenger: engine and road vibration (3-15 Hz, 0.05-0.25 g), bumps every 3-20 s (a 60-150 ms
    half-sine of 0.5-2 g, mostly vertical, with a 25 % damped rebound), braking and acceleration (0.1-0.3 g over
    2-5 s), device upright with some tilt; returns samples."""
    import math

    dur = duration_s if duration_s is not None else rng.uniform(60.0, 300.0)
    n = int(dur * rate_hz)
    up = [0.0, -1.0, 0.0]
    tilt = _unit(rng)
    g = [up[c] + 0.3 * tilt[c] for c in range(3)]
    gn = sum(c * c for c in g) ** 0.5
    g = [c / gn for c in g]
    fwd = _perpendicular(g, rng)
    vib = [(rng.uniform(3, 15), rng.uniform(0.05, 0.25) / 3, _unit(rng), rng.uniform(0, 6.28)) for _ in range(3)]
    dyn = [[0.0, 0.0, 0.0] for _ in range(n)]
    i = int(rng.uniform(3, 20) * rate_hz)
    while i < n:
        amp = rng.uniform(0.5, 2.0)
        width = int(rng.uniform(0.06, 0.15) * rate_hz) or 1
        for j in range(2 * width):
            if i + j >= n:
                break
            s = math.sin(math.pi * (j + 0.5) / width)
            a = amp * s if j < width else -0.25 * amp * s
            for c in range(3):
                dyn[i + j][c] += -a * g[c]
        i += int(rng.uniform(3, 20) * rate_hz)
    i = 0
    while i < n:
        length = int(rng.uniform(2, 5) * rate_hz)
        a = rng.uniform(0.1, 0.3) * rng.choice((-1, 1))
        for j in range(length):
            if i + j >= n:
                break
            s = a * math.sin(math.pi * (j + 0.5) / length)
            for c in range(3):
                dyn[i + j][c] += s * fwd[c]
        i += length + int(rng.uniform(5, 30) * rate_hz)
    lim = int(range_g * 1000)
    out = []
    for k in range(n):
        t = k / rate_hz
        v = []
        for c in range(3):
            a = g[c] + dyn[k][c]
            for f, amp, d, ph in vib:
                a += amp * d[c] * math.sin(2 * math.pi * f * t + ph)
            x = 1000.0 * a + rng.gauss(0, 20)
            v.append(lim if x > lim else -lim if x < -lim else int(round(x)))
        out.append((int(round(k * 1000 / rate_hz)), v[0], v[1], v[2]))
    return out
