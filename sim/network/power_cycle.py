"""`python -m sim.network.power_cycle HOST:PORT NUMBER`: the demo hub's modem power command ([modem] power =
"exec:..."): the simulated network cuts the power of the simulated modem with this number and restores it, as a
switchable USB port would for a real one. Returns once the modem is booting again."""
import argparse
import sys
import time

from sim.network.control import NetworkClient


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sim.network.power_cycle", description=__doc__.splitlines()[0])
    parser.add_argument("control", help="HOST:PORT of the simulated network's control socket")
    parser.add_argument("number", help="the simulated modem's phone number")
    parser.add_argument("--off-s", type=float, default=1.0, help="seconds without power (default 1)")
    args = parser.parse_args(argv)
    host, _, port = args.control.rpartition(":")
    if not host or not port.isdigit():
        parser.error(f"control wants HOST:PORT, got {args.control!r}")
    try:
        with NetworkClient(host, int(port)) as client:
            client.power_cycle(args.number, off_s=args.off_s)
    except (OSError, RuntimeError) as exc:
        print(f"power_cycle: the simulated network at {args.control} did not power-cycle {args.number}: {exc}",
              file=sys.stderr)
        return 1
    time.sleep(args.off_s + 1.0)  # as long as the modem's power was away, plus its first second of boot
    return 0


if __name__ == "__main__":
    sys.exit(main())
