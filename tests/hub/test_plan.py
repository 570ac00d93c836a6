"""The response plan (hub/incidents/plan.py): parse errors that name the field, the rota at its edges (from/to,
midnight, weekdays, a zone with DST), routing precedence, zones, the supervisors' fallback, responders by any
spelling of their number, and the dry run's problems."""
import copy
import datetime
import re
import tomllib
import zoneinfo
from pathlib import Path

import pytest

from hub.config import ConfigError, parse_config
from hub.incidents.plan import FALLBACK_ROUTE, ResponsePlan, Route, Step, Team, parse_plan
from hub.incidents.plan_config import PLAN_KEYS, Circle, Polygon, Rota, distance_m, parse_rota

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "hub.toml.example"
DIARRA, KONE, TRAORE = "+22376100001", "+22376100002", "+22376100004"


def at(text, timezone="Africa/Bamako"):
    """Unix time of a wall-clock time in a zone."""
    return datetime.datetime.fromisoformat(text).replace(tzinfo=zoneinfo.ZoneInfo(timezone)).timestamp()


def plan_table():
    return {
        "supervisors": "superviseurs",
        "responders": [
            {"name": "Adjudant Diarra", "phone": DIARRA},
            {"name": "Sergent Koné", "phone": KONE, "lang": "en"},
            {"name": "Commissaire Traoré", "phone": TRAORE},
        ],
        "teams": [
            {"name": "jour", "members": ["Adjudant Diarra"],
             "rota": [{"days": "mon-fri", "from": "08:00", "to": "18:00"}]},
            {"name": "nuit", "members": ["Sergent Koné"],
             "rota": [{"days": "fri", "from": "22:00", "to": "06:00"}]},
            {"name": "superviseurs", "members": ["Commissaire Traoré"],
             "rota": [{"days": "mon-fri", "from": "08:00", "to": "18:00"}]},
        ],
        "routes": [
            {"name": "default", "steps": [{"teams": ["jour", "nuit"]}, {"teams": ["superviseurs"]}]},
            {"name": "med", "steps": [{"teams": ["nuit"]}]},
            {"name": "duress", "steps": [{"teams": ["superviseurs"]}]},
            {"name": "FALL", "steps": [{"teams": ["jour"]}]},
            {"name": "report", "steps": [{"teams": ["nuit"]}]},
            {"name": "report:AGR", "steps": [{"teams": ["jour"]}]},
            {"name": "marche", "steps": [{"teams": ["jour", "superviseurs"]}]},
            {"name": "vip", "steps": [{"teams": ["superviseurs"], "repeats": 3}]},
        ],
        "overrides": [
            {"device": "W1", "route": "vip"},
            {"name": "marché", "zone": {"circle": {"lat": 13.444, "lon": -6.262, "radius_m": 400}},
             "route": "marche"},
            {"name": "quartier", "zone": {"polygon": [[13.40, -6.30], [13.40, -6.20], [13.42, -6.20],
                                                      [13.42, -6.30]]}, "route": "duress"},
        ],
    }


def plan(table=None, timezone=None):
    table = plan_table() if table is None else table
    if timezone:
        table["timezone"] = timezone
    return parse_plan(table, "ML")


def names(responders):
    return [r.name for r in responders]


# --- parse errors name the field -----------------------------------------------------------------------------------


def set_in(path, value):
    def change(table):
        target = table
        for key in path[:-1]:
            target = target[key]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return change


DELETE = object()

