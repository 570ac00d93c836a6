"""The response plan (hub.toml [plan], docs/response-plan.md): who is told of an incident, when, and who is next
when nobody acts.

The plan is data: responders (a name, an E.164 number, a language) in teams, each team with a duty rota; routes
(an escalation ladder of steps, each step texting teams and repeated a few times) chosen per alert kind, with
overrides per device and per zone. This module answers the engine's questions (route_for, on_duty, supervisors,
responder_by_phone) and `deme plan check`'s (check: a dry run at a given time, and what can never work). It keeps
no state and reads no clock: every answer is for the Unix time it is given.
"""
import datetime
import re
import zoneinfo
from dataclasses import dataclass, field

from drivers.alert import CATEGORIES
from hub.config_errors import ConfigError, normalise_number
from hub.incidents.plan_config import (
    DEFAULT_TIMEZONE,
    ESCALATE_AFTER_S_DEFAULT,
    ESCALATE_AFTER_S_RANGE,
    EVERY_S_DEFAULT,
    EVERY_S_RANGE,
    MINUTES_PER_WEEK,
    REPEATS_DEFAULT,
    REPEATS_RANGE,
    RESPONDER_LANGUAGES,
    STEPS_RANGE,
    Rota,
    describe_week_minute,
    known_keys,
    names,
    number,
    parse_rota,
    parse_zone,
    show,
    table_of,
    tables_of,
    text,
    week_gaps,
    whole,
)

# Route names with a meaning of their own (route_for); any other name is a route for overrides to point at.
DURESS_ROUTE = "duress"
FALL_ROUTE = "FALL"
REPORT_ROUTE = "report"
DEFAULT_ROUTE = "default"
# What an alert takes when the plan routes it nowhere: the supervisors, since it must reach someone.
FALLBACK_ROUTE = "fallback"
ROUTE_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,32}")
# The alert kinds `deme plan check` shows the route of: (label, category, event, source) for every category.
ALERT_KINDS = tuple(
    (f"{category} {label}", category, event, source)
    for category in CATEGORIES
    for label, event, source in (("alert", "SOS", "wearable"), ("fall", "FALL", "wearable"),
                                 ("duress", "DUR", "wearable"), ("report", "SOS", "report"))
)


@dataclass(frozen=True)
class Responder:
    name: str
    phone: str  # E.164
    lang: str = "fr"  # "fr" | "en": the language of the SMS they get and may answer in


@dataclass(frozen=True)
class Team:
    name: str
    members: tuple  # Responder, in the order the plan lists them
    rota: Rota


@dataclass(frozen=True)
class Step:
    """One rung of the ladder: its teams are texted `repeats` times, `every_s` apart, the first time `after_s`
    after the previous step began (step 1: 0, as the alert arrives)."""
    teams: tuple
    after_s: float = 0.0
    repeats: int = REPEATS_DEFAULT
    every_s: float = EVERY_S_DEFAULT


@dataclass(frozen=True)
class Send:
    """One round of SMS of a route: at offset_s from the alert, the `repeat`-th send of step `step` (both from 1)."""
    offset_s: float
    step: int
    repeat: int
    teams: tuple


@dataclass(frozen=True)
class Route:
    name: str
    steps: tuple  # Step

    def step_starts(self):
        """Seconds from the alert to each step's first send."""
        starts, at = [], 0.0
        for step in self.steps:
            at += step.after_s
            starts.append(at)
        return tuple(starts)

    def schedule(self):
        """Every send of the ladder in time order (a step's repeats may overlap the next step: both go)."""
        sends = [Send(offset_s=start + repeat * step.every_s, step=index + 1, repeat=repeat + 1, teams=step.teams)
                 for index, (step, start) in enumerate(zip(self.steps, self.step_starts()))
                 for repeat in range(step.repeats)]
        return tuple(sorted(sends, key=lambda send: (send.offset_s, send.step)))

    @property
    def unanswered_after_s(self):
        """When the incident is flagged unanswered if nobody has acknowledged it: every_s after the last send of
        the step that ends last (each send is given as long to be answered as the wait between repeats)."""
        return max(start + step.repeats * step.every_s for step, start in zip(self.steps, self.step_starts()))


