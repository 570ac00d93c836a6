# The firmware's power manager (firmware/power.py) against a simulated wearable: a modem that powers down by command
# (or refuses), a board that records its sleeps and power-key presses, and an app whose state the tests set like the
# wearer's situation (an alarm pending, a gesture in progress, the battery). Runs on CPython and on MicroPython.
import asyncio

from drivers.compat import ticks_add, ticks_ms
from firmware.config import DEFAULTS
from firmware.power import MIN_SLEEP_MS, PRESS_WARM_MS, PowerManager


class SimModem:
    def __init__(self, powers_down=True, starts=True):
        self.powers_down = powers_down
        self.starts = starts
        self.link_up = True
        self.parked = False
        self.commands = []
        self.info = {"model": "SIM800L"}
        self.listed = 0

    async def power_down(self):
        self.commands.append("power_down")
        self.parked = True
        self.link_up = False
        return self.powers_down

    async def start(self, pin=None):
        self.commands.append("start")
        if not self.starts:
            raise OSError("no answer")
        self.parked = False
        self.link_up = True

    def check_stored(self):
        self.listed += 1


class SimPowerKey:
    def __init__(self):
        self.presses = []

    async def on(self):
        self.presses.append("on")

    async def off(self):
        self.presses.append("off")

    async def cut(self):
        self.presses.append("cut")

    async def cycle(self):
        self.presses.append("cycle")


class SimBoard:
    def __init__(self, ri=False, wakes=("timer",)):
        self.modem_power = SimPowerKey()
        self.modem_ri = object() if ri else None
        self.sleeps = []
        self._wakes = list(wakes)

    def sleep(self, ms, rtc=None, ri=False):
        self.sleeps.append((ms, rtc, ri))
        return self._wakes.pop(0) if self._wakes else "timer"


class SimState:
    def __init__(self):
        self.pending = []


class SimApp:
    def __init__(self, board, modem, battery=80):
        self.board = board
        self.modem = modem
        self.state = SimState()
        self.motion = None
        self.is_quiet = True
        self.level = battery
        self.raised = []

    def quiet(self, now):
        return self.is_quiet

    def battery(self):
        return self.level

    def heartbeat(self):
        self.raised.append("HB")

    def raise_alarm(self, event, category="GEN"):
        self.raised.append(event)


def rig(ri=False, wakes=("timer",), powers_down=True, starts=True, **cfg):
    config = dict(DEFAULTS)
    config.update(cfg)
    board = SimBoard(ri=ri, wakes=wakes)
    modem = SimModem(powers_down=powers_down, starts=starts)
    app = SimApp(board, modem)
    logs = []

    def log(hop, **detail):
        detail["hop"] = hop
        logs.append(detail)

    return PowerManager(app, config, log=log, rtc="the rtc"), app, board, modem, logs


def later(ms):
    return ticks_add(ticks_ms(), ms)


def test_the_modem_is_wanted_while_an_alarm_waits_or_a_listen_window_is_open():
    pm, app, board, modem, logs = rig()
    now = ticks_ms()
    assert not pm.wants_modem(now)
    app.state.pending.append({"n": 1, "e": "SOS"})
    assert pm.wants_modem(now)
    app.state.pending.clear()
    pm.listen(10, now)
    assert pm.wants_modem(now) and not pm.wants_modem(ticks_add(now, 10001))
    pm.alarm_raised("SOS")  # after an alarm: until an operator acts, at most alarm_listen_s
    assert pm.wants_modem(later(DEFAULTS["alarm_listen_s"] * 1000 - 5000))
    pm.operator_acted("ACK")  # help has seen the wearer: the dispatch is still to come
    assert pm.wants_modem(later(DEFAULTS["alarm_listen_s"] * 1000 - 5000))
    assert not pm.wants_modem(later(DEFAULTS["alarm_listen_s"] * 1000 + 1000))  # bounded all the same
    pm.operator_acted("DSP")  # help is on its way: listen_s more only
    assert pm.wants_modem(ticks_ms()) and not pm.wants_modem(later(DEFAULTS["listen_s"] * 1000 + 1000))
    pm.alarm_raised("SOS")
    pm.operator_acted("RES")  # resolved (a false alarm, say) without a dispatch
    assert not pm.wants_modem(later(DEFAULTS["listen_s"] * 1000 + 1000))


def test_a_heartbeat_opens_only_a_short_listen_window_and_always_mode_keeps_the_modem():
    pm, app, board, modem, logs = rig()
    pm.alarm_raised("HB")
    assert not pm.wants_modem(ticks_ms())  # a heartbeat is wanted while pending, then listen_s after it went
    pm.receipt("HB")
    assert pm.wants_modem(ticks_ms()) and not pm.wants_modem(later(DEFAULTS["listen_s"] * 1000 + 1000))
    for event in ("LOWBAT", "CAN", "POS"):  # need their receipt only (pending), not an operator
        pm.alarm_raised(event)
        assert not pm.wants_modem(later(DEFAULTS["listen_s"] * 1000 + 1000))
    always, _app, _board, _modem, _logs = rig(modem_mode="always")
    assert always.wants_modem(ticks_ms())