BAD = [
    (set_in(["timezone"], "Africa/Ségou"), r"\[plan\]: 'timezone': 'Africa/Ségou' is not a time zone"),
    (set_in(["timezone"], "../../etc/passwd"), r"'timezone'"),
    (set_in(["supervisors"], DELETE), r"\[plan\]: missing key 'supervisors'"),
    (set_in(["supervisors"], "chefs"), r"'supervisors': 'chefs' is not a team"),
    (set_in(["escalate_after_s"], 0), r"\[plan\]: 'escalate_after_s' must be a number of seconds from 1 to 3600"),
    (set_in(["repeats"], 0), r"\[plan\]: 'repeats' must be a whole number from 1 to 10"),
    (set_in(["repeats"], True), r"'repeats'"),
    (set_in(["every_s"], 5), r"\[plan\]: 'every_s' must be a number of seconds from 10 to 3600"),
    (set_in(["colour"], "blue"), r"\[plan\]: unknown key 'colour'"),
    (set_in(["responders", 0, "phone"], "+2237610"), r"responder 'Adjudant Diarra' phone: '\+2237610' is not a valid"),
    (set_in(["responders", 0, "phone"], DELETE), r"responder 'Adjudant Diarra': missing key 'phone'"),
    (set_in(["responders", 1, "phone"], "76 10 00 01"), r"responder 'Sergent Koné': 'phone' \+22376100001 is "
                                                         r"Adjudant Diarra's too"),
    (set_in(["responders", 1, "lang"], "bm"), r"responder 'Sergent Koné': 'lang' must be one of fr, en"),
    (set_in(["responders", 1, "name"], "Adjudant Diarra"), r"responder 'Adjudant Diarra': the name is used twice"),
    (set_in(["responders", 0, "name"], " "), r"\[\[plan.responders\]\] #1: 'name' must be the responder's name"),
    (set_in(["responders", 0, "rank"], "adj"), r"\[\[plan.responders\]\] #1: unknown key 'rank'"),
    (set_in(["teams", 0, "members"], ["Adjudant Dyarra"]), r"team 'jour': 'members': 'Adjudant Dyarra' is not a "
                                                            r"responder"),
    (set_in(["teams", 0, "members"], []), r"team 'jour': 'members' must be a non-empty list"),
    (set_in(["teams", 0, "rota"], DELETE), r"team 'jour': missing key 'rota'"),
    (set_in(["teams", 0, "rota"], "sometimes"), r"team 'jour': 'rota' must be \"always\" or a list"),
    (set_in(["teams", 0, "rota", 0, "days"], "mon-fry"), r"team 'jour': rota #1: 'days': 'mon-fry' is not a day"),
    (set_in(["teams", 0, "rota", 0, "from"], "8h"), r"team 'jour': rota #1: 'from' must be a time of day"),
    (set_in(["teams", 0, "rota", 0, "from"], "24:00"), r"rota #1: 'from' must be a time of day \"HH:MM\" from "
                                                       r"00:00 to 23:59"),
    (set_in(["teams", 0, "rota", 0, "to"], "24:01"), r"rota #1: 'to' must be a time of day"),
    (set_in(["teams", 0, "rota", 0, "to"], "08:00"), r"rota #1: 'from' and 'to' are the same time"),
    (set_in(["teams", 0, "rota", 0, "to"], DELETE), r"rota #1: missing key 'to'"),
    (set_in(["teams", 0, "rota", 0, "shift"], "day"), r"rota #1: unknown key 'shift'"),
    (set_in(["routes", 0, "steps"], []), r"route 'default': 'steps' must be a list of 1-10 steps"),
    (set_in(["routes", 0, "steps", 0, "teams"], ["pompiers"]), r"route 'default' step 1: 'teams': 'pompiers' is "
                                                               r"not a team"),
    (set_in(["routes", 0, "steps", 0, "after_s"], 10), r"route 'default' step 1: 'after_s' must be 0 or left out"),
    (set_in(["routes", 0, "steps", 1, "after_s"], 0), r"route 'default' step 2: 'after_s' must be a number of "
                                                      r"seconds from 1 to 3600"),
    (set_in(["routes", 0, "steps", 1, "repeats"], 11), r"route 'default' step 2: 'repeats'"),
    (set_in(["routes", 0, "steps", 1, "every_s"], "30"), r"route 'default' step 2: 'every_s'"),
    (set_in(["routes", 1, "name"], "DEFAULT"), r"route 'default': defined twice"),
    (set_in(["routes", 1, "name"], "report:XYZ"), r"\[\[plan.routes\]\] #2: 'name': 'report:XYZ': a report route"),
    (set_in(["routes", 1, "name"], "fallback"), r"#2: 'name': 'fallback' is not a route name"),
    (set_in(["overrides", 0, "route"], "vvip"), r"override #1: 'route': 'vvip' is not a route"),
    (set_in(["overrides", 0, "zone"], {"circle": {"lat": 1, "lon": 1, "radius_m": 5}}),
     r"override #1: give exactly one of 'device'"),
    (set_in(["overrides", 1, "zone"], {"circle": {"lat": 13.4, "lon": -6.2, "radius_m": 0}}),
     r"override #2: zone circle: 'radius_m' must be a number of metres from 1 to 100000"),
    (set_in(["overrides", 1, "zone"], {"circle": {"lat": 91, "lon": -6.2, "radius_m": 10}}),
     r"override #2: zone circle: 'lat' must be a number of degrees from -90 to 90"),
    (set_in(["overrides", 1, "zone"], {"circle": {"lat": 13.4, "radius_m": 10}}),
     r"override #2: zone circle: missing key 'lon'"),
    (set_in(["overrides", 1, "zone"], {"square": 1}), r"override #2: 'zone': unknown key 'square'"),
    (set_in(["overrides", 2, "zone"], {"polygon": [[13.4, -6.3], [13.4, -6.2]]}),
     r"override #3: zone polygon must be a list of 3-1000 points"),
    (set_in(["overrides", 2, "zone"], {"polygon": [[13.4, -6.3], [13.4, -6.2], [13.4, -6.1]]}),
     r"override #3: zone polygon has no area"),
    (set_in(["overrides", 2, "zone"], {"polygon": [[13.4, -6.3], [13.4, -6.2], [13.4, 181]]}),
     r"override #3: zone polygon point #3: lon must be a number of degrees from -180 to 180"),
]


