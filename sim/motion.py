"""How people move, for the simulators and the evaluation: synthetic shakes, clapping and bus rides, and the Wiimote
shake recordings (CPython). The accelerometer chips they are replayed into are in sim/chips/.
"""

from hub.recordings import DEVICE_RANGE_G, DEVICE_RATE_HZ

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


# --- Replays into a simulated chip ----------------------------------------------------------------------------------

def replay(chip, samples):
    """Pushes (t_ms, ax, ay, az) samples into a simulated chip (sim/chips/), one sample period each; yields each
    sample's t_ms after its push, so the caller reads the chip's FIFO when its firmware would."""
    for t, x, y, z in samples:
        chip.push(x, y, z)
        yield t