@dataclass(frozen=True)
class ZoneOverride:
    name: str
    zone: object  # plan_config.Circle or plan_config.Polygon
    route: str


@dataclass(frozen=True)
class PlannedSend:
    at: float  # Unix time
    send: Send
    steps: int  # how many steps the route has, for "step 1/2"
    repeats: int  # how many times this step is sent
    responders: tuple  # who gets it (on duty at that time)


@dataclass(frozen=True)
class RouteCheck:
    route: Route
    serves: tuple  # labels of ALERT_KINDS that take this route without an override
    sends: tuple  # PlannedSend
    unanswered_at: float
    unanswered_to: tuple  # the supervisors told at that time


@dataclass(frozen=True)
class Problem:
    kind: str  # undefined-team, missing-route, unreachable, never-texted, nobody-on-duty, first-step-gap
    subject: str
    message: str


@dataclass(frozen=True)
class PlanReport:
    at: float
    timezone: str
    routes: tuple  # RouteCheck
    overrides: tuple  # (what, route name) in the order route_for tries them
    problems: tuple  # Problem

    @property
    def ok(self):
        return not self.problems

    def as_dict(self):
        def person(responder):
            return {"name": responder.name, "phone": responder.phone, "lang": responder.lang}

        return {
            "at": self.at,
            "timezone": self.timezone,
            "routes": [{
                "name": check.route.name,
                "serves": list(check.serves),
                "sends": [{"at": planned.at, "offset_s": planned.send.offset_s, "step": planned.send.step,
                           "repeat": planned.send.repeat, "repeats": planned.repeats,
                           "teams": list(planned.send.teams),
                           "responders": [person(r) for r in planned.responders]} for planned in check.sends],
                "unanswered_at": check.unanswered_at,
                "unanswered_offset_s": check.route.unanswered_after_s,
                "unanswered_to": [person(r) for r in check.unanswered_to],
            } for check in self.routes],
            "overrides": [{"what": what, "route": route} for what, route in self.overrides],
            "problems": [{"kind": p.kind, "subject": p.subject, "message": p.message} for p in self.problems],
            "ok": self.ok,
        }


