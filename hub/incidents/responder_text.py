"""The SMS that calls a responder to an incident: ONE GSM-7 SMS (160 septets), in the responder's language, read on
a feature phone. It names the incident code to answer with, what happened, who (the wearer; for a keyword report
the reporter's number), where (an OSM link with the accuracy, or the cell when there is no fix), how old that
position is, the battery, and how to answer ("OK K7").

Never UCS-2: a character outside GSM-7 (a name written in another alphabet) is folded to its base letter or
replaced, since a UCS-2 SMS holds only 70 characters. When everything does not fit, the fields are shortened in a
fixed order (the name first), never the code, the place nor the answer.
"""
import unicodedata

from drivers import gsm7

SMS_SEPTETS = 160
LANGUAGES = ("fr", "en")

CATEGORY_WORDS = {
    "fr": {"GEN": "ALERTE", "MED": "MEDICAL", "AGR": "AGRESSION", "FIRE": "FEU", "HAR": "HARCELEMENT"},
    "en": {"GEN": "ALERT", "MED": "MEDICAL", "AGR": "ASSAULT", "FIRE": "FIRE", "HAR": "HARASSMENT"},
}
# Events that say more than the category: a fall, a duress code (the wearer may be forced to cancel).
EVENT_WORDS = {
    "fr": {"FALL": "CHUTE", "DUR": "CONTRAINTE"},
    "en": {"FALL": "FALL", "DUR": "DURESS"},
}
WORDS = {
    "fr": {"report": "SIGNALEMENT de", "ago": "il y a %s", "nofix": "sans GPS", "cell": "antenne",
           "battery": "bat %d%%", "answer": "Repondez OK %s", "unanswered": "SANS REPONSE"},
    "en": {"report": "REPORT from", "ago": "%s ago", "nofix": "no GPS", "cell": "cell",
           "battery": "bat %d%%", "answer": "Reply OK %s", "unanswered": "UNANSWERED"},
}
# The shortest a name is cut to before anything else gives way.
MIN_NAME_CHARS = 8


def septets(text):
    """GSM-7 septets the text takes, or None when a character is outside GSM-7."""
    encoded = gsm7.encode(text)
    return None if encoded is None else len(encoded)


def gsm7_safe(text):
    """Text in the GSM-7 alphabet: accents folded when GSM-7 lacks the accented letter (ô -> o), any other
    character outside it replaced by "?", control characters by a space."""
    out = []
    for ch in text or "":
        if ch in "\r\n\t" or unicodedata.category(ch).startswith("C"):
            out.append(" ")
        elif gsm7.char_septets(ch):
            out.append(ch)
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            out.append(base if base and all(gsm7.char_septets(c) for c in base) else "?")
    return " ".join("".join(out).split())


def coordinate(value, decimals):
    """Shortest form: 13.43170 -> "13.4317"."""
    text = "%.*f" % (decimals, value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def map_link(lat, lon, decimals=5):
    return "osm.org/?mlat=%s&mlon=%s" % (coordinate(lat, decimals), coordinate(lon, decimals))


def duration(seconds):
    seconds = max(0, int(seconds))
    if seconds < 60:
        return "%ds" % seconds
    if seconds < 3600:
        return "%dmin" % (seconds // 60)
    if seconds < 86400:
        return "%dh%02d" % (seconds // 3600, seconds % 3600 // 60)
    return "%dd" % (seconds // 86400)


def what_word(alert, lang):
    event_word = EVENT_WORDS[lang].get(alert.get("event"))
    if event_word:
        return event_word
    return CATEGORY_WORDS[lang].get(alert.get("category") or "GEN", CATEGORY_WORDS[lang]["GEN"])


def unanswered_text(alert, code, lang="fr", wearer=None, now=None):
    """The SMS to a supervisor once the whole ladder went unanswered: the same fields, flagged "SANS REPONSE"."""
    return responder_text(alert, code, lang, wearer, now, unanswered=True)


def responder_text(alert, code, lang="fr", wearer=None, now=None, unanswered=False):
    """The alert SMS to one responder. alert: the stored alert dict (event, category, lat, lon, acc_m, fix_age_s,
    cell, battery, received_at, source, sender). wearer: the device's wearer name (None for a keyword report: the
    reporter's number stands for it). now: the hub's time, for the age of the fix (received_at when not given).
    Always one GSM-7 SMS."""
    lang = lang if lang in LANGUAGES else "fr"
    words = WORDS[lang]
    now = now if now is not None else alert.get("received_at")
    report = alert.get("source") == "report"
    who = (words["report"] + " " + (alert.get("sender") or "?")) if report else gsm7_safe(wearer or
                                                                                         alert.get("device_id") or "?")
    fixed = alert.get("lat") is not None and alert.get("lon") is not None
    age = None
    if fixed:
        age = (alert.get("fix_age_s") or 0) + max(0.0, (now or 0) - (alert.get("received_at") or now or 0))
    battery = alert.get("battery")

    def build(name, decimals=5, with_tag=True, with_age=True, with_battery=True, cell_words=True):
        head = ("DEME " if with_tag else "") + code + " " + (words["unanswered"] + " " if unanswered else "") + \
            what_word(alert, lang)
        parts = [head + ": " + name]
        if fixed:
            place = map_link(alert["lat"], alert["lon"], decimals)
            if alert.get("acc_m") is not None:
                place += " +-%dm" % alert["acc_m"]
            if with_age:
                place += " " + words["ago"] % duration(age)
            parts.append(place)
        else:
            place = words["nofix"]
            cell = alert.get("cell")
            if cell:
                place += " " + (words["cell"] + " " if cell_words else "") + "%d-%d-%X-%X" % (
                    cell["mcc"], cell["mnc"], cell["lac"], cell["cell_id"])
            parts.append(place)
        if battery is not None and with_battery:
            parts.append(words["battery"] % battery)
        parts.append(words["answer"] % code)
        return ". ".join(parts)

    for name, options in _shortenings(who):
        text = build(name, **options)
        if septets(text) <= SMS_SEPTETS:
            return text
    raise AssertionError("unreachable: the code, the place and the answer alone fit in one SMS")


# Given up in this order, each on top of the ones before, until the text fits: the tag, the coordinates to 4
# decimals (11 m: inside any accuracy worth sending), the word "cell", the age, the battery.
_DROPS = ({"with_tag": False}, {"decimals": 4}, {"cell_words": False}, {"with_age": False}, {"with_battery": False})


def _shortenings(who):
    """(name, build options) from the full text to the shortest: the name down to MIN_NAME_CHARS first, then the
    _DROPS, then the name further (the code and the place are what a responder acts on)."""
    yield who, {}
    for cut in range(len(who) - 1, MIN_NAME_CHARS - 1, -1):
        yield who[:cut].rstrip(), {}
    name = who[:MIN_NAME_CHARS].rstrip()
    options = {}
    for drop in _DROPS:
        options = {**options, **drop}
        yield name, dict(options)
    for cut in range(min(len(who), MIN_NAME_CHARS) - 1, -1, -1):
        yield who[:cut].rstrip(), options