@pytest.mark.parametrize("change, message", BAD, ids=[m for _, m in BAD])
def test_a_bad_value_is_refused_with_the_field_named(change, message):
    table = plan_table()
    change(table)
    with pytest.raises(ConfigError, match=message):
        parse_plan(table, "ML")


def test_an_override_of_a_device_the_hub_does_not_have_is_refused():
    with pytest.raises(ConfigError, match=r"override #1: 'device': 'W1' is not a device of \[\[devices\]\]"):
        parse_plan(plan_table(), "ML", devices={"W2": object()})
    table = plan_table()
    table["overrides"].append({"device": "W1", "route": "duress"})
    with pytest.raises(ConfigError, match=r"override #4: 'device': 'W1' has an override already"):
        parse_plan(table, "ML")


def test_the_defaults_are_the_documented_ones():
    parsed = plan()
    route = parsed.routes["default"]
    assert parsed.timezone == "Africa/Bamako"
    assert route.steps == (Step(teams=("jour", "nuit"), after_s=0.0, repeats=2, every_s=30.0),
                           Step(teams=("superviseurs",), after_s=60.0, repeats=2, every_s=30.0))
    assert [(s.offset_s, s.step, s.repeat) for s in route.schedule()] == [(0, 1, 1), (30, 1, 2), (60, 2, 1),
                                                                           (90, 2, 2)]
    assert route.unanswered_after_s == 120
    table = plan_table()
    table.update(escalate_after_s=45, repeats=1, every_s=20)
    assert plan(table).routes["default"].steps[1] == Step(teams=("superviseurs",), after_s=45.0, repeats=1,
                                                           every_s=20.0)


def test_category_route_names_are_read_whatever_their_case():
    parsed = plan()
    assert {"default", "MED", "duress", "FALL", "report", "report:AGR", "marche", "vip"} == set(parsed.routes)


# --- the rota at its edges -----------------------------------------------------------------------------------------