@dataclass(frozen=True, eq=False)
class ResponsePlan:
    teams: dict  # name -> Team
    supervisors_team: str  # the team told when an incident is unanswered
    routes: dict = field(default_factory=dict)  # route name -> Route
    responders: dict = field(default_factory=dict)  # name -> Responder; empty: the teams' members
    device_routes: dict = field(default_factory=dict)  # device id -> route name
    zone_routes: tuple = ()  # ZoneOverride, first match wins
    timezone: str = DEFAULT_TIMEZONE
    region: str = "ML"  # the country of numbers written without "+"
    escalate_after_s: float = ESCALATE_AFTER_S_DEFAULT
    repeats: int = REPEATS_DEFAULT
    every_s: float = EVERY_S_DEFAULT

    def __post_init__(self):
        if not self.responders:
            members = {r.name: r for team in self.teams.values() for r in team.members}
            object.__setattr__(self, "responders", members)
        object.__setattr__(self, "_zone", zoneinfo.ZoneInfo(self.timezone))
        object.__setattr__(self, "_by_phone", {r.phone: r for r in self.responders.values()})

    # --- the engine's questions ----------------------------------------------------------------------------------

    def route_for(self, category, event, device_id=None, position=None, source="wearable"):
        """The route an alert takes: its device's override, else the first zone holding its position, else by
        kind (route_keys), else the supervisors (fallback_route)."""
        if device_id is not None and self.device_routes.get(device_id) in self.routes:
            return self.routes[self.device_routes[device_id]]
        if position is not None and len(position) == 2 and None not in position:
            lat, lon = position
            for override in self.zone_routes:
                if override.route in self.routes and override.zone.contains(lat, lon):
                    return self.routes[override.route]
        for key in route_keys(category, event, source):
            if key in self.routes:
                return self.routes[key]
        return self.fallback_route()

    def fallback_route(self):
        return Route(name=FALLBACK_ROUTE,
                     steps=(Step(teams=(self.supervisors_team,), repeats=self.repeats, every_s=self.every_s),))

    def local_time(self, t):
        return datetime.datetime.fromtimestamp(t, self._zone)

    def on_duty(self, team_name, t):
        """The members of the team on duty at Unix time t (its rota read on the plan's wall clock). KeyError for a
        team the plan does not have."""
        team = self.teams[team_name]
        return list(team.members) if team.rota.on_duty(self.local_time(t)) else []

    def supervisors(self, t):
        """Who is told that an incident is unanswered: the supervisors on duty, or all of them when none is (an
        unanswered incident must reach someone)."""
        team = self.teams[self.supervisors_team]
        return self.on_duty(self.supervisors_team, t) or list(team.members)

    def recipients(self, step, t):
        """Who one send of a step texts at time t: the on-duty members of its teams, each once; the supervisors
        team as supervisors() (never nobody). A team the plan lacks gives nobody (check() reports it)."""
        found = {}
        for team_name in step.teams:
            if team_name == self.supervisors_team and team_name in self.teams:
                members = self.supervisors(t)
            elif team_name in self.teams:
                members = self.on_duty(team_name, t)
            else:
                members = []
            for responder in members:
                found.setdefault(responder.phone, responder)
        return list(found.values())

    def responder_by_phone(self, phone):
        """The responder whose number this is, in any spelling that is the same E.164 number (national "76 00 00
        01", "0022376000001", "+223 76..."); None for any other sender, a malformed one included."""
        if not isinstance(phone, str):
            return None
        try:
            e164 = normalise_number(phone, self.region, "sender")
        except ConfigError:
            return None
        return self._by_phone.get(e164)

    # --- the dry run ---------------------------------------------------------------------------------------------

    def check(self, t):
        """For each route: who would be texted at each send of an alert arriving at Unix time t, and who is told
        it is unanswered; then whatever can never work (Problem kinds in PlanReport)."""
        served = {}
        for label, category, event, source in ALERT_KINDS:
            served.setdefault(self.route_for(category, event, source=source).name, []).append(label)
        routes = list(self.routes.values())
        if FALLBACK_ROUTE in served:
            routes.append(self.fallback_route())
        checks = []
        for route in routes:
            sends = tuple(PlannedSend(at=t + send.offset_s, send=send, steps=len(route.steps),
                                      repeats=route.steps[send.step - 1].repeats,
                                      responders=tuple(self.recipients(route.steps[send.step - 1],
                                                                       t + send.offset_s)))
                          for send in route.schedule())
            unanswered_at = t + route.unanswered_after_s
            to = tuple(self.supervisors(unanswered_at)) if self.supervisors_team in self.teams else ()
            checks.append(RouteCheck(route=route, serves=tuple(served.get(route.name, ())), sends=sends,
                                     unanswered_at=unanswered_at, unanswered_to=to))
        overrides = [(f"device {device}", route) for device, route in self.device_routes.items()]
        overrides += [(f"zone {o.name} ({o.zone.describe()})", o.route) for o in self.zone_routes]
        return PlanReport(at=t, timezone=self.timezone, routes=tuple(checks), overrides=tuple(overrides),
                          problems=tuple(self._problems(checks)))

    def _problems(self, checks):
        problems = []
        referenced = {self.supervisors_team: "supervisors"}
        for route in self.routes.values():
            for index, step in enumerate(route.steps):
                for team in step.teams:
                    referenced.setdefault(team, f"route {route.name} step {index + 1}")
        for team, by in referenced.items():
            if team not in self.teams:
                problems.append(Problem("undefined-team", team, f"team {team!r} ({by}) is not defined: nobody "
                                                                 "would be texted"))
        for category in CATEGORIES:
            if self.route_for(category, "SOS").name == FALLBACK_ROUTE:
                problems.append(Problem("missing-route", category, f"no route for category {category} (neither "
                                        f"{category!r} nor {DEFAULT_ROUTE!r}): its alerts go to the supervisors "
                                        "only"))
        teams_of = {name: [t for t in self.teams.values() if any(r.name == name for r in t.members)]
                    for name in self.responders}
        for name, teams in teams_of.items():
            if not teams:
                problems.append(Problem("unreachable", name, f"{name} is in no team: never texted"))
            elif not any(team.rota.always or team.rota.windows for team in teams):
                problems.append(Problem("unreachable", name, f"{name} is never on duty: no rota slot in "
                                        f"{', '.join(team.name for team in teams)}"))
            elif not any(team.name in referenced for team in teams):
                problems.append(Problem("never-texted", name, f"{name} is never texted: "
                                        f"{', '.join(team.name for team in teams)} in no route, not supervisors"))
        for check in checks:
            told = set()
            for planned in check.sends:
                key = (check.route.name, planned.send.step)
                if not planned.responders and key not in told:
                    told.add(key)
                    at = self.local_time(planned.at).strftime("%a %H:%M:%S")
                    problems.append(Problem("nobody-on-duty", f"{check.route.name} step {planned.send.step}",
                                            f"route {check.route.name} step {planned.send.step} at {at}: nobody "
                                            f"of {', '.join(planned.send.teams)} on duty"))
        for route in self.routes.values():
            problems.extend(self._first_step_gaps(route))
        return problems

    def _first_step_gaps(self, route):
        """The stretches of the week when a route's first step reaches nobody (its alerts wait for step 2)."""
        first = route.steps[0]
        if self.supervisors_team in first.teams and self.supervisors_team in self.teams:
            return []  # the supervisors are always reached (supervisors())
        covered = bytearray(MINUTES_PER_WEEK)
        for team in (self.teams[name] for name in first.teams if name in self.teams):
            covered = bytearray(a | b for a, b in zip(covered, team.rota.week_coverage()))
        then = (f"its alerts wait {route.steps[1].after_s:g} s for step 2" if len(route.steps) > 1 else
                f"its alerts go to the supervisors only when unanswered, after {route.unanswered_after_s:g} s")
        return [Problem("first-step-gap", f"{route.name} step 1",
                        f"route {route.name}: step 1 reaches nobody from {describe_week_minute(start)} to "
                        f"{describe_week_minute(start + length)} ({length // 60} h {length % 60:02d} min): {then}")
                for start, length in week_gaps(covered)]


