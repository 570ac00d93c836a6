"""`deme power`: current per state and battery life of a reference build (hardware/<build>/power.json)."""
import json

from hub.design import power
from hub.design.hardware_data import BUILDS, HardwareDataError


def register(subparsers):
    p = subparsers.add_parser("power", help="power budget and battery life of a reference build")
    p.add_argument("--build", default="a", help=f"reference build: {', '.join(BUILDS)} (default a)")
    p.add_argument("--heartbeat-min", type=float, default=60.0, help="minutes between heartbeat SMS (default 60)")
    p.add_argument("--gps", default="on-alert", help="on-alert (default) or always")
    p.add_argument("--battery-mah", type=float, default=1000.0, help="battery capacity in mAh (default 1000)")
    p.add_argument("--modem", default=None, help="modem model (default: the build's first, e.g. A7670E)")
    p.add_argument("--profile", default="standby",
                   help="standby (default: the firmware's modem_mode gated, modem off between heartbeats), always "
                        "(the firmware's modem_mode always: registered, awake) or always-drx (registered and asleep "
                        "between pagings: not in the firmware)")
    p.add_argument("--modem-mode", default=None,
                   help="overrides the profile: gated (powered down between heartbeats), idle (registered, awake) "
                        "or drx (registered and sleeping between pagings)")
    p.add_argument("--mcu-sleep", default=None,
                   help="overrides the profile: light (timer wake), dormant (needs an external RTC alarm to wake) or "
                        "deepest (dormant where the build has an RTC)")
    p.add_argument("--mcu-board", default="pico",
                   help="build A's board option: pico (default: the Raspberry Pi Pico) or carrier (bare RP2040 on "
                        "the carrier PCB)")
    p.add_argument("--listen-s", type=float, default=None,
                   help="seconds the modem stays on after a heartbeat (the firmware's listen_s, default %g)"
                        % power.FIRMWARE_DEFAULTS["listen_s"])
    p.add_argument("--alerts-per-day", type=float, default=0.0, help="alerts sent per day (default 0)")
    p.add_argument("--presses-per-day", type=float, default=0.0,
                   help="presses per day held past half a second that raise no alarm: each starts and stops a "
                        "gated modem (default 0)")
    p.add_argument("--json", action="store_true", help="print the budget as JSON")
    p.set_defaults(func=run)


def run(args):
    from hub.cli import UsageError

    if args.build not in BUILDS:
        raise UsageError(f"--build must be one of {', '.join(BUILDS)}, got {args.build!r}")
    if args.profile not in power.PROFILES:
        raise UsageError(f"--profile must be one of {', '.join(power.PROFILES)}, got {args.profile!r}")
    profile = power.PROFILES[args.profile]
    config = power.PowerConfig(
        build=args.build, heartbeat_min=args.heartbeat_min, gps=args.gps, battery_mah=args.battery_mah,
        modem=args.modem, modem_mode=args.modem_mode or profile["modem_mode"], alerts_per_day=args.alerts_per_day,
        presses_per_day=args.presses_per_day, mcu_sleep=args.mcu_sleep or profile["mcu_sleep"],
        mcu_board=args.mcu_board,
        **({"listen_s": args.listen_s} if args.listen_s is not None else {}),
    )
    try:
        data = power.load_power_data(args.build)
        budget = power.compute(config, data)
    except (ValueError, HardwareDataError) as exc:
        raise UsageError(str(exc)) from exc
    if args.json:
        out = budget.as_dict()
        out["profile"] = args.profile
        out["profiles"] = {name: {"days": round(b.days, 1), "meets_goal": b.meets_goal,
                                  "note": power.PROFILE_NOTES[name]}
                           for name, b in power.profile_budgets(config, data).items()}
        out["advice"] = power.advice(budget, data)
        print(json.dumps(out, indent=2))
    else:
        print(power.format_budget(budget, data))
    return 0