def test_a_window_holds_its_start_and_not_its_end():
    parsed = plan()  # jour: mon-fri 08:00-18:00; 2026-12-04 is a Friday
    assert names(parsed.on_duty("jour", at("2026-12-04T08:00:00"))) == ["Adjudant Diarra"]
    assert parsed.on_duty("jour", at("2026-12-04T07:59:59")) == []
    assert names(parsed.on_duty("jour", at("2026-12-04T17:59:59"))) == ["Adjudant Diarra"]
    assert parsed.on_duty("jour", at("2026-12-04T18:00:00")) == []


def test_a_window_crossing_midnight_belongs_to_the_day_it_starts():
    parsed = plan()  # nuit: fri 22:00-06:00
    assert parsed.on_duty("nuit", at("2026-12-04T21:59:59")) == []
    assert names(parsed.on_duty("nuit", at("2026-12-04T22:00:00"))) == ["Sergent Koné"]
    assert names(parsed.on_duty("nuit", at("2026-12-05T00:00:00"))) == ["Sergent Koné"]  # Saturday
    assert names(parsed.on_duty("nuit", at("2026-12-05T05:59:59"))) == ["Sergent Koné"]
    assert parsed.on_duty("nuit", at("2026-12-05T06:00:00")) == []
    assert parsed.on_duty("nuit", at("2026-12-05T22:30:00")) == []  # Saturday night is not Friday's
    assert parsed.on_duty("nuit", at("2026-12-04T03:00:00")) == []  # Friday early morning is Thursday's night


def test_weekday_ranges_and_the_weeks_end():
    parsed = plan()  # jour: mon-fri
    assert parsed.on_duty("jour", at("2026-12-05T09:00")) == []  # Saturday
    assert parsed.on_duty("jour", at("2026-12-06T09:00")) == []  # Sunday
    assert names(parsed.on_duty("jour", at("2026-12-07T09:00"))) == ["Adjudant Diarra"]  # Monday
    weekend = parse_rota([{"days": "fri-mon", "from": "20:00", "to": "08:00"}], "team w")
    sunday_night = datetime.datetime(2026, 12, 6, 23, 0, tzinfo=datetime.UTC)
    monday_morning = datetime.datetime(2026, 12, 8, 7, 0, tzinfo=datetime.UTC)  # Tuesday 07:00: Monday's night
    tuesday_night = datetime.datetime(2026, 12, 8, 23, 0, tzinfo=datetime.UTC)
    wednesday_morning = datetime.datetime(2026, 12, 9, 7, 0, tzinfo=datetime.UTC)
    assert weekend.on_duty(sunday_night) and weekend.on_duty(monday_morning)
    assert not weekend.on_duty(tuesday_night) and not weekend.on_duty(wednesday_morning)


def test_rota_spellings_mean_the_same_week():
    english = parse_rota([{"days": "sat,sun", "from": "00:00", "to": "24:00"}], "t")
    french = parse_rota([{"days": ["sam", "dim"], "from": datetime.time(0, 0), "to": "24:00"}], "t")
    assert english.week_coverage() == french.week_coverage()
    assert parse_rota("always", "t") == Rota(always=True)
    assert parse_rota([{"from": "00:00", "to": "24:00"}], "t").week_coverage() == Rota(always=True).week_coverage()
    assert parse_rota([], "t").week_coverage() == bytearray(7 * 24 * 60)


def test_bamako_has_no_dst_its_wall_clock_is_utc_all_year():
    parsed = plan()
    january = datetime.datetime(2026, 1, 5, 8, 0, tzinfo=datetime.UTC).timestamp()  # a Monday
    july = datetime.datetime(2026, 7, 6, 8, 0, tzinfo=datetime.UTC).timestamp()  # a Monday
    assert names(parsed.on_duty("jour", january)) == names(parsed.on_duty("jour", july)) == ["Adjudant Diarra"]
    assert parsed.on_duty("jour", january - 1) == parsed.on_duty("jour", july - 1) == []


