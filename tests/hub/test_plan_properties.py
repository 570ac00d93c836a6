"""Properties of the response plan: whatever [plan] table a person writes, parse_plan gives a plan or a ConfigError,
never another exception; a plan it gives answers every question without failing; a rota's answer at any moment is
the minute of its week coverage (two ways of reading the same windows agree)."""
import datetime
import json
import zoneinfo

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.config import ConfigError
from hub.incidents.plan import ALERT_KINDS, ResponsePlan, parse_plan
from hub.incidents.plan_config import MINUTES_PER_DAY, Rota, parse_rota

JUNK = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                 st.text(max_size=8), st.lists(st.integers(0, 3), max_size=3),
                 st.dictionaries(st.text(max_size=4), st.integers(), max_size=2), st.just(datetime.time(8, 0)))
NAMES = st.sampled_from(["Diarra", "Koné", "Traoré", "jour", "nuit", "superviseurs", " ", ""])
NAME = st.one_of(NAMES, JUNK)
PHONE = st.one_of(st.sampled_from(["+22376100001", "76100002", "0022376100003", "+22376100004", "+2237", "x"]),
                  JUNK)
DAYS = st.one_of(st.sampled_from(["mon-fri", "sat,sun", "fri-mon", "daily", "lun-ven", "mon-fry", "", "sun"]),
                 st.lists(st.sampled_from(["mon", "sam", "tue-thu", "x"]), max_size=3), JUNK)
CLOCK = st.one_of(st.sampled_from(["00:00", "08:00", "18:00", "22:00", "06:00", "24:00", "23:59", "24:01", "8h"]),
                  st.times(), JUNK)
WINDOW = st.fixed_dictionaries({}, optional={"days": DAYS, "from": CLOCK, "to": CLOCK, "shift": JUNK})
ROTA = st.one_of(st.just("always"), st.lists(st.one_of(WINDOW, st.just("always"), JUNK), max_size=3), JUNK)
SECONDS = st.one_of(st.sampled_from([0, 1, 10, 30, 60, 3600, 3601, -1, 0.5]), JUNK)
NAME_LIST = st.one_of(st.lists(NAMES, max_size=3), JUNK)
RESPONDER = st.fixed_dictionaries({}, optional={"name": NAME, "phone": PHONE, "rank": JUNK,
                                                "lang": st.one_of(st.sampled_from(["fr", "en", "bm"]), JUNK)})
TEAM = st.fixed_dictionaries({}, optional={"name": NAME, "members": NAME_LIST, "rota": ROTA})
STEP = st.fixed_dictionaries({}, optional={"teams": NAME_LIST, "after_s": SECONDS, "every_s": SECONDS,
                                           "repeats": st.one_of(st.integers(0, 11), JUNK)})
ROUTE_NAME = st.one_of(st.sampled_from(["GEN", "med", "DUR", "duress", "FALL", "report", "report:AGR",
                                        "report:X", "default", "fallback", "vip", "bad name!"]), JUNK)
ROUTE = st.fixed_dictionaries({}, optional={"name": ROUTE_NAME, "steps": st.one_of(st.lists(
    st.one_of(STEP, JUNK), max_size=3), JUNK)})
DEGREES = st.one_of(st.floats(-200, 200), JUNK)
ZONE = st.one_of(
    st.fixed_dictionaries({"circle": st.one_of(st.fixed_dictionaries(
        {}, optional={"lat": DEGREES, "lon": DEGREES, "radius_m": st.one_of(st.floats(-1, 2e5), JUNK)}), JUNK)}),
    st.fixed_dictionaries({"polygon": st.one_of(st.lists(st.one_of(st.lists(DEGREES, min_size=2, max_size=2),
                                                                   JUNK), max_size=5), JUNK)}),
    JUNK)
OVERRIDE = st.fixed_dictionaries({}, optional={"device": st.one_of(st.sampled_from(["W1", "W2"]), JUNK),
                                               "zone": ZONE, "route": ROUTE_NAME, "name": NAME})
PLAN = st.fixed_dictionaries({}, optional={
    "timezone": st.one_of(st.sampled_from(["Africa/Bamako", "Europe/Paris", "UTC", "Mars/Base", "Africa", "",
                                           "../zoneinfo/UTC", "/etc/localtime"]), JUNK),
    "supervisors": NAME,
    "escalate_after_s": SECONDS, "repeats": st.one_of(st.integers(0, 11), JUNK), "every_s": SECONDS,
    "responders": st.one_of(st.lists(st.one_of(RESPONDER, JUNK), max_size=4), JUNK),
    "teams": st.one_of(st.lists(st.one_of(TEAM, JUNK), max_size=4), JUNK),
    "routes": st.one_of(st.lists(st.one_of(ROUTE, JUNK), max_size=4), JUNK),
    "overrides": st.one_of(st.lists(st.one_of(OVERRIDE, JUNK), max_size=3), JUNK),
    "colour": JUNK,
})
TIMES = st.floats(0, 2**32)  # Unix times up to the year 2106, the protocol's range


