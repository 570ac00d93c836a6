"""`deme gps`: look at a GNSS receiver the way the wearable does.

  deme gps watch PORT [--baud 9600] [--seconds N] [--json]   a status line per second for installers
  deme gps sim [--out PATH] [--seconds N] [--speed X] ...    the simulated receiver's NMEA (hub.sim.gps)
"""
import json
import sys
import threading
import time

from drivers.compat import ticks_ms
from drivers.gps import GPS
from hub.cli import UsageError
from hub.serialport import SerialPortError, SerialUART
from hub.sim.gps import SEGOU, NMEAFeeder


def register(subparsers):
    parser = subparsers.add_parser("gps", help="watch a GNSS receiver, or run the simulated one")
    actions = parser.add_subparsers(dest="gps_action", metavar="ACTION")
    actions.required = True

    watch = actions.add_parser("watch", help="print fix, satellites, HDOP, position, TTFF and errors each second")
    watch.add_argument("port", help="serial port of the receiver, e.g. /dev/ttyUSB0 or /dev/serial0")
    watch.add_argument("--baud", type=int, default=9600, help="receiver baud rate (u-blox and L76K: 9600)")
    watch.add_argument("--seconds", type=int, default=None, help="stop after this many seconds")
    watch.add_argument("--json", action="store_true", help="one JSON object per second instead of text")
    watch.set_defaults(func=run_watch)

    sim = actions.add_parser("sim", help="write the simulated receiver's NMEA to a file, pty or stdout")
    sim.add_argument("--out", default="-", help="path to write to (a pty from `socat` or a file); - = stdout")
    sim.add_argument("--seconds", type=int, default=None, help="stop after this many simulated seconds")
    sim.add_argument("--speed", type=float, default=1.0, help="x real time (0 = as fast as possible)")
    sim.add_argument("--lat", type=float, default=SEGOU[0])
    sim.add_argument("--lon", type=float, default=SEGOU[1])
    sim.add_argument("--receiver", default="ublox", choices=["ublox", "l76k", "gp"])
    sim.add_argument("--fix-after", type=int, default=5, metavar="S", help="cold start: seconds without a fix")
    sim.add_argument("--walk", type=float, default=0.0, metavar="M/S", help="walk at this speed")
    sim.add_argument("--noise", type=float, default=0.0, help="probability of a UART fault per sentence")
    sim.set_defaults(func=run_sim)


def status_line(gps, now_ms, started_ms):
    st = gps.status(now_ms)
    fix = gps.fix(now_ms)
    ttff = "%.1fs" % (gps.ttff_ms / 1000) if gps.ttff_ms is not None else "-"
    pos = "%.6f,%.6f acc %.0fm" % (fix["lat"], fix["lon"], fix["acc_m"]) if fix else "no position"
    hdop = "%.2f" % st["hdop"] if st["hdop"] is not None else "-"
    elapsed = (now_ms - started_ms) // 1000
    return (f"{elapsed:4d}s fix={st['mode']:<4} sats={st['sats'] if st['sats'] is not None else '-'}"
            f"/{st['in_view'] if st['in_view'] is not None else '-'} hdop={hdop} {pos} ttff={ttff} "
            f"sentences={st['sentences']} errors={st['errors']}")


def watch(uart, seconds=None, as_json=False, out=None, clock=ticks_ms, sleep=time.sleep):
    """Read the receiver and print one status per second; returns the GPS state when done."""
    out = out or sys.stdout
    gps = GPS()
    started = clock()
    gps.wake(started)
    next_print = started + 1000
    while True:
        n = uart.any()
        if n:
            data = uart.read(min(n, 1024))
            if data:
                gps.feed(data, clock())
        else:
            sleep(0.02)
        now = clock()
        if now >= next_print:
            next_print += 1000
            if as_json:
                line = dict(gps.status(now), fix=gps.fix(now), elapsed_s=(now - started) // 1000)
                print(json.dumps(line), file=out, flush=True)
            else:
                print(status_line(gps, now, started), file=out, flush=True)
            if seconds is not None and now - started >= seconds * 1000:
                return gps


def run_watch(args):
    if args.seconds is not None and args.seconds < 1:
        raise UsageError("--seconds must be at least 1")
    try:
        with SerialUART(args.port, args.baud) as uart:
            watch(uart, args.seconds, args.json)
    except SerialPortError as exc:
        raise UsageError(str(exc)) from None
    return 0


def run_sim(args):
    if args.speed < 0:
        raise UsageError("--speed cannot be negative")
    feeder = NMEAFeeder(args.lat, args.lon, receiver=args.receiver, fix_after_s=args.fix_after,
                        walk_mps=args.walk, noise=args.noise)
    stop = threading.Event()
    if args.out == "-":
        target = sys.stdout.buffer
    else:
        try:
            target = open(args.out, "wb", buffering=0)  # noqa: SIM115 - closed below, kept open while streaming
        except OSError as exc:
            raise UsageError(f"cannot open {args.out}: {exc.strerror}") from None

    def write(data):
        target.write(data)
        target.flush()

    try:
        if args.speed == 0:
            for i in range(args.seconds if args.seconds is not None else 60):
                write(b"".join(feeder.sentences_for_second(i)))
        else:
            feeder.run_to(write, stop, speed=args.speed, max_seconds=args.seconds)
    except BrokenPipeError:
        pass
    finally:
        if target is not sys.stdout.buffer:
            target.close()
    return 0
