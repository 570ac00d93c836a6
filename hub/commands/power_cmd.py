"""`deme power`: current per state and battery life of a reference build (hardware/<build>/power.json)."""
import json

from hub import power
from hub.hardware_data import BUILDS, HardwareDataError


def register(subparsers):
    p = subparsers.add_parser("power", help="power budget and battery life of a reference build")
    p.add_argument("--build", default="a", help=f"reference build: {', '.join(BUILDS)} (default a)")
    p.add_argument("--heartbeat-min", type=float, default=60.0, help="minutes between heartbeat SMS (default 60)")
    p.add_argument("--gps", default="on-alert", help="on-alert (default) or always")
    p.add_argument("--battery-mah", type=float, default=1000.0, help="battery capacity in mAh (default 1000)")
    p.add_argument("--modem", default=None, help="modem model (default: the build's first, e.g. A7670E)")
    p.add_argument("--profile", default="as-built",
                   help="as-built (default: modem registered, MCU light sleep, what the firmware does today) or "
                        "standby (modem gated between heartbeats, MCU dormant woken by the RTC alarm)")
    p.add_argument("--modem-mode", default=None,
                   help="overrides the profile: drx (registered and sleeping between pagings) or gated (powered "
                        "down between heartbeats)")
    p.add_argument("--mcu-sleep", default=None,
                   help="overrides the profile: light (timer wake) or dormant (needs an external RTC alarm to wake)")
    p.add_argument("--alerts-per-day", type=float, default=0.0, help="alerts sent per day (default 0)")
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
        mcu_sleep=args.mcu_sleep or profile["mcu_sleep"],
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
