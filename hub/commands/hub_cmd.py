"""`deme hub run --config hub.toml`: the hub service (store, modem, MQTT, outbox, police console)."""
import asyncio
import logging
import signal
import sys

from hub.cli import UsageError
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
    try:
        return load_config(path)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def check_config(args):
    config = _load(args.config)
    print(f"hub {config.hub_id} ({config.number}), {len(config.devices)} device(s), database {config.database}")
    for device in config.devices.values():
        print(f"  {device.id}: {device.wearer} {device.phone}, {len(device.contacts)} contact(s)")
    return 0


def run_hub(args):
    from hub.service import HubService

    config = _load(args.config)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        service = HubService(config)
        runner = asyncio.create_task(service.run(stop))
        await service.ready.wait()
        print(f"console: {service.console.url}", flush=True)
        await runner

    asyncio.run(main())
    return 0
