"""firmware/board.py's sleep on a simulated `machine` (pins with levels and edges, a lightsleep during which the
world acts), with the REAL PCF8563 driver on the simulated chip: what arms the wake sources, what wakes the board
and what it reports."""
import pytest

from drivers.rtc.pcf8563 import PCF8563
from hub.design import hardware_data
from sim.chips.i2c import SimI2C
from sim.chips.pcf8563 import SimPCF8563
from tests.hardware.test_hardware_board import BOARD, SimMachine


class SleepyMachine(SimMachine):
    """SimMachine plus lightsleep(): while "asleep", `world(machine, ms)` acts (drives pins, runs the RTC's clock);
    each call is recorded with its period (None: dormant, only a pin can end it)."""

    SLEEP = 2

    def __init__(self, world, **kwargs):
        SimMachine.__init__(self, **kwargs)
        self.world = world
        self.sleeps = []
        self.Pin.WAKE_LOW, self.Pin.WAKE_HIGH = 16, 32
        plain_irq = self.Pin.irq

        def irq(pin, handler=None, trigger=None, wake=None):
            if wake is not None:
                pin.armed = (trigger, wake)  # what the ESP32 port's gpio_wakeup_enable would get
            plain_irq(pin, handler=handler, trigger=trigger)

        self.Pin.irq = irq

    def lightsleep(self, ms=None):
        self.sleeps.append(ms)
        self.world(self, ms)


def pin_of(build, function):
    return hardware_data.load_pinout(build)["functions"][function]["pin"]


def rig(build, world):
    machine = SleepyMachine(world)
    board = BOARD.Board(hardware_data.load_pinout(build), machine)
    return board, machine


def test_a_press_ends_a_dormant_sleep_and_the_rtc_is_released():
    t = [0]
    chip = SimPCF8563(clock=lambda: t[0])
    rtc = PCF8563(SimI2C(chip)).start()

    def press(machine, ms):
        assert ms is None  # with the RTC: dormant, no timer of the chip's own
        assert chip.int_asserted is False
        machine.pins[pin_of("a", "button")].drive(0)

    board, machine = rig("a", press)
    assert board.sleep(60000, rtc) == "button"
    assert machine.sleeps == [None]
    # every source's irq is released after the sleep; the RTC's timer was armed for the heartbeat, then cancelled
    for function in ("button", "imu_int", "rtc_int"):
        assert machine.pins[pin_of("a", function)].handler is None
    t[0] += 120000
    chip.advance_ms(0)
    assert chip.int_asserted is False  # cancelled: it does not fire into the next sleep


def test_the_rtc_timer_ends_a_dormant_sleep_for_the_heartbeat():
    t = [0]
    chip = SimPCF8563(clock=lambda: t[0])
    rtc = PCF8563(SimI2C(chip)).start()

    def heartbeat_comes(machine, ms):
        t[0] += 3600 * 1000  # an hour later the PCF8563's countdown has run out...
        chip.advance_ms(0)
        assert chip.int_asserted
        machine.pins[pin_of("a", "rtc_int")].drive(0)  # ...and its open-drain INT pulls GP12 low

    board, machine = rig("a", heartbeat_comes)
    machine.pins[pin_of("a", "rtc_int")].level = 1  # the 100 kOhm pull-up
    assert board.sleep(3600 * 1000, rtc) == "rtc"
    assert chip.int_asserted is False  # fired() cleared TF: INT released


def test_without_an_rtc_the_board_sleeps_on_its_own_timer_and_the_accelerometer_wakes_it():
    def moved(machine, ms):
        assert ms == 5000
        machine.pins[pin_of("a", "imu_int")].drive(1)

    board, machine = rig("a", moved)
    assert board.sleep(5000) == "motion"
    board, machine = rig("a", lambda machine, ms: None)
    assert board.sleep(5000) == "timer" and machine.sleeps == [5000]


def test_the_modem_ri_wakes_the_board_only_while_the_modem_is_on():
    def sms_comes(machine, ms):
        machine.pins[pin_of("a", "modem_ri")].drive(0)

    board, machine = rig("a", sms_comes)
    machine.pins[pin_of("a", "modem_ri")].level = 1
    assert board.sleep(5000, ri=True) == "ri"
    board, machine = rig("a", sms_comes)
    machine.pins[pin_of("a", "modem_ri")].level = 1
    assert board.sleep(5000, ri=False) == "timer"  # not armed: the modem is off


@pytest.mark.parametrize("function, level, expected", [("button", 0, "button"), ("imu_int", 1, "motion")])
def test_esp32_sleeps_on_pin_levels_and_reports_what_woke_it(function, level, expected):
    def wake(machine, ms):
        machine.pins[pin_of("b", function)].level = level  # the ESP32 wakes on a level, no edge handler runs

    board, machine = rig("b", wake)
    assert board.sleep(5000) == expected
    button = machine.pins[pin_of("b", "button")]
    imu = machine.pins[pin_of("b", "imu_int")]
    Pin = machine.Pin
    assert button.armed == (Pin.WAKE_LOW, SleepyMachine.SLEEP)  # pressed is low
    assert imu.armed == (Pin.WAKE_HIGH, SleepyMachine.SLEEP)  # INT1 is active high
    assert button.trigger is None and imu.trigger is None  # released after the sleep