def route_keys(category, event, source="wearable"):
    """The route names tried in order for an alert without override: duress, FALL, report:<category> then report
    for a keyword report, then its category, then "default"."""
    keys = []
    if event == "DUR":
        keys.append(DURESS_ROUTE)
    if event == "FALL":
        keys.append(FALL_ROUTE)
    if source == "report":
        keys += [f"{REPORT_ROUTE}:{category}", REPORT_ROUTE]
    keys += [category, DEFAULT_ROUTE]
    return keys


def route_name(raw, where):
    """The canonical spelling of a route name: categories and FALL upper case, duress/report/default lower case
    (DUR is duress), report:<category>; any other name as written."""
    name = raw.strip()
    upper, lower = name.upper(), name.lower()
    if upper in CATEGORIES or upper == FALL_ROUTE:
        return upper
    if upper == "DUR" or lower in (DURESS_ROUTE, REPORT_ROUTE, DEFAULT_ROUTE):
        return DURESS_ROUTE if upper == "DUR" else lower
    if lower.startswith(REPORT_ROUTE + ":"):
        category = upper.partition(":")[2].strip()
        if category not in CATEGORIES:
            raise ConfigError(f"{where}: {raw!r}: a report route is report:<category>, the category one of "
                              f"{', '.join(CATEGORIES)}")
        return f"{REPORT_ROUTE}:{category}"
    if lower == FALLBACK_ROUTE or not ROUTE_NAME.fullmatch(name):
        raise ConfigError(f"{where}: {raw!r} is not a route name: one of {', '.join(CATEGORIES)}, FALL, duress, "
                          f"report, report:<category>, default, or 1-32 letters, digits, '_', '-', '.' for a route "
                          f"of overrides (not {FALLBACK_ROUTE!r}, the plan's own)")
    return name


# --- parsing hub.toml [plan] -------------------------------------------------------------------------------------


