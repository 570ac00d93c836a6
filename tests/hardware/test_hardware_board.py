"""firmware/board.py builds a working Board from each pinout, on a simulated `machine` (pins with levels and
edges, PWM duty, ADC voltage, a clock for the modem's power sequence)."""
import asyncio

import pytest

from hub.design import hardware_data

BOARD = hardware_data.board_module()


class SimMachine:
    """A microcontroller's `machine` module as state: every pin's mode, pull, level and irq; an ADC voltage."""

    def __init__(self, adc_volts=1.9):
        self.pins = {}
        self.adc_volts = adc_volts
        self.uarts = []
        self.i2cs = []
        sim = self

        class Pin:
            IN, OUT, PULL_UP, PULL_DOWN, IRQ_FALLING, IRQ_RISING = 0, 1, 1, 2, 4, 8

            def __init__(self, pin_id, mode=None, pull=None, value=None):
                self.id = pin_id
                self.mode = mode
                self.pull = pull
                self.level = 1 if pull == Pin.PULL_UP else 0
                self.handler = None
                self.trigger = None
                if value is not None:
                    self.level = value
                sim.pins[pin_id] = self

            def value(self, v=None):
                if v is None:
                    return self.level
                assert self.mode == Pin.OUT, f"pin {self.id} written while not an output"
                self.level = 1 if v else 0

            def irq(self, handler=None, trigger=None):
                self.handler, self.trigger = handler, trigger

            def drive(self, level):
                """The outside world sets this input's level; edges fire the irq as the hardware would."""
                old, self.level = self.level, level
                if self.handler and ((old, level) == (1, 0) and self.trigger & Pin.IRQ_FALLING
                                     or (old, level) == (0, 1) and self.trigger & Pin.IRQ_RISING):
                    self.handler(self)

        class PWM:
            def __init__(self, pin):
                self.pin = pin
                self.duty = None
                self.frequency = None

            def freq(self, f):
                self.frequency = f

            def duty_u16(self, d):
                self.duty = d

        class ADC:
            ATTN_11DB = 3

            def __init__(self, pin):
                self.pin = pin
                self.attenuation = None

            def atten(self, a):
                self.attenuation = a

            def read_u16(self):
                return int(sim.adc_volts / 3.3 * 65535)

        def uart(uart_id, **kwargs):
            sim.uarts.append((uart_id, kwargs["tx"].id, kwargs["rx"].id, kwargs))
            return ("UART", uart_id)

        def i2c(i2c_id, sda, scl, freq):
            sim.i2cs.append((i2c_id, sda.id, scl.id, freq))
            return ("I2C", i2c_id)

        self.Pin, self.PWM, self.ADC, self.UART, self.I2C = Pin, PWM, ADC, uart, i2c


def make_board(build, **kwargs):
    machine = SimMachine(**kwargs)
    return BOARD.Board(hardware_data.load_pinout(build), machine), machine


@pytest.mark.parametrize("build", hardware_data.BUILDS)
def test_buses_use_the_pinout_pins(build):
    board, machine = make_board(build)
    f = hardware_data.load_pinout(build)["functions"]
    modem = (f["modem_uart"]["id"], f["modem_uart"]["tx"], f["modem_uart"]["rx"])
    gps = (f["gps_uart"]["id"], f["gps_uart"]["tx"], f["gps_uart"]["rx"])
    assert [u[:3] for u in machine.uarts] == [modem, gps]
    assert machine.uarts[0][3]["rxbuf"] == 2048 and machine.uarts[0][3]["timeout"] == 0
    assert machine.i2cs == [(f["imu_i2c"]["id"], f["imu_i2c"]["sda"], f["imu_i2c"]["scl"], 400000)]
    assert board.modem_uart == ("UART", modem[0]) and board.i2c == ("I2C", f["imu_i2c"]["id"])


@pytest.mark.parametrize("build", hardware_data.BUILDS)
def test_button_is_a_pulled_up_active_low_input_that_reports_presses(build):
    board, machine = make_board(build)
    pin = machine.pins[hardware_data.load_pinout(build)["functions"]["button"]["pin"]]
    assert pin.mode == machine.Pin.IN and pin.pull == machine.Pin.PULL_UP
    presses = []
    board.button.irq(presses.append)
    assert not board.button.pressed()
    pin.drive(0)
    assert board.button.pressed() and presses == [pin]
    pin.drive(1)
    assert not board.button.pressed() and len(presses) == 1


