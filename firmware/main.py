# Copied to the wearable's flash as /main.py (docs/installer-guide.md).
import asyncio

from firmware.app import App
from firmware.board import build_board
from firmware.config import load_config
from firmware.flashstore import FlashStore

flash = FlashStore("/")
asyncio.run(App(build_board("/pinout.json"), load_config("/config.json"), flash).run())