def test_a_zone_with_dst_keeps_the_rota_on_its_wall_clock():
    parsed = plan(timezone="Europe/Paris")  # jour: mon-fri 08:00-18:00 Paris time
    winter = datetime.datetime(2026, 1, 5, 7, 0, tzinfo=datetime.UTC).timestamp()  # 08:00 CET
    summer = datetime.datetime(2026, 7, 6, 6, 0, tzinfo=datetime.UTC).timestamp()  # 08:00 CEST
    assert names(parsed.on_duty("jour", winter)) == names(parsed.on_duty("jour", summer)) == ["Adjudant Diarra"]
    assert parsed.on_duty("jour", winter - 1) == parsed.on_duty("jour", summer - 1) == []


def test_the_hour_dst_skips_is_never_on_duty_and_the_hour_it_repeats_is_twice():
    table = plan_table()
    table["teams"][0]["rota"] = [{"days": "sun", "from": "02:00", "to": "03:00"}]
    parsed = plan(table, timezone="Europe/Paris")
    # 2026-03-29: 02:00 CET jumps to 03:00 CEST, i.e. 01:00 UTC
    spring = datetime.datetime(2026, 3, 29, 0, 30, tzinfo=datetime.UTC).timestamp()
    assert all(parsed.on_duty("jour", spring + minute * 60) == [] for minute in range(0, 120))
    # 2026-10-25: 03:00 CEST goes back to 02:00 CET: 02:00-03:00 local happens at 00:00 and at 01:00 UTC
    autumn = datetime.datetime(2026, 10, 25, 0, 0, tzinfo=datetime.UTC).timestamp()
    on = [minute for minute in range(0, 180) if parsed.on_duty("jour", autumn + minute * 60)]
    assert on == list(range(0, 120))
    assert parsed.on_duty("jour", autumn + 120 * 60) == []


# --- routing -------------------------------------------------------------------------------------------------------

IN_MARKET = (13.444, -6.262)
IN_QUARTER = (13.41, -6.25)
ELSEWHERE = (13.50, -6.10)


def test_a_device_override_beats_a_zone_which_beats_the_kind():
    parsed = plan()
    assert parsed.route_for("GEN", "SOS", device_id="W1", position=IN_MARKET).name == "vip"
    assert parsed.route_for("GEN", "SOS", device_id="W2", position=IN_MARKET).name == "marche"
    assert parsed.route_for("MED", "SOS", device_id="W2", position=IN_QUARTER).name == "duress"
    assert parsed.route_for("MED", "SOS", device_id="W2", position=ELSEWHERE).name == "MED"
    assert parsed.route_for("MED", "SOS", device_id="W2", position=None).name == "MED"
    assert parsed.route_for("MED", "SOS", position=(None, None)).name == "MED"  # no fix: the alert still goes


def test_the_first_zone_holding_the_position_wins():
    table = plan_table()
    table["overrides"][1]["zone"] = {"circle": {"lat": 13.41, "lon": -6.25, "radius_m": 500}}  # inside the quarter
    assert plan(table).route_for("GEN", "SOS", position=IN_QUARTER).name == "marche"


def test_routes_by_kind():
    parsed = plan()
    assert parsed.route_for("GEN", "DUR").name == "duress"
    assert parsed.route_for("MED", "FALL").name == "FALL"
    assert parsed.route_for("AGR", "SOS", source="report").name == "report:AGR"
    assert parsed.route_for("HAR", "SOS", source="report").name == "report"
    assert parsed.route_for("MED", "SOS").name == "MED"
    assert parsed.route_for("FIRE", "SOS").name == "default"


def test_without_a_route_an_alert_goes_to_the_supervisors():
    table = plan_table()
    table["routes"] = [route for route in table["routes"] if route["name"] not in ("default", "duress")]
    table["overrides"] = table["overrides"][:2]  # the quarter's override takes the duress route
    parsed = plan(table)
    fallback = parsed.route_for("FIRE", "SOS")
    assert fallback.name == FALLBACK_ROUTE and fallback.steps == (Step(teams=("superviseurs",)),)
    assert parsed.route_for("GEN", "DUR").name == FALLBACK_ROUTE  # duress falls back to GEN, then default


