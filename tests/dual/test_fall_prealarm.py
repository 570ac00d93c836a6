# The fall pre-alarm (firmware/prealarm.py) and the gestures around it (firmware/gestures.py) with a real button
# decoder fed by a simulated button: a FALL goes when the window ends, a press cancels it and the rest of that press
# is absorbed (a duress gesture in it still sends DUR), and the decoder's cancel window follows. Runs on CPython and
# on MicroPython.
from drivers.button import ButtonDecoder
from drivers.compat import ticks_add, ticks_ms
from firmware.config import DEFAULTS
from firmware.gestures import Gestures
from firmware.prealarm import REPEAT_MS, FallPrealarm


class Motor:
    def __init__(self):
        self.played = []

    def play(self, name):
        self.played.append(name)


class Button:
    def __init__(self):
        self.down = False

    def pressed(self):
        return self.down


class Board:
    def __init__(self):
        self.button = Button()


class Alarms:
    def __init__(self):
        self.raised = []

    def raise_alarm(self, event, category="GEN"):
        self.raised.append((event, category))
        return len(self.raised)


class Power:
    def __init__(self):
        self.held = []

    def button_held(self, held_ms, now=None):
        self.held.append(held_ms)


def rig(**cfg):
    config = dict(DEFAULTS)
    config.update(cfg)
    board = Board()
    buttons = ButtonDecoder(long_ms=config["long_press_ms"], patterns=config["patterns"])
    motor = Motor()
    alarms = Alarms()
    power = Power()
    return Gestures(board, config, buttons, motor, alarms, power), board, motor, alarms, power


def hold(gestures, board, start, ms, pressed=True, step=10):
    """Poll the button every `step` ms for `ms` ms from `start`, held or released; returns the time reached."""
    board.button.down = pressed
    t = start
    for _ in range(ms // step):
        t = ticks_add(t, step)
        gestures.poll(t)
    return t


def test_an_uncancelled_pre_alarm_buzzes_again_and_raises_a_fall_when_its_window_ends():
    gestures, board, motor, alarms, power = rig(fall_cancel_s=12)
    start = ticks_ms()
    gestures.on_fall(start)
    assert gestures.prealarm.engaged() and gestures.buttons._cancel_open  # a press now cancels, never an SOS
    t = hold(gestures, board, start, REPEAT_MS + 100, pressed=False, step=100)
    assert motor.played == ["prealarm", "prealarm"] and alarms.raised == []
    hold(gestures, board, t, 12000 - REPEAT_MS, pressed=False, step=100)
    assert alarms.raised == [("FALL", "MED")] and motor.played[-1] == "pressed"
    assert not gestures.prealarm.engaged() and not gestures.buttons._cancel_open


def test_a_second_fall_while_the_pre_alarm_is_open_is_ignored():
    prealarm = FallPrealarm(30, ButtonDecoder(), Motor(), Alarms().raise_alarm)
    assert prealarm.open(ticks_ms()) is True
    assert prealarm.open(ticks_ms()) is False and prealarm.vibrator.played == ["prealarm"]


def test_a_press_cancels_the_pre_alarm_and_its_long_hold_is_absorbed_not_an_sos():
    gestures, board, motor, alarms, power = rig()
    start = ticks_ms()
    gestures.on_fall(start)
    t = hold(gestures, board, start, 5000)  # longer than the long press and the cancel hold
    assert motor.played == ["prealarm", "cancelled"] and alarms.raised == [] and power.held == []
    t = hold(gestures, board, t, 500, pressed=False)
    assert gestures.prealarm.engaged()  # within a pattern gap: a press now still belongs to the cancelling gesture
    t = hold(gestures, board, t, 400, pressed=False)
    assert not gestures.prealarm.engaged() and not gestures.buttons._cancel_open and alarms.raised == []
    hold(gestures, board, t, DEFAULTS["long_press_ms"] + 100)  # the button is the wearer's again: an SOS
    assert alarms.raised == [("SOS", "GEN")] and gestures.buttons._cancel_open


def test_a_duress_gesture_that_cancels_a_pre_alarm_sends_dur_silently():
    gestures, board, motor, alarms, power = rig()
    start = ticks_ms()
    gestures.on_fall(start)
    t = hold(gestures, board, start, 3500)  # the cancel hold...
    t = hold(gestures, board, t, 200, pressed=False)
    t = hold(gestures, board, t, 100)  # ...then a tap: the duress cancel
    hold(gestures, board, t, 2000, pressed=False)
    assert alarms.raised == [("DUR", "MED")]
    assert motor.played == ["prealarm", "cancelled"]  # felt exactly like a cancel


def test_an_sos_opens_the_cancel_window_and_a_cancel_hold_closes_it():
    gestures, board, motor, alarms, power = rig()
    t = hold(gestures, board, ticks_ms(), DEFAULTS["long_press_ms"] + 100)
    t = hold(gestures, board, t, 1000, pressed=False)
    assert alarms.raised == [("SOS", "GEN")] and gestures.busy()  # the cancel window keeps the board awake
    assert power.held and max(power.held) >= DEFAULTS["long_press_ms"] - 100  # the modem was wanted during it
    t = hold(gestures, board, t, 3500)
    hold(gestures, board, t, 1000, pressed=False)
    assert alarms.raised == [("SOS", "GEN"), ("CAN", "GEN")] and motor.played == ["pressed", "cancelled"]
    assert not gestures.busy() and not gestures.buttons._cancel_open
