"""`make bench`: cost of the trigger detectors on the device's interpreter (MicroPython unix port, 64 KiB heap)
and on CPython: time per sample, heap held by each detector, bytes allocated per sample (should be 0)."""
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_SCRIPT = r"""
import gc, time, sys
from drivers.shake import ShakeDetector
from drivers.fall import FallDetector
from drivers.button import ButtonDecoder

N = 20000
seed = 12345
def lcg():
    global seed
    seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
    return (seed >> 16) % 200 - 100

# A signal that keeps the detectors busy: walking-like sway, a shake every 5 s, an impact now and then.
TRI = (0, 1200, 2400, 3000, 2400, 1200, 0, -1200, -2400, -3000, -2400, -1200)
from array import array
M = 500
xs = array("h", [0] * M)
ys = array("h", [0] * M)
zs = array("h", [0] * M)
for i in range(M):
    xs[i] = TRI[i % 12] if i < 150 else lcg() * 3
    ys[i] = -1000 + lcg()
    zs[i] = lcg() + (2500 if i == 300 else 0)

def bench(name, make, feed):
    gc.collect()
    before = gc.mem_free()
    det = make()
    gc.collect()
    held = before - gc.mem_free()
    gc.collect()
    gc.disable()
    a0 = gc.mem_alloc()
    t0 = time.ticks_us()
    feed(det)
    dt = time.ticks_diff(time.ticks_us(), t0)
    a1 = gc.mem_alloc()
    gc.enable()
    print("%-14s %7.1f us/sample  heap held %5d B  allocated during %d samples: %d B" % (
        name, dt / N, held, N, a1 - a0))

def feed_imu(det):
    t = 0
    u = det.update
    for i in range(N):
        j = i % M
        u(xs[j], ys[j], zs[j], t)
        t += 10

def feed_button(det):
    t = 0
    u = det.update
    for i in range(N):
        u((i % 50) < 12, t)
        t += 10

bench("ShakeDetector", ShakeDetector, feed_imu)
bench("FallDetector", FallDetector, feed_imu)
bench("ButtonDecoder", ButtonDecoder, feed_button)
print("MicroPython", sys.version.split()[0], sys.implementation)
"""


def micropython_figures():
    """Runs the benchmark on the MicroPython unix port; returns its output lines."""
    sys.path.insert(0, str(REPO))
    from tests.support.micropython import run_micropython

    with tempfile.TemporaryDirectory() as d:
        script = Path(d) / "bench_triggers_mp.py"
        script.write_text(_SCRIPT)
        result = run_micropython(script, heap="64k", timeout=300)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0:
        lines.append("micropython failed: " + result.stderr.strip()[-500:])
    return lines


def cpython_figures():
    sys.path.insert(0, str(REPO))
    from drivers.fall import FallDetector
    from drivers.shake import ShakeDetector

    n = 200000
    out = []
    for name, cls in (("ShakeDetector", ShakeDetector), ("FallDetector", FallDetector)):
        det = cls()
        t0 = time.perf_counter()
        t = 0
        for i in range(n):
            det.update((i % 20) * 150 - 1500, -1000, 0, t)
            t += 10
        out.append(f"{name:14s} {1e6 * (time.perf_counter() - t0) / n:7.2f} us/sample (CPython)")
    return out


def main():
    for line in micropython_figures():
        print(line)
    for line in cpython_figures():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
