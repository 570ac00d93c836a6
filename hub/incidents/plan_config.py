"""The building blocks of the response plan (hub.incidents.plan) and the checks of the values hub.toml gives them:
duty rotas, zones, and the validated readers of plain keys.

Every reader raises hub.config.ConfigError naming the block and the key; nothing else escapes, whatever the TOML
holds (tests/hub/test_plan_properties.py feeds them generated tables).
"""
import datetime
import math
import re
from dataclasses import dataclass

from hub.config_errors import ConfigError

# Every key each block of the plan may hold: any other is refused (a misspelt key would silently keep its default).
PLAN_KEYS = {
    "[plan]": ("timezone", "supervisors", "escalate_after_s", "repeats", "every_s", "responders", "teams",
               "routes", "overrides"),
    "[[plan.responders]]": ("name", "phone", "lang"),
    "[[plan.teams]]": ("name", "members", "rota"),
    "rota": ("days", "from", "to"),
    "[[plan.routes]]": ("name", "steps"),
    "step": ("teams", "after_s", "repeats", "every_s"),
    "[[plan.overrides]]": ("name", "device", "zone", "route"),
    "zone": ("circle", "polygon"),
    "circle": ("lat", "lon", "radius_m"),
}

# Escalation timing (docs/response-plan.md explains the defaults).
ESCALATE_AFTER_S_DEFAULT = 60.0  # step 2 and later: seconds after the previous step began
ESCALATE_AFTER_S_RANGE = (1, 3600)
REPEATS_DEFAULT = 2  # times each step's SMS is sent
REPEATS_RANGE = (1, 10)
EVERY_S_DEFAULT = 30.0  # seconds between two sends of a step, and after its last send before the next deadline
EVERY_S_RANGE = (10, 3600)  # below 10 s a repeat would leave before the first SMS was even delivered
STEPS_RANGE = (1, 10)
RADIUS_M_RANGE = (1, 100_000)
POLYGON_POINTS_RANGE = (3, 1000)
RESPONDER_LANGUAGES = ("fr", "en")  # the SMS reply grammar exists in these; Bambara comes later
DEFAULT_TIMEZONE = "Africa/Bamako"
NAME = re.compile(r"[^\x00-\x1f\x7f]{1,64}")

# Day names a rota may use: English and French abbreviations, Monday = 0 as datetime.weekday().
DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
        "lun": 0, "mar": 1, "mer": 2, "jeu": 3, "ven": 4, "sam": 5, "dim": 6}
DAY_LABELS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERY_DAY = frozenset(range(7))
CLOCK = re.compile(r"([01]?\d|2[0-4]):([0-5]\d)")
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG): a zone of a few km is off by well under a metre


def show(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def known_keys(table, kind, where):
    unknown = sorted(str(key) for key in table if key not in PLAN_KEYS[kind])
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(PLAN_KEYS[kind])})")


def table_of(value, kind, where):
    """A TOML table checked for unknown keys."""
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table ({{key = value, ...}}), not {show(value)}")
    known_keys(value, kind, where)
    return value


def tables_of(table, key, kind, where):
    """The array of tables table[key] (empty when absent), each checked for unknown keys."""
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        raise ConfigError(f"{where}: '{key}' must be an array of tables ({kind} blocks), not {show(value)}")
    for index, entry in enumerate(value):
        known_keys(entry, kind, f"{kind} #{index + 1}")
    return value


def text(table, key, where, default=..., what="text"):
    """A string that is not blank and holds no control character."""
    if key not in table:
        if default is ...:
            raise ConfigError(f"{where}: missing key '{key}' ({what})")
        return default
    value = table[key]
    if not isinstance(value, str) or not value.strip() or not NAME.fullmatch(value):
        raise ConfigError(f"{where}: '{key}' must be {what}: 1-64 characters, not blank nor with control "
                          f"characters, not {show(value)}")
    return value.strip()


