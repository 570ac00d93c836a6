"""The alert SMS to a responder: always ONE GSM-7 SMS, whatever the names and fields, in French and in English."""
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers import gsm7
from hub.incidents.responder_text import SMS_SEPTETS, responder_text, unanswered_text

ALERT = {"device_id": "W1", "event": "SOS", "category": "AGR", "lat": 13.4317, "lon": -6.2157, "acc_m": 12,
         "fix_age_s": 30, "cell": {"mcc": 610, "mnc": 1, "lac": 500, "cell_id": 10811}, "battery": 80,
         "received_at": 1000.0, "source": "wearable", "sender": "+22376000001"}
LONG_NAME = "Awa Traoré épouse Mariam Fatoumata Diarra-Coulibaly de la famille Keita Sissoko Ould Mohamed Ahmed"


def one_sms(text):
    septets = gsm7.encode(text)
    assert septets is not None, f"not GSM-7: {text!r}"
    assert len(septets) <= SMS_SEPTETS, f"{len(septets)} septets: {text!r}"
    return text


def test_the_french_text_carries_code_category_name_place_age_battery_and_the_answer():
    text = one_sms(responder_text(ALERT, "K7", "fr", "Awa Traoré", now=1090.0))
    assert text == ("DEME K7 AGRESSION: Awa Traoré. osm.org/?mlat=13.4317&mlon=-6.2157 +-12m il y a 2min. "
                    "bat 80%. Repondez OK K7")


def test_the_english_text_says_the_same_in_english():
    text = one_sms(responder_text(ALERT, "K7", "en", "Awa Traoré", now=1090.0))
    assert text == ("DEME K7 ASSAULT: Awa Traoré. osm.org/?mlat=13.4317&mlon=-6.2157 +-12m 2min ago. bat 80%. "
                    "Reply OK K7")


def test_without_a_fix_the_cell_is_given():
    alert = dict(ALERT, lat=None, lon=None, acc_m=None, fix_age_s=None)
    assert "sans GPS antenne 610-1-1F4-2A3B" in one_sms(responder_text(alert, "K7", "fr", "Awa"))
    assert "no GPS cell 610-1-1F4-2A3B" in one_sms(responder_text(alert, "K7", "en", "Awa"))


def test_a_duress_and_a_fall_say_so():
    assert responder_text(dict(ALERT, event="DUR"), "K7", "en", "Awa").startswith("DEME K7 DURESS")
    assert responder_text(dict(ALERT, event="FALL"), "K7", "fr", "Awa").startswith("DEME K7 CHUTE")


def test_a_long_name_is_shortened_and_the_code_place_and_answer_stay():
    for lang, answer in (("fr", "Repondez OK X123"), ("en", "Reply OK X123")):
        for alert in (ALERT, dict(ALERT, lat=None, lon=None)):
            text = one_sms(responder_text(alert, "X123", lang, LONG_NAME, now=90000.0))
            assert text.endswith(answer) and "X123" in text.split(":")[0]
            assert ("osm.org/?mlat=" in text) == (alert["lat"] is not None)
            assert text.split(": ", 1)[1].startswith("Awa Tr")


def test_a_name_outside_gsm7_is_folded_never_sent_as_ucs2():
    text = one_sms(responder_text(ALERT, "K7", "fr", "Şerife Ōta ٱلْعَرَبِيَّة"))
    assert "Serife Ota" in text


def test_the_supervisors_text_flags_the_incident_unanswered():
    text = one_sms(unanswered_text(ALERT, "K7", "en", LONG_NAME))
    assert text.startswith("DEME K7 UNANSWERED ASSAULT") and text.endswith("Reply OK K7")


@settings(max_examples=200, deadline=None)
@given(name=st.text(max_size=300), lang=st.sampled_from(["fr", "en"]), code=st.sampled_from(["A2", "K7", "Y999"]),
       fixed=st.booleans(), acc=st.integers(0, 99999), age=st.integers(0, 10 ** 7), battery=st.integers(0, 100),
       report=st.booleans(), unanswered=st.booleans())
def test_any_name_and_fields_give_one_gsm7_sms(name, lang, code, fixed, acc, age, battery, report, unanswered):
    alert = dict(ALERT, lat=-89.123456 if fixed else None, lon=-179.123456 if fixed else None, acc_m=acc,
                 fix_age_s=age, battery=battery, source="report" if report else "wearable",
                 sender="+223" + "9" * 12)
    build = unanswered_text if unanswered else responder_text
    text = one_sms(build(alert, code, lang, name, now=alert["received_at"] + age))
    assert code in text
