"""Accelerometer recordings as the wearable's chip would give them to the detectors: read `t_ms,ax_mg,ay_mg,az_mg`
CSV (.csv or .csv.xz), resample to the device rate and clip to the device range; run a detector over them
(`deme shake|fall FILE`, make eval, the simulators' replays)."""
import lzma
from pathlib import Path

DEVICE_RATE_HZ = 100
DEVICE_RANGE_G = 8


class RecordingError(ValueError):
    """A recording that cannot be read; the message names the file and the line."""


def read_csv(path):
    """Returns (t_ms, ax, ay, az) lists of ints. Accepts a header line; rejects anything else that is not numeric."""
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
