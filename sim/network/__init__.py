"""The simulated GSM network (SMSC routing between simulated modems) and its control socket."""
from .control import ControlServer, NetworkClient
from .core import GSMNetwork

__all__ = ["ControlServer", "GSMNetwork", "NetworkClient"]