@pytest.mark.parametrize("build", hardware_data.BUILDS)
def test_motor_led_and_outputs_start_off_and_switch(build):
    board, machine = make_board(build)
    f = hardware_data.load_pinout(build)["functions"]
    led = machine.pins[f["led"]["pin"]]
    assert led.level == 0
    board.led.on()
    assert led.level == 1 and board.led.is_on()
    board.motor.on()
    assert board.motor._pwm.duty == 65535 and board.motor._pwm.frequency == f["motor"]["freq"]
    board.motor.strength(30)
    assert board.motor._pwm.duty == 30 * 65535 // 100
    board.motor.off()
    assert board.motor._pwm.duty == 0
    # DTR is active low: released (high) at start so the modem may sleep; on() pulls it low to wake it
    dtr = machine.pins[f["modem_dtr"]["pin"]]
    assert dtr.level == 1
    board.modem_dtr.on()
    assert dtr.level == 0
    assert machine.pins[f["modem_pwrkey"]["pin"]].level == 0


@pytest.mark.parametrize("volts, percent", [(1.92, 50), (2.10, 100), (1.70, 0), (1.60, 0)])
def test_battery_percent_reads_the_divider_and_the_lipo_curve(volts, percent):
    board, _ = make_board("a", adc_volts=volts)
    assert abs(board.battery_mv() - volts * 2000) <= 2
    assert abs(board.battery_percent() - percent) <= 1


def test_charging_reads_the_chargers_open_drain_and_build_b_cannot_tell():
    board, machine = make_board("a")
    pin = machine.pins[hardware_data.load_pinout("a")["functions"]["charge_status"]["pin"]]
    assert board.charging() is False
    pin.drive(0)
    assert board.charging() is True
    board_b, _ = make_board("b")
    assert board_b.charging() is None


def run_cycle(board, machine, watched):
    """Run modem_power.cycle() on a simulated clock; returns [(t_ms, {function: level})] at each change."""
    now = [0]
    timeline = []

    def snapshot():
        levels = {name: machine.pins[pin].level for name, pin in watched.items()}
        if not timeline or timeline[-1][1] != levels:
            timeline.append((now[0], levels))

    async def sleep(ms):
        snapshot()
        now[0] += ms

    board.modem_power._sleep = sleep
    asyncio.run(board.modem_power.cycle())
    snapshot()
    return timeline, now[0]


def test_build_a_power_cycle_pulses_reset_for_the_datasheet_time_then_waits_for_boot():
    board, machine = make_board("a")
    f = hardware_data.load_pinout("a")["functions"]
    watched = {"reset": f["modem_reset"]["pin"], "pwrkey": f["modem_pwrkey"]["pin"]}
    timeline, total = run_cycle(board, machine, watched)
    timing = BOARD.MODEM_TIMING["A7670E"]
    assert timeline == [(0, {"reset": 1, "pwrkey": 0}), (timing["reset_ms"], {"reset": 0, "pwrkey": 0})]
    assert total == timing["reset_ms"] + timing["boot_ms"]


def test_build_b_power_cycle_switches_the_supply_off_then_presses_pwrkey():
    board, machine = make_board("b")
    f = hardware_data.load_pinout("b")["functions"]
    watched = {"supply": f["modem_power_en"]["pin"], "pwrkey": f["modem_pwrkey"]["pin"]}
    timeline, total = run_cycle(board, machine, watched)
    t = BOARD.MODEM_TIMING["A7670G"]
    assert timeline == [
        (0, {"supply": 0, "pwrkey": 0}),
        (t["gate_off_ms"], {"supply": 1, "pwrkey": 1}),
        (t["gate_off_ms"] + t["on_ms"], {"supply": 1, "pwrkey": 0}),
    ]
    assert total == t["gate_off_ms"] + t["on_ms"] + t["boot_ms"]


def test_without_reset_or_supply_switch_the_cycle_is_pwrkey_off_then_on():
    pinout = hardware_data.load_pinout("a")
    del pinout["functions"]["modem_reset"]
    pinout["parts"]["modem"] = "SIM800L"
    machine = SimMachine()
    board = BOARD.Board(BOARD.parse_pinout(pinout), machine)
    timeline, total = run_cycle(board, machine, {"pwrkey": pinout["functions"]["modem_pwrkey"]["pin"]})
    t = BOARD.MODEM_TIMING["SIM800L"]
    assert [(ms, lv["pwrkey"]) for ms, lv in timeline] == [
        (0, 1), (t["off_ms"], 0), (t["off_ms"] + t["off_wait_ms"], 1), (t["off_ms"] + t["off_wait_ms"] + t["on_ms"], 0)]
    assert total == t["off_ms"] + t["off_wait_ms"] + t["on_ms"] + t["boot_ms"]


def test_build_board_reads_the_file_and_uses_the_given_machine(tmp_path):
    path = tmp_path / "pinout.json"
    path.write_text((hardware_data.HARDWARE / "build-b" / "pinout.json").read_text())
    machine = SimMachine()
    board = BOARD.build_board(str(path), machine=machine)
    assert board.mcu == "esp32" and board.modem_model == "A7670G" and board.imu_address == 0x18
    assert board._adc.attenuation == machine.ADC.ATTN_11DB
    with pytest.raises(BOARD.PinoutError, match="cannot read pinout"):
        BOARD.build_board(str(tmp_path / "missing.json"), machine=machine)