def parse_plan(table, region, where="[plan]", devices=None, hub_number=None):
    """The ResponsePlan of a [plan] table; ConfigError naming the block and the key otherwise. region: the
    country of numbers written without "+"; devices: the configured devices by id (hub.config.Device), which
    overrides must name and whose numbers no responder may have; hub_number: the hub's own (None: not checked)."""
    plan = table_of(table, "[plan]", where)
    timezone = _timezone(plan, where)
    escalate_after_s = number(plan, "escalate_after_s", where, ESCALATE_AFTER_S_DEFAULT, ESCALATE_AFTER_S_RANGE,
                              "how long after a step began the next one starts, when a step does not say")
    repeats = whole(plan, "repeats", where, REPEATS_DEFAULT, REPEATS_RANGE,
                    "times each step's SMS is sent, when a step does not say")
    every_s = number(plan, "every_s", where, EVERY_S_DEFAULT, EVERY_S_RANGE,
                     "the wait between two sends of a step, when a step does not say")
    responders = _responders(plan, region, where)
    _numbers_of_others(responders, devices, hub_number, where)
    teams = _teams(plan, responders, where)
    supervisors = text(plan, "supervisors", where, what="the name of the team told of unanswered incidents")
    if supervisors not in teams:
        raise ConfigError(f"{where}: 'supervisors': {supervisors!r} is not a team of [[plan.teams]] "
                          f"(teams: {', '.join(teams) or 'none'})")
    routes = _routes(plan, teams, escalate_after_s, repeats, every_s)
    device_routes, zone_routes = _overrides(plan, routes, devices)
    return ResponsePlan(teams=teams, supervisors_team=supervisors, routes=routes, responders=responders,
                        device_routes=device_routes, zone_routes=zone_routes, timezone=timezone, region=region,
                        escalate_after_s=escalate_after_s, repeats=repeats, every_s=every_s)


def _timezone(plan, where):
    name = text(plan, "timezone", where, DEFAULT_TIMEZONE, "a time zone name such as \"Africa/Bamako\"")
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(f"{where}: 'timezone': {show(name)} is not a time zone of the tz database: write a name "
                          "such as \"Africa/Bamako\", \"Africa/Dakar\" or \"Europe/Paris\"") from None
    return name


def _responders(plan, region, where):
    responders, phones = {}, {}
    for index, entry in enumerate(tables_of(plan, "responders", "[[plan.responders]]", where)):
        r_where = f"[[plan.responders]] #{index + 1}"
        name = text(entry, "name", r_where, what="the responder's name")
        r_where = f"{where} responder {name!r}"
        if name in responders:
            raise ConfigError(f"{r_where}: the name is used twice (teams list responders by name)")
        if "phone" not in entry:
            raise ConfigError(f"{r_where}: missing key 'phone'")
        phone = normalise_number(entry["phone"], region, r_where + " phone")
        if phone in phones:
            raise ConfigError(f"{r_where}: 'phone' {phone} is {phones[phone]}'s too: the hub knows who answers "
                              "an SMS by its number")
        lang = entry.get("lang", "fr")
        if lang not in RESPONDER_LANGUAGES:
            raise ConfigError(f"{r_where}: 'lang' must be one of {', '.join(RESPONDER_LANGUAGES)} (the languages "
                              f"of the SMS replies), not {show(lang)}")
        phones[phone] = name
        responders[name] = Responder(name=name, phone=phone, lang=lang)
    return responders


def _numbers_of_others(responders, devices, hub_number, where):
    """A responder's number must be nobody else's the hub knows: an SMS from it would be read as a wearable's
    alert, or be the hub writing to itself."""
    others = {getattr(device, "phone", None): f"device {device_id}'s" for device_id, device in (devices or {}).items()}
    others[hub_number] = "the hub's own number"
    for responder in responders.values():
        if responder.phone in others:
            raise ConfigError(f"{where} responder {responder.name!r}: 'phone' {responder.phone} is "
                              f"{others[responder.phone]}: the hub tells who writes by the number")


def _teams(plan, responders, where):
    teams = {}
    for index, entry in enumerate(tables_of(plan, "teams", "[[plan.teams]]", where)):
        name = text(entry, "name", f"[[plan.teams]] #{index + 1}", what="the team's name")
        t_where = f"{where} team {name!r}"
        if name in teams:
            raise ConfigError(f"{t_where}: the name is used twice")
        members = names(entry, "members", t_where, "responder names")
        for member in members:
            if member not in responders:
                raise ConfigError(f"{t_where}: 'members': {member!r} is not a responder of [[plan.responders]] "
                                  f"(responders: {', '.join(responders) or 'none'})")
        if "rota" not in entry:
            raise ConfigError(f"{t_where}: missing key 'rota' (when the team is on duty: \"always\" or windows "
                              "such as [{days = \"mon-fri\", from = \"08:00\", to = \"18:00\"}])")
        teams[name] = Team(name=name, members=tuple(responders[m] for m in members),
                           rota=parse_rota(entry["rota"], t_where))
    return teams


