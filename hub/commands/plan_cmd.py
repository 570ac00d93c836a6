"""`deme plan check --config hub.toml [--at 2026-12-04T22:30] [--json]`: the response plan's dry run.

For an alert arriving at the given time (now by default), each route's ladder: who would be texted, when, and who is
told it is unanswered; then everything that can never work (a responder never on duty, a category without a
route, a first step that reaches nobody at some hours of the week). Exit status: 0 the plan has no problem, 1 it
has some (listed), 2 the configuration is refused (its load error, an invalid phone number for example) or has no
[plan].
"""
import datetime
import json
import sys
import time
import zoneinfo

from hub.config import ConfigError, load_config


def register(subparsers):
    parser = subparsers.add_parser("plan", help="the response plan: who is texted of an incident, and when")
    actions = parser.add_subparsers(dest="plan_action", metavar="ACTION")
    actions.required = True
    check = actions.add_parser("check", help="dry run: who would be texted, when, for each route at a given time")
    check.add_argument("--config", required=True, help="the hub's TOML configuration")
    check.add_argument("--at", default=None,
                       help="when the alert arrives: an ISO date and time such as 2026-12-04T22:30, read in the "
                            "plan's time zone unless it carries an offset (default: now)")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(func=run_check)


def parse_at(raw, timezone):
    """Unix time of --at (a naive time is the plan's wall clock); hub.cli.UsageError when it is not a time."""
    from hub.cli import UsageError

    try:
        moment = datetime.datetime.fromisoformat(raw.strip())
    except ValueError:
        raise UsageError(f"--at {raw!r} is not a date and time: write it as 2026-12-04T22:30") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(timezone))
    return moment.timestamp()


def run_check(args):
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return refuse(args, f"the configuration is refused, fix it first: {exc}")
    if config.plan is None:
        return refuse(args, f"{args.config} has no [plan]: alerts reach the console only, nobody is texted "
                            "(docs/response-plan.md)")
    plan = config.plan
    at = parse_at(args.at, plan.timezone) if args.at is not None else time.time()
    report = plan.check(at)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        print(format_report(report, plan, config.hub_id))
    return 0 if report.ok else 1


def refuse(args, message):
    if args.json:
        print(json.dumps({"ok": False, "error": message}, indent=2, ensure_ascii=False))
    else:
        print(f"deme plan: {message}", file=sys.stderr)
    return 2


def format_report(report, plan, hub_id):
    def local(t, pattern="%a %H:%M:%S"):
        return plan.local_time(t).strftime(pattern)

    def offset(seconds):
        return f"{'+%g s' % seconds:<8}"

    def people(responders):
        return ", ".join(f"{r.name} {r.phone} ({r.lang})" for r in responders) or "NOBODY on duty"

    lines = [f"Response plan of hub {hub_id}, an alert at {local(report.at, '%a %Y-%m-%d %H:%M:%S')} "
             f"({report.timezone})"]
    if report.overrides:
        lines.append("Overrides, tried first (device, then the first zone holding the alert's position):")
        lines += [f"  {what} -> route {route}" for what, route in report.overrides]
    for check in report.routes:
        serves = ", ".join(check.serves) if check.serves else "only alerts sent to it by an override"
        lines += ["", f"Route {check.route.name}: {serves}"]
        for planned in check.sends:
            send = planned.send
            lines.append(f"  {local(planned.at)}  {offset(send.offset_s)}  step {send.step}/{planned.steps} "
                         f"send {send.repeat}/{planned.repeats}  {' + '.join(send.teams)}: "
                         f"{people(planned.responders)}")
        lines.append(f"  {local(check.unanswered_at)}  {offset(check.route.unanswered_after_s)}  unanswered if "
                     f"nobody acknowledged: {plan.supervisors_team} told: {people(check.unanswered_to)}")
    lines.append("")
    if report.ok:
        lines.append("No problems: every responder can be reached and every category has a route.")
    else:
        lines.append(f"Problems ({len(report.problems)}):")
        lines += [f"  {problem.kind}: {problem.message}" for problem in report.problems]
    return "\n".join(lines)
