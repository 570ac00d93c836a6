"""PDU codec speed: encodes and decodes per second on CPython, then the same loop on the MicroPython unix port
(a desktop CPU: a microcontroller is one to two orders of magnitude slower). Figures, not a test."""
import contextlib
import io
import tempfile
import time
from pathlib import Path

from drivers import pdu
from tests.support.micropython import run_micropython

CASES = [
    ("gsm7 alert, 1 part", "SOS;id=17;n=42;lat=12.6392;lon=-8.0029;acc=12;bat=81", None),
    ("ucs2 bambara, 1 part", "Aw ni ce, ɲɔgɔn bɛ se ka na? Dɛmɛ ka taa", None),
    ("gsm7 + escapes, 4 parts", "Prix {20€} [ok] " * 24, 0x42),
]

# Runs on MicroPython and CPython alike: prints "case|encodes/s|decodes/s".
LOOP = '''
import time
from drivers import pdu
try:
    ticks, diff = time.ticks_ms, time.ticks_diff
except AttributeError:
    ticks = lambda: int(time.monotonic() * 1000)
    diff = lambda a, b: a - b
CASES = %r
for name, text, ref in CASES:
    for what in ("enc", "dec"):
        pdus = [p for p, _n in pdu.encode_submit("+22370123456", text, concat_ref=ref)]
        n = 0
        t0 = ticks()
        while diff(ticks(), t0) < %d:
            if what == "enc":
                pdu.encode_submit("+22370123456", text, concat_ref=ref)
            else:
                for p in pdus:
                    pdu.decode(p)
            n += 1
        rate = n * 1000 // max(1, diff(ticks(), t0))
        print("%%s|%%s|%%d" %% (name, what, rate))
'''


def _table(lines, runtime):
    rates = {}
    for line in lines:
        parts = line.split("|")
        if len(parts) == 3:
            rates.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    for name, r in rates.items():
        print(f"  {runtime:<11} {name:<26} encode {r.get('enc', 0):>7}/s   decode {r.get('dec', 0):>7}/s (messages)")


def main(duration_ms=400):
    script = LOOP % (CASES, duration_ms)
    namespace = {}
    t0 = time.perf_counter()
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(script, "bench_pdu_loop", "exec"), namespace)  # noqa: S102 - our own loop, shared with MicroPython
    out = buffer.getvalue().splitlines()
    _table(out, "CPython")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_pdu_mp.py"
        path.write_text(script, encoding="utf-8")
        result = run_micropython(path, heap="256k", timeout=120)
    if result.returncode:
        print("  MicroPython run failed:", result.stderr.strip()[-500:])
    else:
        _table(result.stdout.splitlines(), "MicroPython")
    print(f"  (each figure over {duration_ms} ms; total {time.perf_counter() - t0:.1f} s)")
    sizes = [len(pdu.encode_submit("+22370123456", text, concat_ref=ref)) for _n, text, ref in CASES]
    print(f"  parts per case: {sizes}; one 'decode' decodes every part of the message")
    return 0


if __name__ == "__main__":
    main()
