"""Simulated cellular modems (SIM800L, A7670E, SIM7600, EC25, BG95) on real pseudo-terminals."""
from .device import SimulatedModem
from .faults import FAULTS
from .profiles import PROFILES, Profile, get_profile

__all__ = ["FAULTS", "PROFILES", "Profile", "SimulatedModem", "get_profile"]
