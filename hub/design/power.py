"""Battery life of a reference build, from the datasheet figures in hardware/<build>/power.json.

The wearable spends almost all its life in one standby state; heartbeats, IMU wake-ups and alerts are short
segments each hour. The average current is the time-weighted sum of the state currents, and the battery life is the
usable charge divided by it. Every figure carries its source so a city can check (and replace) it.
"""
import json
from dataclasses import dataclass, field

from hub.design.hardware_data import HardwareDataError, build_dir, firmware_defaults, load_pinout

GOAL_DAYS = 14
GPS_MODES = ("on-alert", "always")
# gated: off between heartbeats; idle: registered with its UART awake; drx: registered and asleep between pagings
MODEM_MODES = ("gated", "idle", "drx")
MCU_SLEEPS = ("light", "dormant", "deepest")  # deepest: dormant where the build has the figure (an RTC), else light
MCU_BOARDS = ("pico", "carrier")  # build A's BOM option: figures of power.json "mcu_boards" replace the Pico's
# Named operating profiles, after the firmware's own setting `modem_mode` (firmware/config.py), so the budget says
# what the firmware does: firmware/power.py gates the modem ("gated", the default) or keeps it registered
# ("always", without putting it to sleep: the firmware does not drive AT+CSCLK and DTR yet, so the modem's idle
# figure applies); in both the microcontroller sleeps (dormant on build A, woken by the RTC's timer, the button,
# the IMU and the modem's RI line). "always-drx" is the what-if of a firmware that lets the modem sleep between
# pagings.
PROFILES = {
    "standby": {"modem_mode": "gated", "mcu_sleep": "deepest"},
    "always": {"modem_mode": "idle", "mcu_sleep": "deepest"},
    "always-drx": {"modem_mode": "drx", "mcu_sleep": "deepest"},
}
PROFILE_NOTES = {
    "standby": "the firmware's default (modem_mode gated): modem off between heartbeats, on for alarms, heartbeats "
               "and listen_s after them (the hub's SMS wait at the SMS centre until then), MCU asleep",
    "always": "firmware modem_mode always: modem registered and reachable at once, its UART awake; MCU asleep, "
              "woken by RI",
    "always-drx": "NOT in the firmware: modem registered but asleep between pagings (AT+CSCLK=1 with DTR)",
}
FIRMWARE_PROFILE = {"gated": "standby", "always": "always"}  # firmware modem_mode -> profile
FIRMWARE_DEFAULTS = firmware_defaults()
STATES = ("sleep", "modem_idle", "listen", "imu_wake", "awake", "gps_acquire", "modem_register", "sms_transmit")
STATE_DESCRIPTIONS = {
    "sleep": "MCU asleep, modem powered down, GPS backup only",
    "modem_idle": "MCU asleep, modem registered (awake with idle, asleep between pagings with drx)",
    "listen": "MCU asleep (woken by the modem's RI), modem on after a heartbeat for listen_s: queued SMS come in",
    "imu_wake": "MCU awake running the shake/fall detector after an IMU interrupt",
    "awake": "MCU and modem awake (heartbeat bookkeeping, listen_s for queued SMS, alerts)",
    "gps_acquire": "GPS acquiring a fix for an alert, modem awake",
    "modem_register": "modem booting and registering after being powered down",
    "sms_transmit": "modem sending an SMS (2 A GSM bursts averaged)",
}


@dataclass(frozen=True)
class PowerConfig:
    build: str = "a"
    heartbeat_min: float = 60.0
    gps: str = "on-alert"
    battery_mah: float = 1000.0
    modem: str | None = None
    modem_mode: str = "gated"
    alerts_per_day: float = 0.0
    # presses held past half a second that raise no alarm: the firmware starts a gated modem then, so that its
    # boot overlaps the long press, and each of these costs one start (firmware/power.py PRESS_WARM_MS)
    presses_per_day: float = 0.0
    mcu_sleep: str = "deepest"
    mcu_board: str = "pico"
    # seconds the modem stays on after a heartbeat went (firmware config listen_s): SMS queued for the wearable
    listen_s: float = float(FIRMWARE_DEFAULTS["listen_s"])


