# Drivers shared by the wearable (MicroPython) and the hub (CPython).
# Nothing here imports machine, serial or smbus2: a bus, a stream or a pin is passed in.