def names(table, key, where, what):
    """A non-empty list of distinct names."""
    value = table.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: '{key}' must be a non-empty list of {what}, such as [\"...\"], "
                          f"not {show(value)}")
    stripped = [item.strip() for item in value]
    for item in stripped:
        if stripped.count(item) > 1:
            raise ConfigError(f"{where}: '{key}' names {item!r} twice")
    return tuple(stripped)


def number(table, key, where, default, bounds, meaning):
    value = table.get(key, default)
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ConfigError(f"{where}: '{key}' must be a number of seconds from {low} to {high} ({meaning}), "
                          f"not {show(value)}")
    return float(value)


def whole(table, key, where, default, bounds, meaning):
    value = table.get(key, default)
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{where}: '{key}' must be a whole number from {low} to {high} ({meaning}), "
                          f"not {show(value)}")
    return value


def coordinate(value, where, what, limit):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not -limit <= value <= limit:
        raise ConfigError(f"{where}: {what} must be a number of degrees from -{limit} to {limit}, not {show(value)}")
    return float(value)


# --- duty rota -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DutyWindow:
    """On duty on `days` (the weekday a shift starts on) from start_min to end_min, minutes of the local day.
    end_min <= start_min: the shift crosses midnight and ends the next day. The start is on duty, the end is not
    (the next shift has begun): [start, end)."""
    days: frozenset
    start_min: int
    end_min: int

    @property
    def crosses_midnight(self):
        return self.end_min <= self.start_min

    def covers(self, weekday, second_of_day):
        start, end = self.start_min * 60, self.end_min * 60
        if not self.crosses_midnight:
            return weekday in self.days and start <= second_of_day < end
        return (weekday in self.days and second_of_day >= start) or \
            ((weekday - 1) % 7 in self.days and second_of_day < end)

    def minutes_of_week(self):
        """The minutes of the week (0 = Monday 00:00, local wall clock) this window covers."""
        length = (self.end_min - self.start_min) % MINUTES_PER_DAY or MINUTES_PER_DAY
        for day in self.days:
            first = day * MINUTES_PER_DAY + self.start_min
            for minute in range(first, first + length):
                yield minute % MINUTES_PER_WEEK

    def describe(self):
        return f"{describe_days(self.days)} {clock(self.start_min)}-{clock(self.end_min)}"


@dataclass(frozen=True)
class Rota:
    """When a team is on duty: always, or in any of its windows (none: never, which `deme plan check` reports)."""
    windows: tuple = ()
    always: bool = False

    def on_duty(self, local):
        """local: an aware datetime in the plan's time zone (its wall clock is what the rota means)."""
        if self.always:
            return True
        second = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        return any(window.covers(local.weekday(), second) for window in self.windows)

    def week_coverage(self):
        """A bytearray of the week's minutes (local wall clock, Monday 00:00 first): 1 where on duty."""
        covered = bytearray([1 if self.always else 0]) * MINUTES_PER_WEEK
        for window in self.windows:
            for minute in window.minutes_of_week():
                covered[minute] = 1
        return covered

    def describe(self):
        if self.always:
            return "always"
        return ", ".join(window.describe() for window in self.windows) or "never (no window)"


def clock(minute):
    return f"{minute // 60:02d}:{minute % 60:02d}"


def describe_days(days):
    if days == EVERY_DAY:
        return "every day"
    return ",".join(DAY_LABELS[day] for day in sorted(days))


def parse_days(raw, where):
    """ "mon-fri", "sat,sun", "fri-mon" (a range may wrap over the week's end), "lun-ven", "daily"; a list of such
    strings too."""
    items = raw if isinstance(raw, list) else [raw]
    if not items or not all(isinstance(item, str) for item in items):
        raise ConfigError(f"{where}: 'days' must be days such as \"mon-fri\" or \"sat,sun\", not {show(raw)}")
    days = set()
    for part in (piece.strip().lower() for item in items for piece in item.split(",")):
        if part in ("daily", "all", "tous"):
            days |= EVERY_DAY
            continue
        first, dash, last = (s.strip() for s in part.partition("-"))
        if first not in DAYS or (dash and last not in DAYS):
            raise ConfigError(f"{where}: 'days': {part!r} is not a day nor a range of days: write mon, tue, wed, "
                              f"thu, fri, sat, sun (or lun ... dim), a range such as mon-fri, or daily")
        start, end = DAYS[first], DAYS[last] if dash else DAYS[first]
        days |= {(start + offset) % 7 for offset in range((end - start) % 7 + 1)}
    return frozenset(days)


