"""`deme`: the command line for installers, integrators and operators.

Each subcommand lives in its own module that defines `register(subparsers)`; this file only lists them, so adding a
command is one line here and never a change to another command.
"""
import argparse
import importlib
import sys

# name -> module defining register(subparsers). Keep sorted.
COMMANDS = {
    "fall": "hub.commands.triggers_cmd",
    "gps": "hub.commands.gps_cmd",
    "hub": "hub.commands.hub_cmd",
    "modem": "hub.commands.modem_cmd",
    "nmea": "hub.commands.nmea_cmd",
    "pdu": "hub.commands.pdu_cmd",
    "plan": "hub.commands.plan_cmd",
    "power": "hub.commands.power_cmd",
    "shake": "hub.commands.triggers_cmd",
    "sim": "hub.commands.sim_cmd",
    "sms": "hub.commands.modem_cmd",
}


class UsageError(Exception):
    """A mistake in what the person typed: printed as one clear line, exit status 2."""


def build_parser():
    parser = argparse.ArgumentParser(prog="deme", description="Deme panic-button system")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for module_name in dict.fromkeys(COMMANDS.values()):  # a module may register several commands
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except UsageError as exc:
        print(f"deme {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    # Under `python -m hub.cli` this file runs as __main__, a second copy of the module whose UsageError the command
    # modules never raise: run the imported module's main, so every command's errors are caught as under `deme`.
    from hub.cli import main as imported_main

    sys.exit(imported_main())
