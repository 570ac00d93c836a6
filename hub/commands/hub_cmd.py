"""`deme hub run --config hub.toml`: the hub service (store, modem, MQTT, outbox, police console)."""
import asyncio
import logging
import signal
import sys

from hub.config import ConfigError, load_config


def register(subparsers):
    parser = subparsers.add_parser("hub", help="run the hub service")
    actions = parser.add_subparsers(dest="hub_action", metavar="ACTION")
    actions.required = True
    run = actions.add_parser("run", help="run until Ctrl-C")
    run.add_argument("--config", required=True, help="the hub's TOML configuration")
    run.add_argument("--verbose", action="store_true")
    run.set_defaults(func=run_hub)
    check = actions.add_parser("check-config", help="validate a configuration and print what it defines")
    check.add_argument("--config", required=True)
    check.set_defaults(func=check_config)


def _load(path):
    """The configuration, or None once its error is printed (the caller exits 2). Printed here rather than raised
    as hub.cli's UsageError: under `python -m hub.cli` (as the demo runs the hub) that is another class than the
    one __main__ catches, and the person would get a traceback."""
    try:
        return load_config(path)
    except ConfigError as exc:
        print(f"deme hub: {exc}", file=sys.stderr)
        return None


def check_config(args):
    config = _load(args.config)
    if config is None:
        return 2
    print(f"hub {config.hub_id} ({config.number}), {len(config.devices)} device(s), database {config.database}")
    for device in config.devices.values():
        print(f"  {device.id}: {device.wearer} {device.phone}, {len(device.contacts)} contact(s)")
    return 0


def run_hub(args):
    """Exit 0 when stopped (SIGTERM, SIGINT: at any moment, also during start-up), 2 for a configuration
    error, 1 when a part cannot start (the message names the key to fix)."""
    from hub.service import HubService, StartupError

    config = _load(args.config)
    if config is None:
        return 2
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        service = HubService(config)
        runner = asyncio.create_task(service.run(stop))
        ready = asyncio.create_task(service.ready.wait())
        # Whichever comes first: the hub is up, or run() has ended (a start-up failure, or a stop during it).
        await asyncio.wait({runner, ready}, return_when=asyncio.FIRST_COMPLETED)
        if service.ready.is_set():
            print(f"console: {service.console.url}", flush=True)
        ready.cancel()
        await runner

    try:
        asyncio.run(main())
    except StartupError as exc:
        print(f"deme hub: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0