@dataclass
class Budget:
    config: PowerConfig
    modem: str
    states_ma: dict
    seconds_per_hour: dict
    average_ma: float
    usable_mah: float
    hours: float
    sources: dict = field(default_factory=dict)

    @property
    def days(self):
        return self.hours / 24

    @property
    def meets_goal(self):
        return self.days >= GOAL_DAYS

    def as_dict(self):
        return {
            "build": self.config.build,
            "modem": self.modem,
            "modem_mode": self.config.modem_mode,
            "mcu_sleep": self.config.mcu_sleep,
            "mcu_board": self.config.mcu_board,
            "listen_s": self.config.listen_s,
            "gps": self.config.gps,
            "heartbeat_min": self.config.heartbeat_min,
            "alerts_per_day": self.config.alerts_per_day,
            "presses_per_day": self.config.presses_per_day,
            "battery_mah": self.config.battery_mah,
            "usable_mah": round(self.usable_mah, 1),
            "states_ma": {k: round(v, 3) for k, v in self.states_ma.items()},
            "seconds_per_hour": {k: round(v, 2) for k, v in self.seconds_per_hour.items()},
            "average_ma": round(self.average_ma, 3),
            "hours": round(self.hours, 1),
            "days": round(self.days, 1),
            "goal_days": GOAL_DAYS,
            "meets_goal": self.meets_goal,
            "sources": self.sources,
        }


def load_power_data(build):
    path = build_dir(build) / "power.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise HardwareDataError(f"{path}: {exc}") from exc
    for name, figure in [*data["figures"].items(), *((f"{m}.{k}", v) for m, d in data["modems"].items()
                                                     for k, v in d.items())]:
        if not isinstance(figure.get("ma"), (int, float)) or figure["ma"] < 0 or not figure.get("source"):
            raise HardwareDataError(f"{path}: figure {name} needs a non-negative 'ma' and its 'source'")
    return data


def resolve_mcu_sleep(data, mcu_sleep):
    if mcu_sleep == "deepest":
        return "dormant" if "mcu_dormant" in data["figures"] else "light"
    return mcu_sleep


def board_figures(data, mcu_board):
    """power.json's figures with those of the BOM option `mcu_board` (its "mcu_boards" block) in their place."""
    if mcu_board == "pico":
        return data
    boards = data.get("mcu_boards") or {}
    if mcu_board not in boards:
        raise ValueError(f"this build has no figures for --mcu-board {mcu_board} (only pico)")
    return {**data, "figures": {**data["figures"], **boards[mcu_board]}}


def state_currents(data, modem, gps_always=False, mcu_sleep="light", modem_mode="gated"):
    """Current (mA) in each state for one modem model; with gps_always the receiver never leaves tracking;
    mcu_sleep "dormant" uses the microcontroller's deepest sleep (figure mcu_dormant) instead of light sleep;
    modem_mode "idle" keeps the registered modem awake (idle figure) where "drx" lets it sleep between pagings."""
    f = {k: v["ma"] for k, v in data["figures"].items()}
    m = {k: v["ma"] for k, v in data["modems"][modem].items()}
    gps_idle = f["gps_tracking"] if gps_always else f["gps_backup"]
    mcu_idle = f["mcu_dormant"] if mcu_sleep == "dormant" else f["mcu_sleep"]
    quiescent = f["quiescent"] + f.get("rtc", 0.0)  # the RTC keeps time in every state
    base_sleep = mcu_idle + f["imu_lowpower"] + gps_idle + quiescent
    base_awake = f["mcu_active"] + f["imu_lowpower"] + gps_idle + quiescent
    registered = m["idle"] if modem_mode == "idle" else m["sleep_drx"]
    return {
        "sleep": base_sleep + m["off"],
        "modem_idle": base_sleep + registered,
        "imu_wake": f["mcu_active"] + f["imu_active"] + gps_idle + quiescent + (
            m["off"] if modem_mode == "gated" else registered),
        "listen": base_sleep + m["idle"],
        "awake": base_awake + m["idle"],
        "gps_acquire": f["mcu_active"] + f["imu_lowpower"] + f["gps_acquire"] + quiescent + m["idle"],
        "modem_register": base_awake + m["register"],
        "sms_transmit": base_awake + m["sms"],
    }


