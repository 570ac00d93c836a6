"""`deme sim ...`: act on the running demo's simulated wearables (the wearer's hand).

A thin client of the demo's control socket (the demo, sim/demo.py, is not part of the hub: this never imports it).
It finds the demo from any folder: `make demo` records where it runs in a per-user file (`demo_pointer_path()`);
`--run-dir` or DEME_RUN_DIR name another run folder instead (the e2e tests' demos)."""
import json
import os
import socket
from pathlib import Path

from hub.cli import UsageError


def demo_pointer_path():
    """Where `make demo` records its run folder and process id while it runs: $XDG_RUNTIME_DIR/deme/demo.json
    (a per-user folder the session's end empties), else ~/.cache/deme/demo.json."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) if runtime else Path.home() / ".cache"
    return base / "deme" / "demo.json"


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process has that id: not our demo, but it exists
        return True
    return True


def running_demo_dir():
    """The run folder of the demo `make demo` recorded, if that demo is still running; UsageError otherwise."""
    pointer = demo_pointer_path()
    try:
        recorded = json.loads(pointer.read_text())
        run_dir, pid = Path(recorded["run_dir"]), int(recorded["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        raise UsageError(f"no demo running (nothing recorded in {pointer}); start one with `make demo`, or name "
                         "its folder with --run-dir") from None
    if not _alive(pid):
        raise UsageError(f"no demo running (the one recorded in {pointer}, process {pid} in {run_dir}, has "
                         "ended); start one with `make demo`") from None
    return run_dir


def register(subparsers):
    parser = subparsers.add_parser("sim", help="press, shake or drop the demo's simulated wearables")
    parser.add_argument("--run-dir", default=None,
                        help="the demo's run folder (default: $DEME_RUN_DIR, else the running `make demo`)")
    actions = parser.add_subparsers(dest="sim_action", metavar="ACTION")
    actions.required = True
    press = actions.add_parser("press", help="hold the button (SOS)")
    press.add_argument("device")
    press.add_argument("--hold", type=float, default=2.5, help="seconds held (default 2.5)")
    press.set_defaults(func=run, cmd="press")
    tap = actions.add_parser("tap", help="short presses: a category pattern")
    tap.add_argument("device")
    tap.add_argument("--count", type=int, default=2)
    tap.set_defaults(func=run, cmd="tap")
    shake = actions.add_parser("shake", help="shake the wearable hard (SOS)")
    shake.add_argument("device")
    shake.add_argument("--seconds", type=float, default=2.0)
    shake.add_argument("--freq", type=float, default=4.0, help="shakes per second (default 4)")
    shake.add_argument("--amplitude", type=int, default=2500, help="milli-g (default 2500)")
    shake.add_argument("--axis", choices=["x", "y", "z"], default="x",
                       help="device axis (x and z horizontal, y vertical when worn upright)")
    shake.set_defaults(func=run, cmd="shake")
    fall = actions.add_parser("fall", help="the wearer falls and lies still (FALL alarm unless cancelled)")
    fall.add_argument("device")
    fall.add_argument("--lie", type=float, default=8.0, help="seconds lying still before getting up (default 8)")
    fall.set_defaults(func=run, cmd="fall")
    for name, what in (("walk", "walk"), ("jog", "jog")):
        activity = actions.add_parser(name, help=f"{what} for a while (must not alarm)")
        activity.add_argument("device")
        activity.add_argument("--seconds", type=float, default=10.0)
        activity.set_defaults(func=run, cmd=name)
    battery = actions.add_parser("battery", help="set the battery level")
    battery.add_argument("device")
    battery.add_argument("percent", type=int)
    battery.set_defaults(func=run, cmd="battery")
    status = actions.add_parser("status", help="what is running")
    status.set_defaults(func=run, cmd="status", device=None)
    sms = actions.add_parser("sms", help="type an SMS to the hub on a simulated phone (a responder, a reporter)")
    sms.add_argument("number", help="the simulated phone's number, e.g. the duty officer's")
    sms.add_argument("text", nargs="+", help='e.g. "OK K7", "PARS K7", "FIN K7 reel", "AIDE agression"')
    sms.set_defaults(func=run, cmd="sms", device=None)
    phone = actions.add_parser("phone", help="the SMS a simulated phone has received")
    phone.add_argument("number")
    phone.set_defaults(func=run, cmd="phone", device=None)


def run(args):
    run_dir = args.run_dir or os.environ.get("DEME_RUN_DIR")
    info_path = Path(run_dir if run_dir else running_demo_dir()) / "demo.json"
    try:
        info = json.loads(info_path.read_text())
    except (OSError, ValueError):
        raise UsageError(f"no demo running (no {info_path}); start one with `make demo`") from None
    request = {"cmd": args.cmd, "device": args.device}
    if args.cmd == "press":
        request["hold"] = args.hold
    elif args.cmd == "tap":
        request["count"] = args.count
    elif args.cmd == "battery":
        request["percent"] = args.percent
    elif args.cmd == "shake":
        request.update(seconds=args.seconds, freq_hz=args.freq, amplitude_mg=args.amplitude, axis=args.axis)
    elif args.cmd == "fall":
        request["lie_s"] = args.lie
    elif args.cmd in ("walk", "jog"):
        request["seconds"] = args.seconds
    elif args.cmd == "sms":
        request.update({"from": args.number, "text": " ".join(args.text)})
    elif args.cmd == "phone":
        request["number"] = args.number
    try:
        with socket.create_connection(("127.0.0.1", info["control"]), timeout=5) as sock:
            sock.sendall(json.dumps(request).encode() + b"\n")
            reply = json.loads(sock.makefile().readline())
    except (OSError, ValueError) as exc:
        raise UsageError(f"the demo does not answer ({exc}); is `make demo` still running?") from None
    if not reply.get("ok"):
        raise UsageError(reply.get("error", "refused"))
    if args.cmd == "phone":
        for message in reply["messages"]:
            print(f"{message.get('timestamp') or ''}  from {message.get('number')}: {message.get('text')}")
        if not reply["messages"]:
            print(f"{args.number}: no SMS")
    elif args.cmd == "sms":
        print(f"sms from {args.number}: sent")
    else:
        print(json.dumps(reply) if args.cmd == "status" else f"{args.cmd} {args.device}: done")
    return 0
