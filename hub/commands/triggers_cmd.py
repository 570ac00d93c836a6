"""`deme shake FILE...` and `deme fall FILE...`: run the wearable's own detectors over accelerometer recordings.

Recordings are CSV `t_ms,ax_mg,ay_mg,az_mg` (.csv or .csv.xz) at any rate: they are resampled to the device rate and
clipped to the device range first, so the detectors see what the chip would have given them. One JSON line per
detection: {"file", "t_ms"} (shake: onset of the shake; fall: time of the impact) plus "at_ms", when the detector
decided.
"""
import json
import sys
from pathlib import Path

from drivers.fall import FallDetector
from drivers.shake import SENSITIVITY, ShakeDetector
from hub.recordings import DEVICE_RANGE_G, DEVICE_RATE_HZ, RecordingError, load, run_detector


def register(subparsers):
    # COMMANDS in hub/cli.py names this module for both "shake" and "fall": register each once.
    if "shake" not in subparsers.choices:
        p = subparsers.add_parser("shake", help="run the shake detector over accelerometer recordings (CSV)")
        _common(p)
        p.add_argument("--sensitivity", type=int, default=3,
                       help="1 (hardest to trigger) .. 5 (easiest); default 3")
        p.set_defaults(func=shake_command)
    if "fall" not in subparsers.choices:
        p = subparsers.add_parser("fall", help="run the fall detector over accelerometer recordings (CSV)")
        _common(p)
        p.set_defaults(func=fall_command)


def _common(p):
    p.add_argument("files", nargs="+", metavar="FILE", help="t_ms,ax_mg,ay_mg,az_mg CSV, optionally .xz")
    p.add_argument("--rate", type=int, default=DEVICE_RATE_HZ, help="device sample rate in Hz (default 100)")
    p.add_argument("--range-g", type=int, default=DEVICE_RANGE_G, help="device range in g (default 8)")


def _check(args):
    from hub.cli import UsageError

    if not 10 <= args.rate <= 1000:
        raise UsageError(f"--rate must be 10..1000 Hz, got {args.rate}")
    if args.range_g not in (2, 4, 8, 16):
        raise UsageError(f"--range-g must be 2, 4, 8 or 16, got {args.range_g}")
    for f in args.files:
        if not Path(f).is_file():
            raise UsageError(f"no such recording: {f}")


def _run(args, make_detector, time_of):
    from hub.cli import UsageError

    _check(args)
    for f in args.files:
        try:
            samples = load(f, rate_hz=args.rate, range_g=args.range_g)
        except RecordingError as exc:
            raise UsageError(str(exc)) from None
        for at, result in run_detector(make_detector(), samples):
            print(json.dumps({"file": f, "t_ms": time_of(result), "at_ms": at}))
            sys.stdout.flush()
    return 0


def shake_command(args):
    from hub.cli import UsageError

    if args.sensitivity not in SENSITIVITY:
        raise UsageError(f"--sensitivity must be 1..5, got {args.sensitivity}")
    return _run(args, lambda: ShakeDetector(rate_hz=args.rate, sensitivity=args.sensitivity), lambda r: r)


def fall_command(args):
    return _run(args, lambda: FallDetector(rate_hz=args.rate), lambda r: r[1])
