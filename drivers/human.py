"""The SMS a trusted contact reads on a feature phone: who, what, where (map link and coordinates with accuracy),
in the contact's language. Shared by the wearable (it texts contacts directly) and the hub (for MQTT alerts).
Bambara (bm) falls back to French until a native speaker has checked the wording."""

WHAT = {
    "fr": {"SOS": "demande de l'aide", "FALL": "a peut-etre fait une chute", "DUR": "est peut-etre menace(e)",
           "CAN": "a annule l'alerte", "LOWBAT": "batterie faible", "HB": "va bien",
           "POS": "- position precise"},
    "en": {"SOS": "is asking for help", "FALL": "may have fallen", "DUR": "may be under threat",
           "CAN": "cancelled the alert", "LOWBAT": "battery low", "HB": "is fine",
           "POS": "- precise position"},
}
CATEGORY = {
    "fr": {"GEN": "", "MED": "urgence medicale", "AGR": "agression", "FIRE": "incendie", "HAR": "harcelement"},
    "en": {"GEN": "", "MED": "medical", "AGR": "assault", "FIRE": "fire", "HAR": "harassment"},
}
WORDS = {
    "fr": {"nofix": "Position GPS inconnue", "cell": "antenne", "acc": "precision", "ago": "il y a",
           "tag": "DEME ALERTE"},
    "en": {"nofix": "GPS position unknown", "cell": "cell", "acc": "accuracy", "ago": "", "tag": "DEME ALERT"},
}


def map_link(lat, lon):
    return "https://osm.org/?mlat=%.5f&mlon=%.5f&zoom=17" % (lat, lon)


def human_alert_text(wearer, alert, lang="fr"):
    """`alert` has event, category, lat, lon, acc_m, fix_age_s, cell (as parsed or stored)."""
    if lang not in WHAT:
        lang = "fr"
    words = WORDS[lang]
    what = WHAT[lang].get(alert.get("event"), alert.get("event"))
    text = words["tag"] + ": " + wearer + " " + what
    category = CATEGORY[lang].get(alert.get("category") or "GEN", "")
    if category:
        text += " (" + category + ")"
    text += ". "
    if alert.get("lat") is not None:
        text += "%.5f,%.5f %s %dm" % (alert["lat"], alert["lon"], words["acc"], alert.get("acc_m") or 0)
        age = alert.get("fix_age_s") or 0
        if age > 60:
            text += " (" + ((words["ago"] + " ") if words["ago"] else "") + "%d min%s)" % (
                age // 60, "" if words["ago"] else " ago")
        text += " " + map_link(alert["lat"], alert["lon"])
    else:
        text += words["nofix"]
        cell = alert.get("cell")
        if cell:
            text += " (%s %d-%d-%X-%X)" % (words["cell"], cell["mcc"], cell["mnc"], cell["lac"], cell["cell_id"])
    return text