def test_switching_off_uses_the_power_down_command_then_the_supply_switch():
    pm, app, board, modem, logs = rig()
    asyncio.run(pm._modem_down())
    assert modem.commands == ["power_down"] and board.modem_power.presses == ["cut"]
    assert not pm.powered and logs[-1]["hop"] == "fw.modem_power" and logs[-1]["by_command"] is True


def test_a_modem_that_refuses_the_command_is_switched_off_by_its_power_key():
    pm, app, board, modem, logs = rig(powers_down=False)
    asyncio.run(pm._modem_down())
    assert board.modem_power.presses == ["off", "cut"]
    assert logs[-1]["by_command"] is False


def test_switching_on_presses_the_key_and_starts_the_modem():
    pm, app, board, modem, logs = rig()
    pm.powered = False
    asyncio.run(pm._modem_up())
    assert board.modem_power.presses == ["on"] and modem.commands == ["start"]
    assert pm.powered and [e["hop"] for e in logs] == ["fw.modem_power", "fw.modem_ready"]


def test_a_modem_that_does_not_start_is_retried_then_power_cycled_and_left_for_the_next_round():
    pm, app, board, modem, logs = rig(starts=False)
    pm.powered = False
    asyncio.run(pm._modem_up())
    assert board.modem_power.presses == ["on", "on", "cycle"]  # bounded: three tries, the last after a cycle
    assert not pm.powered and not pm.switching
    assert [e["tries"] for e in logs if e["hop"] == "fw.modem_start_failed"] == [1, 2, 3]


def test_the_board_sleeps_only_when_quiet_with_the_modem_off_or_listening_on_ri():
    pm, app, board, modem, logs = rig()
    now = ticks_ms()
    assert not pm.can_sleep(now)  # the modem is on and this board has no RI line to wake it
    pm.powered = False
    assert not pm.can_sleep(now)  # quiet, but not for long enough yet
    assert pm.can_sleep(later(1000))
    app.is_quiet = False
    assert not pm.can_sleep(later(2000))
    ri, app2, _board, modem2, _logs = rig(ri=True)
    assert ri.can_sleep(now) is False and ri.can_sleep(later(1000))  # modem on, woken by RI
    app2.state.pending.append({"n": 2, "e": "SOS"})
    assert not ri.can_sleep(later(1000))  # a retry is a timer: no sleep while an alarm waits
    off, _app, _board, _modem, _logs = rig(sleep=False)
    off.powered = False
    assert not off.can_sleep(now) and not off.can_sleep(later(1000))


def test_a_sleep_lasts_until_the_next_heartbeat_arms_the_rtc_and_lists_the_sim_after_ri():
    pm, app, board, modem, logs = rig(ri=True, wakes=("ri",))
    now = ticks_ms()
    pm._next_hb = ticks_add(now, 600000)
    pm.powered = False
    pm._sleep(now)
    ms, rtc, ri = board.sleeps[0]
    assert 590000 <= ms <= 600000 and rtc == "the rtc" and ri is False
    assert modem.listed == 1 and logs[-1]["hop"] == "fw.sleep" and logs[-1]["woke"] == "ri"
    pm._next_hb = ticks_add(ticks_ms(), MIN_SLEEP_MS // 2)
    pm._sleep(ticks_ms())
    assert len(board.sleeps) == 1  # too short a nap: not taken


def test_a_listening_modem_wakes_the_board_when_its_window_ends():
    pm, app, board, modem, logs = rig(ri=True)
    now = ticks_ms()
    pm._next_hb = ticks_add(now, 3600000)
    pm.listen(20, now)
    pm._sleep(now)
    ms, rtc, ri = board.sleeps[0]
    assert ms <= 20000 and ri is True


def test_low_battery_is_sent_once_until_the_battery_is_charged_again():
    pm, app, board, modem, logs = rig(lowbat_percent=15)
    app.level = 14
    pm._heartbeat()
    pm._heartbeat()
    assert app.raised == ["LOWBAT", "HB", "HB"]
    app.level = 30
    pm._heartbeat()
    app.level = 12
    pm._heartbeat()
    assert app.raised.count("LOWBAT") == 2 and app.raised[-1] == "HB"


def test_a_held_press_wants_the_modem_at_once_and_one_that_raises_nothing_lets_it_go():
    pm, app, board, modem, logs = rig()
    pm.powered = False
    now = ticks_ms()
    for held_ms in (0, 100, PRESS_WARM_MS - 1):  # a tap, a knock: the modem stays off
        pm.button_held(held_ms, now)
        assert not pm.wants_modem(now)
    pm.button_held(PRESS_WARM_MS, now)
    assert pm.wants_modem(now)  # the long press has not completed yet: the modem boots meanwhile
    window_ms = DEFAULTS["long_press_ms"] + 2000
    assert not pm.wants_modem(ticks_add(now, window_ms + 1))
    asyncio.run(pm._modem_up())
    assert logs[0]["hop"] == "fw.modem_power" and logs[0]["reason"] == "press"
    pm.powered = False
    pm.listen(0)
    asyncio.run(pm._modem_up())  # the next start has its own reason
    assert logs[-2]["reason"] == "listen"


def test_a_press_with_the_modem_already_on_opens_no_window():
    pm, app, board, modem, logs = rig()
    now = ticks_ms()
    pm.button_held(PRESS_WARM_MS, now)  # on since boot: it goes off when nothing else wants it, press or not
    assert not pm.wants_modem(now)
