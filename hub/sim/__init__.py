"""Simulators (GSM network, modems, GPS, IMU replay, wearable board): first-class code for the demo and tests."""