def compute(config, data=None):
    """The Budget of one configuration; raises ValueError naming the option that makes no sense."""
    if config.heartbeat_min <= 0:
        raise ValueError("--heartbeat-min must be more than 0")
    if config.battery_mah <= 0:
        raise ValueError("--battery-mah must be more than 0")
    if config.alerts_per_day < 0:
        raise ValueError("--alerts-per-day cannot be negative")
    if config.presses_per_day < 0:
        raise ValueError("--presses-per-day cannot be negative")
    if config.gps not in GPS_MODES:
        raise ValueError(f"--gps must be one of {', '.join(GPS_MODES)}")
    if config.modem_mode not in MODEM_MODES:
        raise ValueError(f"--modem-mode must be one of {', '.join(MODEM_MODES)}")
    if config.mcu_sleep not in MCU_SLEEPS:
        raise ValueError(f"--mcu-sleep must be one of {', '.join(MCU_SLEEPS)}")
    if config.mcu_board not in MCU_BOARDS:
        raise ValueError(f"--mcu-board must be one of {', '.join(MCU_BOARDS)}")
    if config.listen_s < 0:
        raise ValueError("--listen-s cannot be negative")
    data = board_figures(data or load_power_data(config.build), config.mcu_board)
    if config.mcu_sleep == "dormant" and "mcu_dormant" not in data["figures"]:
        raise ValueError(f"build {config.build} has no dormant figure: its light sleep is already its deepest")
    mcu_sleep = resolve_mcu_sleep(data, config.mcu_sleep)
    modem = config.modem or next(iter(data["modems"]))
    if modem not in data["modems"]:
        raise ValueError(f"build {config.build} has no figures for modem {modem!r} "
                         f"(have: {', '.join(data['modems'])})")
    states = state_currents(data, modem, gps_always=config.gps == "always", mcu_sleep=mcu_sleep,
                            modem_mode=config.modem_mode)
    modem_fig = data["modems"][modem]
    profile = data["profile"]
    gated = config.modem_mode == "gated"

    heartbeats = 60.0 / config.heartbeat_min
    alerts = config.alerts_per_day / 24.0
    seconds = dict.fromkeys(STATES, 0.0)
    seconds["sms_transmit"] = (heartbeats + alerts * profile["alert_sms_count"]) * modem_fig["sms"]["seconds"]
    # A gated modem stays on listen_s after each heartbeat (firmware/power.py); the MCU sleeps meanwhile when the
    # board has the modem's RI line to wake it (both builds do; firmware/power.py can_sleep), else it stays awake.
    listen = config.listen_s if gated else 0.0
    ri = "modem_ri" in load_pinout(config.build)["functions"]
    seconds["listen" if ri else "awake"] = heartbeats * listen
    if gated:  # after an alert the modem waits for the operator's dispatch (firmware/power.py operator_acted)
        alert_listen = min(profile["alert_listen_seconds"], FIRMWARE_DEFAULTS["alarm_listen_s"])
        seconds["listen" if ri else "awake"] += alerts * alert_listen
    seconds["awake"] += heartbeats * profile["heartbeat_awake_seconds"] + alerts * profile["alert_motor_seconds"]
    seconds["imu_wake"] = profile["imu_wakes_per_hour"] * profile["imu_wake_seconds"]
    seconds["gps_acquire"] = alerts * profile["alert_gps_seconds"]
    if gated:  # powered down between heartbeats: every heartbeat, alert and press starts with a registration
        presses = config.presses_per_day / 24.0
        seconds["modem_register"] = (heartbeats + alerts + presses) * modem_fig["register"]["seconds"]
    busy = sum(seconds.values())
    if busy > 3600:
        raise ValueError("the heartbeat is too frequent: the wearable would never rest (raise --heartbeat-min)")
    seconds["sleep" if gated else "modem_idle"] = 3600 - busy

    charge_mas = sum(states[s] * seconds[s] for s in STATES)
    charge_mas += alerts * profile["alert_motor_seconds"] * data["figures"]["motor"]["ma"]
    average = charge_mas / 3600
    usable = config.battery_mah * data["battery"]["usable_fraction"]
    sources = {k: v["source"] for k, v in data["figures"].items()}
    sources.update({f"modem.{k}": v["source"] for k, v in modem_fig.items()})
    return Budget(config, modem, states, seconds, average, usable, usable / average, sources)


