"""Entry point of the simulated wearable on the MicroPython unix port:
micropython sim/device/main.py CONTROL_PTY MODEM_PTY GPS_PTY FLASH_DIR"""
import asyncio
import sys

from firmware.app import App, log
from firmware.config import ConfigError, load_config
from firmware.flashstore import FlashStore
from sim.device.board import SimBoard


def main(argv):
    control, modem, gps, flash_dir = argv[1:5]
    flash = FlashStore(flash_dir)
    try:
        cfg = load_config(flash.path("config.json"))
    except ConfigError as exc:
        log("fw.config_error", error=str(exc))
        sys.exit(2)
    board = SimBoard(control, modem, gps, name=cfg["device_id"], modem_model=cfg["modem_model"])
    asyncio.run(App(board, cfg, flash).run())


main(sys.argv)