def parse_clock(raw, key, where, allow_24):
    """Minutes of the day from "08:00" (or a TOML local time, 08:00:00)."""
    if isinstance(raw, datetime.time) and raw.tzinfo is None and not raw.second and not raw.microsecond:
        return raw.hour * 60 + raw.minute
    match = CLOCK.fullmatch(raw.strip()) if isinstance(raw, str) else None
    minute = int(match.group(1)) * 60 + int(match.group(2)) if match else None
    limit = "24:00" if allow_24 else "23:59"
    if minute is None or minute > (MINUTES_PER_DAY if allow_24 else MINUTES_PER_DAY - 1):
        raise ConfigError(f"{where}: '{key}' must be a time of day \"HH:MM\" from 00:00 to {limit}, "
                          f"not {show(raw)}")
    return minute


def parse_rota(raw, where):
    """`rota = "always"` or `rota = [{days = "mon-fri", from = "08:00", to = "18:00"}, ...]`."""
    if raw == "always":
        return Rota(always=True)
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: 'rota' must be \"always\" or a list of windows such as "
                          f"[{{days = \"mon-fri\", from = \"08:00\", to = \"18:00\"}}], not {show(raw)}")
    windows = []
    for index, entry in enumerate(raw):
        w_where = f"{where}: rota #{index + 1}"
        if entry == "always":
            return Rota(always=True)
        table_of(entry, "rota", w_where)
        days = parse_days(entry["days"], w_where) if "days" in entry else EVERY_DAY
        for key in ("from", "to"):
            if key not in entry:
                raise ConfigError(f"{w_where}: missing key '{key}' (a time of day \"HH:MM\")")
        start = parse_clock(entry["from"], "from", w_where, allow_24=False)
        end = parse_clock(entry["to"], "to", w_where, allow_24=True)
        if start == end:
            raise ConfigError(f"{w_where}: 'from' and 'to' are the same time: write from = \"00:00\", "
                              f"to = \"24:00\" for the whole day, or rota = \"always\"")
        windows.append(DutyWindow(days=days, start_min=start, end_min=end))
    return Rota(windows=tuple(windows))


def week_gaps(covered):
    """The uncovered stretches of a week_coverage() array as (first minute, minutes long), a stretch over Sunday
    midnight counted once."""
    if all(covered):
        return []
    start = next(i for i, value in enumerate(covered) if value) if any(covered) else 0
    gaps, run_start = [], None
    for offset in range(MINUTES_PER_WEEK):
        minute = (start + offset) % MINUTES_PER_WEEK
        if not covered[minute] and run_start is None:
            run_start = offset
        elif covered[minute] and run_start is not None:
            gaps.append(((start + run_start) % MINUTES_PER_WEEK, offset - run_start))
            run_start = None
    if run_start is not None:
        gaps.append(((start + run_start) % MINUTES_PER_WEEK, MINUTES_PER_WEEK - run_start))
    return gaps


def describe_week_minute(minute):
    day, rest = divmod(minute % MINUTES_PER_WEEK, MINUTES_PER_DAY)
    return f"{DAY_LABELS[day]} {clock(rest)}"


# --- zones ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Circle:
    lat: float
    lon: float
    radius_m: float

    def contains(self, lat, lon):
        return distance_m(self.lat, self.lon, lat, lon) <= self.radius_m

    def describe(self):
        return f"within {self.radius_m:g} m of {self.lat:.5f},{self.lon:.5f}"


