"""Deme hub: the CPython service that runs on the Raspberry Pi."""
