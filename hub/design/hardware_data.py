"""The reference builds' hardware data on CPython: pinouts, microcontroller pin tables and bills of materials.

The pinout is parsed by firmware/board.py's own `parse_pinout` (loaded from its file, since firmware/ is not an
installed package), so the device and the hub can never disagree on what a valid pinout is. This module adds what
the device does not need to know: whether each pin can really do its job on that chip and board.
"""
import csv
import functools
import importlib.util
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HARDWARE = REPO / "hardware"
BUILDS = ("a", "b")
# The BOM option `mcu_board` of build A, named by the pinout's "board" (hardware/mcu/rp2040.json describes both):
# the same GPIOs on a Raspberry Pi Pico or on the bare RP2040 of the carrier PCB.
MCU_BOARD_OPTIONS = {"Raspberry Pi Pico": "pico", "Deme A carrier (bare RP2040)": "carrier"}
BOM_FIELDS = (
    "ref", "part", "manufacturer", "mpn", "quantity", "unit_price_eur", "price_source", "price_date", "estimate",
    "option",
)


class HardwareDataError(ValueError):
    """A hardware data file is missing or malformed; the message names the file and the row or field."""


@functools.cache
def board_module():
    """firmware/board.py as a module (it imports no `machine` until build_board is called)."""
    spec = importlib.util.spec_from_file_location("deme_firmware_board", REPO / "firmware" / "board.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def firmware_defaults():
    """The wearable's config defaults (firmware/config.py DEFAULTS): the power budget follows what it is set to."""
    spec = importlib.util.spec_from_file_location("deme_firmware_config", REPO / "firmware" / "config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DEFAULTS


def build_dir(build):
    if build not in BUILDS:
        raise HardwareDataError(f"unknown build {build!r}: choose one of {', '.join(BUILDS)}")
    return HARDWARE / f"build-{build}"


def load_pinout(build):
    board = board_module()
    try:
        return board.parse_pinout((build_dir(build) / "pinout.json").read_text())
    except board.PinoutError as exc:
        raise HardwareDataError(f"hardware/build-{build}/pinout.json: {exc}") from exc


def load_mcu(mcu):
    path = HARDWARE / "mcu" / f"{mcu}.json"
    if not path.exists():
        raise HardwareDataError(f"no pin table for microcontroller {mcu!r} ({path})")
    return json.loads(path.read_text())


def _function_spec(pinout, name):
    return pinout["functions"][name]


def check_pins(pinout, mcu_table=None):
    """Everything wrong with where the pinout puts each function on its chip and board, as readable lines."""
    board = board_module()
    table = mcu_table or load_mcu(pinout["mcu"])
    gpio = table["gpio"]
    board_info = table["boards"].get(pinout.get("board"))
    problems = []
    if board_info is None:
        problems.append(f"board {pinout.get('board')!r} is not described in hardware/mcu/{pinout['mcu']}.json")
        board_info = {"reserved": {}, "header": [int(n) for n in gpio]}
    esp32 = pinout["mcu"] == "esp32"
    for name, pin, role, bus in board.pin_uses(pinout):
        spec = _function_spec(pinout, name)
        where = f"{name} on pin {pin} ({role})"
        caps = gpio.get(str(pin))
        if caps is None:
            problems.append(f"{where}: {pinout['mcu']} has no GPIO{pin}")
            continue
        if pin in table["flash"]:
            problems.append(f"{where}: GPIO{pin} is wired to the SPI flash")
        wired_by_board = spec.get("wired") == "board"
        if str(pin) in board_info["reserved"] and not wired_by_board:
            problems.append(f"{where}: reserved on {pinout['board']} ({board_info['reserved'][str(pin)]})")
        if not wired_by_board and pin not in board_info["header"]:
            problems.append(f"{where}: GPIO{pin} is not on the {pinout['board']} header")
        reason = table["strapping"].get(str(pin))
        if reason and not spec.get("strapping_ok"):
            problems.append(f"{where}: strapping pin ({reason}); say why it is safe in 'strapping_ok'")
        problems.extend(f"{where}: {p}" for p in _role_problems(caps, role, bus, spec, pin, table, esp32))
    return problems


def _role_problems(caps, role, bus, spec, pin, table, esp32):
    input_only = pin in table["input_only"]
    if role in ("out", "pwm", "uart_tx", "i2c_sda", "i2c_scl") and input_only:
        yield "input-only pin cannot drive an output"
    if spec.get("pull") == "up" and "PULL_UP" not in caps:
        yield "no internal pull-up on this pin"
    if spec.get("pull") == "down" and "PULL_DOWN" not in caps:
        yield "no internal pull-down on this pin"
    if role == "pwm" and "PWM" not in caps and not any(c.startswith("PWM") for c in caps):
        yield "no PWM on this pin"
    if role == "irq" and "IRQ" not in caps:
        yield "no interrupt on this pin"
    if role == "adc":
        if esp32:
            if any(c.startswith("ADC2") for c in caps):
                yield "ADC2 cannot be read while Wi-Fi is on: use an ADC1 pin (GPIO32-39)"
            elif not any(c.startswith("ADC1") for c in caps):
                yield "no ADC on this pin"
        elif not any(c.startswith("ADC") for c in caps):
            yield "no ADC on this pin (RP2040: GPIO26-29 only)"
    if role.startswith("uart_"):
        if esp32:
            if bus == 0:
                yield "UART0 carries the REPL and boot log: use UART1 or UART2"
            if role == "uart_rx" and "INPUT" not in caps:
                yield "cannot be an input"
        elif f"UART{bus}_{role[5:].upper()}" not in caps:
            yield f"RP2040 cannot route UART{bus} {role[5:].upper()} to this pin"
    if role.startswith("i2c_"):
        if esp32:
            if bus not in (0, 1):
                yield "ESP32 has I2C0 and I2C1 only"
        elif f"I2C{bus}_{role[4:].upper()}" not in caps:
            yield f"RP2040 cannot route I2C{bus} {role[4:].upper()} to this pin"


def load_bom(build):
    path = build_dir(build) / "bom.csv"
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != BOM_FIELDS:
            raise HardwareDataError(f"{path}: columns must be {', '.join(BOM_FIELDS)}")
        rows = []
        for line, row in enumerate(reader, start=2):
            try:
                row["quantity"] = int(row["quantity"])
                row["unit_price_eur"] = float(row["unit_price_eur"])
            except ValueError as exc:
                raise HardwareDataError(f"{path} line {line}: {exc}") from exc
            if row["quantity"] <= 0 or row["unit_price_eur"] < 0:
                raise HardwareDataError(f"{path} line {line}: quantity and price must be positive")
            if not row["price_source"].strip() or not row["price_date"].strip():
                raise HardwareDataError(f"{path} line {line}: every price needs its source and date")
            if row["estimate"] not in ("yes", "no"):
                raise HardwareDataError(f"{path} line {line}: 'estimate' must be yes or no")
            if row["option"] and "=" not in row["option"]:
                raise HardwareDataError(f"{path} line {line}: 'option' must look like modem=A7670E")
            rows.append(row)
    return rows


def bom_options(rows):
    """{"modem": ["A7670E", "SIM800L"], ...}: the alternatives a city chooses between."""
    options = {}
    for row in rows:
        if row["option"]:
            key, value = row["option"].split("=", 1)
            options.setdefault(key, [])
            if value not in options[key]:
                options[key].append(value)
    return options


def bom_lines(rows, choice):
    """The rows that make one wearable with `choice` ({"modem": "SIM800L", ...}); unknown choices are errors."""
    options = bom_options(rows)
    for key, value in choice.items():
        if value not in options.get(key, []):
            raise HardwareDataError(f"no {key} option {value!r} (have: {', '.join(options.get(key, [])) or 'none'})")
    missing = sorted(set(options) - set(choice))
    if missing:
        raise HardwareDataError(f"choose a value for {', '.join(missing)}")
    selected = {f"{key}={value}" for key, value in choice.items()}
    return [row for row in rows if not row["option"] or row["option"] in selected]


def default_choice(build):
    """The BOM choice the build's pinout describes: its parts, and for `mcu_board` its board."""
    pinout = load_pinout(build)
    named = {**pinout["parts"], "mcu_board": MCU_BOARD_OPTIONS.get(pinout.get("board"))}
    options = bom_options(load_bom(build))
    choice = {}
    for key in options:
        choice[key] = named[key] if named.get(key) in options[key] else options[key][0]
    return choice


def bom_total(rows, choice):
    return round(sum(r["quantity"] * r["unit_price_eur"] for r in bom_lines(rows, choice)), 2)
