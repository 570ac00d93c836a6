"""The police console: web page, JSON API and live event stream served by the hub (see server.py)."""
from hub.console.server import ConsoleServer

__all__ = ["ConsoleServer"]