def test_circle_containment():
    circle = Circle(lat=13.444, lon=-6.262, radius_m=400)
    north = 13.444 + 399 / 111_195  # a degree of latitude is about 111.2 km
    assert circle.contains(13.444, -6.262) and circle.contains(north, -6.262)
    assert not circle.contains(13.444 + 401 / 111_195, -6.262)
    assert distance_m(13.444, -6.262, north, -6.262) == pytest.approx(399, abs=0.5)


def test_polygon_containment_with_a_concave_zone_and_its_edges():
    # an L: the square (0,0)-(2,2) without its top-right quarter (1,1)-(2,2)
    ell = Polygon(points=((0, 0), (0, 2), (1, 2), (1, 1), (2, 1), (2, 0)))
    assert ell.contains(0.5, 0.5) and ell.contains(0.5, 1.5) and ell.contains(1.5, 0.5)
    assert not ell.contains(1.5, 1.5)  # the notch
    assert not ell.contains(-0.1, 1) and not ell.contains(3, 3)
    assert ell.contains(0, 1) and ell.contains(1, 1.5) and ell.contains(2, 0)  # on an edge, on a vertex


# --- who is told ---------------------------------------------------------------------------------------------------


def test_the_supervisors_are_all_told_when_none_is_on_duty():
    parsed = plan()
    saturday = at("2026-12-05T10:00")
    assert parsed.on_duty("superviseurs", saturday) == []
    assert names(parsed.supervisors(saturday)) == ["Commissaire Traoré"]
    monday = at("2026-12-07T10:00")
    assert names(parsed.supervisors(monday)) == names(parsed.on_duty("superviseurs", monday))


def test_a_step_texts_each_on_duty_member_once_and_the_supervisors_always():
    parsed = plan()
    step = parsed.routes["marche"].steps[0]  # jour + superviseurs
    assert names(parsed.recipients(step, at("2026-12-07T10:00"))) == ["Adjudant Diarra", "Commissaire Traoré"]
    assert names(parsed.recipients(step, at("2026-12-05T10:00"))) == ["Commissaire Traoré"]
    table = plan_table()
    table["teams"].append({"name": "tous", "members": ["Adjudant Diarra", "Sergent Koné"], "rota": "always"})
    table["routes"][0]["steps"][0]["teams"] = ["jour", "tous"]
    both = plan(table)
    assert names(both.recipients(both.routes["default"].steps[0], at("2026-12-07T10:00"))) == [
        "Adjudant Diarra", "Sergent Koné"]


@pytest.mark.parametrize("spelling", [DIARRA, "76100001", "76 10 00 01", "0022376100001", "+223 76-10-00-01",
                                      "(+223) 76.10.00.01"])
def test_a_responder_is_found_by_any_spelling_of_their_number(spelling):
    assert plan().responder_by_phone(spelling).name == "Adjudant Diarra"


@pytest.mark.parametrize("sender", ["+22376100009", "Orange", "", "+", "+33612345678", None, 22376100001])
def test_any_other_sender_is_nobody(sender):
    assert plan().responder_by_phone(sender) is None


# --- the dry run ---------------------------------------------------------------------------------------------------


def test_the_dry_run_lists_every_send_with_whoever_is_on_duty_then():
    parsed = plan()
    # Friday 21:59:40: step 1's first send finds nobody of jour or nuit; its repeat at 22:00:10 finds Koné
    report = parsed.check(at("2026-12-04T21:59:40"))
    default = next(check for check in report.routes if check.route.name == "default")
    assert "FIRE alert" in default.serves and "GEN fall" not in default.serves
    assert [(p.send.offset_s, p.send.step, p.send.repeat, names(p.responders)) for p in default.sends] == [
        (0, 1, 1, []), (30, 1, 2, ["Sergent Koné"]), (60, 2, 1, ["Commissaire Traoré"]),
        (90, 2, 2, ["Commissaire Traoré"])]
    assert default.unanswered_at == at("2026-12-04T22:01:40")
    assert names(default.unanswered_to) == ["Commissaire Traoré"]
    problems = {(p.kind, p.subject) for p in report.problems}
    assert ("nobody-on-duty", "default step 1") in problems
    assert {"device W1", "zone marché (within 400 m of 13.44400,-6.26200)"} <= {w for w, _ in report.overrides}
    assert report.as_dict()["routes"][0]["sends"][1]["responders"] == [
        {"name": "Sergent Koné", "phone": KONE, "lang": "en"}]


