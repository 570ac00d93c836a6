"""`deme gps`: look at a GNSS receiver the way the wearable does.

  deme gps watch PORT [--baud 9600] [--seconds N] [--json]   a status line per second for installers

The simulated receiver that can stand in for one is `python -m sim.gps`.
"""
import json
import sys
import time

from drivers.compat import ticks_ms
from drivers.gps import GPS
from hub.cli import UsageError
from hub.platform.serialport import SerialPortError, SerialUART


def register(subparsers):
    parser = subparsers.add_parser("gps", help="watch a GNSS receiver")
    actions = parser.add_subparsers(dest="gps_action", metavar="ACTION")
    actions.required = True

    watch = actions.add_parser("watch", help="print fix, satellites, HDOP, position, TTFF and errors each second")
    watch.add_argument("port", help="serial port of the receiver, e.g. /dev/ttyUSB0 or /dev/serial0")
    watch.add_argument("--baud", type=int, default=9600, help="receiver baud rate (u-blox and L76K: 9600)")
    watch.add_argument("--seconds", type=int, default=None, help="stop after this many seconds")
    watch.add_argument("--json", action="store_true", help="one JSON object per second instead of text")
    watch.set_defaults(func=run_watch)


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