@settings(max_examples=400, deadline=None)
@given(table=st.one_of(PLAN, JUNK), t=TIMES)
def test_any_plan_table_is_parsed_or_refused_with_a_config_error(table, t):
    try:
        plan = parse_plan(table, "ML", devices={"W1": None})
    except ConfigError as exc:
        assert str(exc)  # the message a person reads
        return
    assert isinstance(plan, ResponsePlan)
    for _, category, event, source in ALERT_KINDS:
        route = plan.route_for(category, event, device_id="W1", position=(13.44, -6.26), source=source)
        assert all(team in plan.teams for step in route.steps for team in step.teams)
    for team in plan.teams:
        assert set(plan.on_duty(team, t)) <= set(plan.teams[team].members)
    assert plan.supervisors(t)  # never nobody
    json.dumps(plan.check(t).as_dict())


VALID_CLOCK = st.integers(0, MINUTES_PER_DAY - 1).map(lambda m: f"{m // 60:02d}:{m % 60:02d}")
VALID_ROTA = st.one_of(st.just("always"), st.lists(st.fixed_dictionaries(
    {"days": st.sampled_from(["mon-fri", "sat,sun", "fri-mon", "daily", "lun-ven"]), "from": VALID_CLOCK,
     "to": VALID_CLOCK}).filter(lambda w: w["from"] != w["to"]), max_size=3))


@st.composite
def valid_plans(draw):
    """A plan table every key of which is right: the generator above also reaches the accepting branch."""
    count = draw(st.integers(1, 4))
    responders = [{"name": f"R{i}", "phone": f"+2237610000{i}", "lang": draw(st.sampled_from(["fr", "en"]))}
                  for i in range(count)]
    teams = [{"name": f"T{i}", "members": draw(st.lists(st.sampled_from([r["name"] for r in responders]),
                                                        min_size=1, unique=True)), "rota": draw(VALID_ROTA)}
             for i in range(draw(st.integers(1, 3)))]
    team_names = st.lists(st.sampled_from([t["name"] for t in teams]), min_size=1, unique=True)
    routes = [{"name": name, "steps": [{"teams": draw(team_names)}] + [
        {"teams": draw(team_names), "after_s": draw(st.integers(1, 3600))} for _ in range(draw(st.integers(0, 2)))]}
        for name in draw(st.lists(st.sampled_from(["GEN", "med", "duress", "FALL", "report", "report:AGR",
                                                   "default", "vip"]), unique=True))]
    return {"supervisors": teams[0]["name"], "responders": responders, "teams": teams, "routes": routes,
            "timezone": draw(st.sampled_from(["Africa/Bamako", "Europe/Paris"]))}


@settings(max_examples=100, deadline=None)
@given(table=valid_plans(), t=TIMES)
def test_a_plan_whose_every_key_is_right_is_accepted(table, t):
    plan = parse_plan(table, "ML")
    assert set(plan.teams) == {team["name"] for team in table["teams"]}
    assert len(plan.routes) == len(table["routes"])
    assert plan.supervisors(t)


WINDOWS = st.lists(st.fixed_dictionaries({
    "days": st.sampled_from(["mon", "tue-thu", "fri-mon", "sat,sun", "daily"]),
    "from": st.integers(0, MINUTES_PER_DAY - 1).map(lambda m: f"{m // 60:02d}:{m % 60:02d}"),
    "to": st.integers(0, MINUTES_PER_DAY).map(lambda m: f"{m // 60:02d}:{m % 60:02d}"),
}).filter(lambda w: w["from"] != w["to"]), max_size=3)


@settings(max_examples=300, deadline=None)
@given(windows=WINDOWS, minute_of_week=st.integers(0, 7 * MINUTES_PER_DAY - 1),
       timezone=st.sampled_from(["Africa/Bamako", "Europe/Paris", "America/New_York"]))
def test_a_rota_at_any_moment_is_its_week_coverage(windows, minute_of_week, timezone):
    rota = parse_rota(windows, "team t")
    assert isinstance(rota, Rota)
    monday = datetime.datetime(2026, 12, 7, tzinfo=zoneinfo.ZoneInfo(timezone))  # a Monday, 00:00 local
    day, minute = divmod(minute_of_week, MINUTES_PER_DAY)
    local = monday + datetime.timedelta(days=day, hours=minute // 60, minutes=minute % 60)
    assert rota.on_duty(local) == bool(rota.week_coverage()[minute_of_week])