def _routes(plan, teams, escalate_after_s, repeats, every_s):
    routes = {}
    for index, entry in enumerate(tables_of(plan, "routes", "[[plan.routes]]", "[plan]")):
        b_where = f"[[plan.routes]] #{index + 1}"
        name = route_name(text(entry, "name", b_where, what="the route's name"), b_where + ": 'name'")
        r_where = f"[plan] route {name!r}"
        if name in routes:
            raise ConfigError(f"{r_where}: defined twice (names are read case-insensitively for categories)")
        raw_steps = entry.get("steps")
        low, high = STEPS_RANGE
        if not isinstance(raw_steps, list) or not low <= len(raw_steps) <= high:
            raise ConfigError(f"{r_where}: 'steps' must be a list of {low}-{high} steps such as "
                              f"[{{teams = [\"police\"]}}, {{teams = [\"supervisors\"], after_s = 60}}], "
                              f"not {show(raw_steps)}")
        steps = []
        for s_index, raw in enumerate(raw_steps):
            s_where = f"{r_where} step {s_index + 1}"
            step = table_of(raw, "step", s_where)
            step_teams = names(step, "teams", s_where, "team names")
            for team in step_teams:
                if team not in teams:
                    raise ConfigError(f"{s_where}: 'teams': {team!r} is not a team of [[plan.teams]] "
                                      f"(teams: {', '.join(teams) or 'none'})")
            if s_index == 0:
                if step.get("after_s", 0) != 0 or isinstance(step.get("after_s"), bool):
                    raise ConfigError(f"{s_where}: 'after_s' must be 0 or left out: step 1 starts as the alert "
                                      f"arrives (the console and its teams at once), not {show(step['after_s'])}")
                after = 0.0
            else:
                after = number(step, "after_s", s_where, escalate_after_s, ESCALATE_AFTER_S_RANGE,
                               "how long after the previous step began this one starts")
            steps.append(Step(teams=step_teams, after_s=after,
                              repeats=whole(step, "repeats", s_where, repeats, REPEATS_RANGE,
                                            "times this step's SMS is sent"),
                              every_s=number(step, "every_s", s_where, every_s, EVERY_S_RANGE,
                                             "the wait between two sends of this step")))
        routes[name] = Route(name=name, steps=tuple(steps))
    return routes


def _overrides(plan, routes, devices):
    device_routes, zone_routes = {}, []
    for index, entry in enumerate(tables_of(plan, "overrides", "[[plan.overrides]]", "[plan]")):
        o_where = f"[plan] override #{index + 1}"
        known_keys(entry, "[[plan.overrides]]", o_where)
        if ("device" in entry) == ("zone" in entry):
            raise ConfigError(f"{o_where}: give exactly one of 'device' (a device id) or 'zone' "
                              "({circle = {lat, lon, radius_m}} or {polygon = [[lat, lon], ...]})")
        route = route_name(text(entry, "route", o_where, what="the name of a route"), o_where + ": 'route'")
        if route not in routes:
            raise ConfigError(f"{o_where}: 'route': {route!r} is not a route of [[plan.routes]] "
                              f"(routes: {', '.join(routes) or 'none'})")
        if "device" in entry:
            device = text(entry, "device", o_where, what="a device id of [[devices]]")
            if devices is not None and device not in devices:
                raise ConfigError(f"{o_where}: 'device': {device!r} is not a device of [[devices]]")
            if device in device_routes:
                raise ConfigError(f"{o_where}: 'device': {device!r} has an override already")
            text(entry, "name", o_where, None, "a name for the override")
            device_routes[device] = route
        else:
            name = text(entry, "name", o_where, f"#{index + 1}", "a name for the zone")
            zone_routes.append(ZoneOverride(name=name, zone=parse_zone(entry["zone"], o_where), route=route))
    return device_routes, tuple(zone_routes)