def test_the_dry_run_names_what_can_never_work():
    table = plan_table()
    table["responders"].append({"name": "Caporal Sidibé", "phone": "+22376100005"})  # in no team
    table["responders"].append({"name": "Agent Coulibaly", "phone": "+22376100006"})
    table["responders"].append({"name": "Agent Keïta", "phone": "+22376100007"})
    table["teams"].append({"name": "réserve", "members": ["Agent Coulibaly"], "rota": []})  # no slot
    table["teams"].append({"name": "pompiers", "members": ["Agent Keïta"], "rota": "always"})  # in no route
    table["routes"] = [route for route in table["routes"] if route["name"] != "default"]
    table["routes"].append({"name": "GEN", "steps": [{"teams": ["réserve"]}]})
    problems = {(p.kind, p.subject): p.message for p in plan(table).check(at("2026-12-07T10:00")).problems}
    assert problems[("unreachable", "Caporal Sidibé")] == "Caporal Sidibé is in no team: never texted"
    assert problems[("unreachable", "Agent Coulibaly")] == "Agent Coulibaly is never on duty: no rota slot in réserve"
    assert "pompiers in no route" in problems[("never-texted", "Agent Keïta")]
    assert set(category for kind, category in problems if kind == "missing-route") == {"AGR", "FIRE", "HAR"}
    assert problems[("first-step-gap", "GEN step 1")].startswith(
        "route GEN: step 1 reaches nobody from mon 00:00 to mon 00:00 (168 h 00 min)")
    assert "Adjudant Diarra" not in {subject for _, subject in problems}


def test_the_weeks_gaps_of_a_first_step_are_named():
    problems = [p.message for p in plan().check(at("2026-12-07T10:00")).problems if p.kind == "first-step-gap"]
    # default: jour mon-fri 08-18 + nuit fri 22-06
    assert "route default: step 1 reaches nobody from mon 18:00 to tue 08:00 (14 h 00 min): its alerts wait 60 s " \
           "for step 2" in problems
    assert any("from fri 18:00 to fri 22:00 (4 h 00 min)" in message for message in problems)
    assert any("from sat 06:00 to mon 08:00 (50 h 00 min)" in message for message in problems)
    assert not any(message.startswith("route vip") for message in problems)  # the supervisors are always reached


def test_a_plan_built_in_code_with_an_undefined_team_is_reported_not_crashed():
    always = Rota(always=True)
    officer = plan().responders["Adjudant Diarra"]
    built = ResponsePlan(teams={"chefs": Team("chefs", (officer,), always)}, supervisors_team="chefs",
                         routes={"default": Route("default", (Step(teams=("ghost",)),))})
    report = built.check(at("2026-12-07T10:00"))
    assert ("undefined-team", "ghost") in {(p.kind, p.subject) for p in report.problems}
    assert report.routes[0].sends[0].responders == ()


# --- hub.toml ------------------------------------------------------------------------------------------------------

HUB = {"hub": {"id": "segou-1", "number": "+22370000001"},
       "devices": [{"id": "W1", "key": "00" * 32, "phone": "+22376000001", "wearer": "Awa",
                    "contacts": [{"name": "Moussa", "phone": "+22366000001"}]}]}


