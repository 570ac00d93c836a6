"""python -m sim.network --config CONFIG.json --control HOST:PORT [--timeline FILE]

CONFIG.json: {"modems": [{"number": "+223...", "profile": "sim800l"}, ...], "delay_s": [1, 3], "loss": 0,
"seed": 1, "smsc": "+22370000000", "time_scale": 1.0, "retry_s": 10}. Prints one JSON line
{"ready": true, "modems": {number: pty_path}, "control": "HOST:PORT"} when ready; stops on SIGINT/SIGTERM.
"""
import argparse
import json
import logging
import signal
import sys
import threading

from sim.modem import get_profile

from .control import ControlServer
from .core import GSMNetwork

NETWORK_KEYS = ("delay_s", "loss", "seed", "smsc", "time_scale", "retry_s", "unknown", "tz_quarters")


def _host_port(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"--control wants HOST:PORT, got {text!r}")
    return host, int(port)


def load_config(path):
    with open(path, encoding="utf-8") as fh:
        config = json.load(fh)
    modems = config.get("modems")
    if not isinstance(modems, list) or not all(isinstance(m, dict) and "number" in m for m in modems):
        raise ValueError(f"{path}: 'modems' must be a list of {{\"number\": ..., \"profile\": ...}}")
    for m in modems:
        get_profile(m.get("profile", "sim800l"))  # ValueError names the known profiles
    unknown = set(config) - set(NETWORK_KEYS) - {"modems"}
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}; known: modems, {', '.join(NETWORK_KEYS)}")
    return config


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sim.network", description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--control", type=_host_port, default=("127.0.0.1", 0))
    parser.add_argument("--timeline")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr)
    try:
        config = load_config(args.config)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    options = {k: config[k] for k in NETWORK_KEYS if k in config}
    if isinstance(options.get("delay_s"), list):
        options["delay_s"] = tuple(options["delay_s"])
    network = GSMNetwork(timeline_path=args.timeline, **options)
    for m in config["modems"]:
        network.add_modem(m["number"], profile=m.get("profile", "sim800l"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    network.start()
    control = ControlServer(network, *args.control).start()
    print(json.dumps({"ready": True, "modems": {n: m.pty_path for n, m in network.modems.items()},
                      "control": "%s:%d" % (control.host, control.port)}), flush=True)
    try:
        stop.wait()  # the signal handlers set it
    finally:
        control.stop()
        network.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