def advice(budget, data=None):
    """What would reach the goal when this configuration does not: each a line with its computed battery life."""
    if budget.meets_goal:
        return []
    c = budget.config
    lines = []
    if c.gps == "always":
        on_alert = compute(PowerConfig(**{**c.__dict__, "gps": "on-alert"}), data)
        lines.append(f"power the GPS only for alerts (--gps on-alert): {on_alert.days:.1f} days")
    if c.modem_mode != "gated":
        gated = compute(PowerConfig(**{**c.__dict__, "modem_mode": "gated"}), data)
        lines.append(f"power the modem down between heartbeats (--modem-mode gated, the firmware's modem_mode "
                     f"gated): {gated.days:.1f} days; the hub's SMS then wait at the SMSC until the next heartbeat")
    raw = data or load_power_data(c.build)
    if c.mcu_sleep == "light" and "mcu_dormant" in raw["figures"]:
        deep = compute(PowerConfig(**{**c.__dict__, "mcu_sleep": "dormant", "modem_mode": "gated"}), data)
        lines.append(f"dormant sleep woken by the RTC alarm, modem gated (--profile standby): "
                     f"{deep.days:.1f} days")
    if c.mcu_board == "pico" and "carrier" in (raw.get("mcu_boards") or {}):
        carrier = compute(PowerConfig(**{**c.__dict__, "mcu_board": "carrier"}), data)
        lines.append(f"the bare RP2040 on the carrier PCB (--mcu-board carrier; its dormant floor has no Pico "
                     f"board parts): {carrier.days:.1f} days")
    slower = compute(PowerConfig(**{**c.__dict__, "heartbeat_min": c.heartbeat_min * 4}), data)
    lines.append(f"a heartbeat every {c.heartbeat_min * 4:g} min: {slower.days:.1f} days")
    needed = budget.average_ma * GOAL_DAYS * 24 / (budget.usable_mah / c.battery_mah)
    lines.append(f"a battery of {needed:.0f} mAh for {GOAL_DAYS} days at this configuration")
    sleep_share = budget.states_ma["sleep" if c.modem_mode == "gated" else "modem_idle"]
    lines.append(f"the standby floor is {sleep_share:.2f} mA: a microcontroller that sleeps below 0.1 mA (bare "
                 "RP2040 dormant with an RTC wake, or ESP32 deep sleep) and LTE PSM/eDRX (AT+CPSMS/AT+CEDRXS, "
                 "where the network grants it) lower it most")
    return lines


def profile_budgets(config, data=None):
    """The budget of each named profile for this configuration's build, board, battery and heartbeat, in PROFILES
    order."""
    data = data or load_power_data(config.build)
    return {name: compute(PowerConfig(**{**config.__dict__, **settings}), data)
            for name, settings in PROFILES.items()}


def format_profiles(config, data=None):
    lines = ["profiles (same battery, heartbeat and alerts):"]
    for name, budget in profile_budgets(config, data).items():
        verdict = "meets" if budget.meets_goal else "does NOT meet"
        lines.append(f"  {name:<10} {budget.days:>5.1f} days ({verdict} the {GOAL_DAYS}-day goal): "
                     f"{PROFILE_NOTES[name]}")
    return lines


def format_budget(budget, data=None):
    c = budget.config
    raw = data or load_power_data(c.build)
    mcu = resolve_mcu_sleep(board_figures(raw, c.mcu_board), c.mcu_sleep)
    board = f" ({c.mcu_board} board)" if raw.get("mcu_boards") else ""
    lines = [
        f"Build {c.build.upper()}{board} with {budget.modem} (modem {c.modem_mode}, MCU {mcu} sleep), GPS {c.gps}, "
        f"heartbeat every "
        f"{c.heartbeat_min:g} min, {c.alerts_per_day:g} alerts/day, "
        + (f"{c.presses_per_day:g} held presses/day, " if c.presses_per_day else "")
        + f"{c.battery_mah:g} mAh "
        f"({budget.usable_mah:.0f} mAh usable)",
        "",
        f"{'state':<15} {'mA':>9} {'s/hour':>9}  what",
    ]
    for state in STATES:
        lines.append(f"{state:<15} {budget.states_ma[state]:>9.3f} {budget.seconds_per_hour[state]:>9.1f}  "
                     f"{STATE_DESCRIPTIONS[state]}")
    verdict = "meets" if budget.meets_goal else "does NOT meet"
    lines += [
        "",
        f"average current {budget.average_ma:.2f} mA -> {budget.hours:.0f} h = {budget.days:.1f} days "
        f"({verdict} the {GOAL_DAYS}-day goal)",
    ]
    lines += format_profiles(c, data)
    extra = advice(budget, data)
    if extra:
        lines.append("what would reach it:")
        lines += [f"  - {line}" for line in extra]
    lines.append("figures and their sources: hardware/build-%s/power.json (estimates marked)" % c.build)
    return "\n".join(lines)