@dataclass(frozen=True)
class Polygon:
    """Vertices (lat, lon), taken as a plane figure: right for a town's quarters, not for a zone across the
    antimeridian or a pole. A point on an edge is inside (the zone's owner would rather be told too often)."""
    points: tuple

    def contains(self, lat, lon):
        inside = False
        count = len(self.points)
        for index in range(count):
            (lat1, lon1), (lat2, lon2) = self.points[index], self.points[(index + 1) % count]
            if on_segment(lat, lon, lat1, lon1, lat2, lon2):
                return True
            if (lon1 > lon) != (lon2 > lon):  # the edge crosses the point's meridian: ray cast towards +lat
                crossing = lat1 + (lon - lon1) * (lat2 - lat1) / (lon2 - lon1)
                if crossing > lat:
                    inside = not inside
        return inside

    def describe(self):
        return f"polygon of {len(self.points)} points"


def on_segment(lat, lon, lat1, lon1, lat2, lon2):
    cross = (lat2 - lat1) * (lon - lon1) - (lon2 - lon1) * (lat - lat1)
    scale = max(abs(lat2 - lat1), abs(lon2 - lon1), 1e-12)
    return abs(cross) <= 1e-12 * scale and min(lat1, lat2) <= lat <= max(lat1, lat2) \
        and min(lon1, lon2) <= lon <= max(lon1, lon2)


def shoelace_area(vertices):
    """The signed area in square degrees: 0 for points on one line (a zone nothing can be inside)."""
    count = len(vertices)
    return sum(vertices[i][0] * vertices[(i + 1) % count][1] - vertices[(i + 1) % count][0] * vertices[i][1]
               for i in range(count)) / 2


def distance_m(lat1, lon1, lat2, lon2):
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi, half_dlambda = math.radians(lat2 - lat1) / 2, math.radians(lon2 - lon1) / 2
    h = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def parse_zone(raw, where):
    """`zone = {circle = {lat, lon, radius_m}}` or `zone = {polygon = [[lat, lon], ...]}`."""
    zone = table_of(raw, "zone", f"{where}: 'zone'")
    if len(zone) != 1:
        raise ConfigError(f"{where}: 'zone' must hold exactly one of circle = {{lat, lon, radius_m}} or "
                          f"polygon = [[lat, lon], ...], not {show(raw)}")
    if "circle" in zone:
        c_where = f"{where}: zone circle"
        circle = table_of(zone["circle"], "circle", c_where)
        for key in ("lat", "lon", "radius_m"):
            if key not in circle:
                raise ConfigError(f"{c_where}: missing key '{key}'")
        radius = circle["radius_m"]
        low, high = RADIUS_M_RANGE
        if isinstance(radius, bool) or not isinstance(radius, (int, float)) or not low <= radius <= high:
            raise ConfigError(f"{c_where}: 'radius_m' must be a number of metres from {low} to {high}, "
                              f"not {show(radius)}")
        return Circle(lat=coordinate(circle["lat"], c_where, "'lat'", 90),
                      lon=coordinate(circle["lon"], c_where, "'lon'", 180), radius_m=float(radius))
    p_where = f"{where}: zone polygon"
    points = zone["polygon"]
    low, high = POLYGON_POINTS_RANGE
    if not isinstance(points, list) or not low <= len(points) <= high:
        raise ConfigError(f"{p_where} must be a list of {low}-{high} points [lat, lon], not {show(points)}")
    vertices = []
    for index, point in enumerate(points):
        v_where = f"{p_where} point #{index + 1}"
        if not isinstance(point, list) or len(point) != 2:
            raise ConfigError(f"{v_where} must be [lat, lon], not {show(point)}")
        vertices.append((coordinate(point[0], v_where, "lat", 90), coordinate(point[1], v_where, "lon", 180)))
    if abs(shoelace_area(vertices)) <= 1e-12:
        raise ConfigError(f"{p_where} has no area: its points must not all lie on one line")
    return Polygon(points=tuple(vertices))
