# mypy: ignore-errors
# ruff: noqa: F821  (module, package and pinout are given by the reader)
"""What is flashed on the wearable, in the style of micropython-lib's manifest.py files.

Not imported: a reader runs this file with `module()`, `package()` and `pinout()` in its namespace, as
MicroPython's tools/manifestfile.py does (tools/firmware_image.py is the reader; `make firmware BOARD=pico`).
Paths are relative to this file's folder, and mean what they mean there:

    module("x.py", base_path=".")                 x.py, flashed as /x.py
    package("p/q", files=None, base_path=".")     p/q/*.py (all of them, recursively, when files is None),
                                                  flashed as /p/q/...; files=(...) lists them, relative to p/q
    pinout(board, "path.json")                    that board's pinout, flashed as /pinout.json

It lists exactly the import closure of /main.py on the device (tests/firmware/test_manifest.py): a file missing
here fails at boot, an extra one costs flash and RAM. Empty __init__.py files are not flashed: MicroPython imports
a folder without one. Not flashed either: drivers/nmea_split.py (CPython's fast NMEA path; the device never loads
it, and its tables would not fit in a Pico's heap), and the simulators (sim/).
"""

module("main.py")  # kept as source on the device: MicroPython runs /main.py, never a main.mpy

package(
    "firmware",
    files=(
        "alarms.py",
        "app.py",
        "board.py",
        "chips.py",
        "config.py",
        "flashstore.py",
        "gestures.py",
        "gpspower.py",
        "hoplog.py",
        "hublink.py",
        "motion.py",
        "power.py",
        "prealarm.py",
        "uplink.py",
        "vibration.py",
    ),
    base_path="..",
)

package(
    "drivers",
    files=(
        "alert.py",
        "at.py",
        "button.py",
        "compat.py",
        "fall.py",
        "gps.py",
        "gsm7.py",
        "human.py",
        "intmath.py",
        "modem.py",
        "modem_parse.py",
        "nmea.py",
        "pdu.py",
        "position.py",
        "shake.py",
        "sms_inbox.py",
    ),
    base_path="..",
)
# Whole packages: the pinout names the chips and the modem's configuration (or its answer to AT+CGMM) the model,
# and the drivers load the one in use lazily.
package("drivers/imu", base_path="..")
package("drivers/modems", base_path="..")
package("drivers/rtc", base_path="..")

pinout("pico", "../hardware/build-a/pinout.json")
pinout("esp32", "../hardware/build-b/pinout.json")