def test_hub_toml_carries_the_plan_and_the_contacts_notices():
    data = copy.deepcopy(HUB)
    assert parse_config(data).plan is None
    assert parse_config(data).devices["W1"].contacts[0].notify == ("acknowledged", "dispatched", "resolved")
    data["plan"] = plan_table()
    data["devices"][0]["contacts"][0]["notify"] = ["resolved", "acknowledged", "resolved"]
    config = parse_config(data)
    assert config.plan.route_for("GEN", "SOS", device_id="W1").name == "vip"
    assert config.devices["W1"].contacts[0].notify == ("resolved", "acknowledged")
    data["devices"][0]["contacts"][0]["notify"] = []
    assert parse_config(data).devices["W1"].contacts[0].notify == ()


@pytest.mark.parametrize("notify", [["arrived"], "resolved", [1]])
def test_a_bad_notice_is_refused(notify):
    data = copy.deepcopy(HUB)
    data["devices"][0]["contacts"][0]["notify"] = notify
    with pytest.raises(ConfigError, match=r"device W1 contact #1: 'notify' must be a list of acknowledged, "
                                          r"dispatched, resolved"):
        parse_config(data)


@pytest.mark.parametrize("phone, whose", [("+22376000001", "device W1's"), ("70 00 00 01", "the hub's own number")])
def test_a_responder_cannot_have_a_number_the_hub_knows_as_another(phone, whose):
    data = copy.deepcopy(HUB)
    data["plan"] = plan_table()
    data["plan"]["responders"][1]["phone"] = phone
    with pytest.raises(ConfigError, match=rf"responder 'Sergent Koné': 'phone' \+2237\d+ is {whose}"):
        parse_config(data)


def test_hub_toml_refuses_an_override_of_an_unknown_device():
    data = copy.deepcopy(HUB)
    data["plan"] = plan_table()
    data["plan"]["overrides"][0]["device"] = "W9"
    with pytest.raises(ConfigError, match=r"'device': 'W9' is not a device of \[\[devices\]\]"):
        parse_config(data)
    data["plan"] = "yes"
    with pytest.raises(ConfigError, match=r"\[plan\] must be a table"):
        parse_config(data)


def test_the_example_documents_every_plan_key_and_its_ranges():
    text = EXAMPLE.read_text(encoding="utf-8")
    plan_part = text[text.index("\n[plan]\n"):]
    written = set(re.findall(r"^(?:# )?([a-z_]+) = ", plan_part, re.MULTILINE))
    written |= set(re.findall(r"[{,] *([a-z_]+) = ", plan_part))  # inside inline tables
    written |= {"responders", "teams", "routes", "overrides"}  # the [[plan.*]] blocks
    assert written >= {key for keys in PLAN_KEYS.values() for key in keys}
    for documented in ("1-3600", "1-10", "10-3600", "1-100000", "3-1000", "00:00-23:59", "00:00-24:00",
                       "1-10 steps"):
        assert documented in plan_part, documented


def test_the_worked_example_of_the_doc_loads_and_has_no_problem():
    doc = (EXAMPLE.parent / "response-plan.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```toml\n(.*?)```", doc, re.DOTALL)
    data = copy.deepcopy(HUB)
    data.update(tomllib.loads(block))
    parsed = parse_config(data).plan
    friday_night = at("2026-12-04T22:30")
    assert parsed.check(friday_night).problems == ()
    assert names(parsed.on_duty("police-nuit", friday_night)) == ["Sgt. Koné"]
    assert parsed.responder_by_phone("+22366100003").name == "Sgt. Sangaré"
    assert parsed.route_for("GEN", "SOS", device_id="W1").name == "duress"
    assert parsed.route_for("GEN", "SOS", device_id="W2", position=(13.445, -6.262)).name == "marche"
    assert parsed.route_for("AGR", "SOS", source="report").name == "default"
    weekday_handover = parsed.check(at("2026-12-07T19:29:50")).routes[0]
    assert [names(p.responders) for p in weekday_handover.sends[:2]] == [["Adj. Diarra"], ["Sgt. Koné"]]
