"""The SMS grammars of hub/incidents/sms_grammar.py: a responder's replies and keyword reports, in French and
English, whatever the accents, the case and the punctuation; any text gives a value, never an exception."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.alert import CATEGORIES
from hub.incidents.sms_grammar import (
    COMMANDS,
    OUTCOMES,
    NotUnderstood,
    Reply,
    Report,
    fold,
    parse_keyword_report,
    parse_reply,
)

# (typed, command, code, text, outcome, language told)
ACCEPTED_REPLIES = [
    ("OK K7", "take", "K7", "", None, None),
    ("ok k7", "take", "K7", "", None, None),
    ("Ok, K7.", "take", "K7", "", None, None),
    ("  OK   K7  ", "take", "K7", "", None, None),
    ("d'accord K7", "take", "K7", "", None, "fr"),
    ("D'ACCORD k7", "take", "K7", "", None, "fr"),
    ("dac K7", "take", "K7", "", None, "fr"),
    ("je prends K7", "take", "K7", "", None, "fr"),
    ("OK pour K7", "take", "K7", "", None, None),
    ("take K7", "take", "K7", "", None, "en"),
    ("K7 OK", "take", "K7", "", None, None),
    ("OK K-7", "take", "K7", "", None, None),
    ("OK K 7", "take", "K7", "", None, None),
    ("DEME OK K7", "take", "K7", "", None, None),
    ("OK AB12", "take", "AB12", "", None, None),
    ("PARS K7", "on_my_way", "K7", "", None, "fr"),
    ("pars k7", "on_my_way", "K7", "", None, "fr"),
    ("je pars K7", "on_my_way", "K7", "", None, "fr"),
    ("J'arrive K7", "on_my_way", "K7", "", None, "fr"),
    ("GO K7", "on_my_way", "K7", "", None, "en"),
    ("go to K7", "on_my_way", "K7", "", None, "en"),
    ("on my way K7", "on_my_way", "K7", "", None, "en"),
    ("OMW K7", "on_my_way", "K7", "", None, "en"),
    ("EN ROUTE K7", "on_my_way", "K7", "", None, None),
    ("en route k7 avec 2 agents", "on_my_way", "K7", "avec 2 agents", None, None),
    ("FIN K7 réel", "done", "K7", "", "real", "fr"),
    ("fin k7 REEL", "done", "K7", "", "real", "fr"),
    ("Fin K7 Réelle, suspect arrêté", "done", "K7", "suspect arrêté", "real", "fr"),
    ("FIN K7 fausse alerte", "done", "K7", "", "false_alarm", "fr"),
    ("FIN K7 FAUSSE ALARME chat coincé", "done", "K7", "chat coincé", "false_alarm", "fr"),
    ("fin K7 fa", "done", "K7", "", "false_alarm", "fr"),
    ("FIN K7 fausse", "done", "K7", "", "false_alarm", "fr"),
    ("FIN K7 test", "done", "K7", "", "test", "fr"),
    ("terminé K7 essai", "done", "K7", "", "test", "fr"),
    ("DONE K7 real", "done", "K7", "", "real", "en"),
    ("done k7 FALSE ALARM, kid playing", "done", "K7", "kid playing", "false_alarm", "en"),
    ("DONE K7 false", "done", "K7", "", "false_alarm", "en"),
    ("DONE K7 test", "done", "K7", "", "test", "en"),
    ("closed K7 drill", "done", "K7", "", "test", "en"),
    ("K7 FIN REEL", "done", "K7", "", "real", "fr"),
    ("K7 la victime est à l'hôpital", "note", "K7", "la victime est à l'hôpital", None, "fr"),
    ("k7: the victim is at the hospital", "note", "K7", "the victim is at the hospital", None, "en"),
    ("K7 2 blessés", "note", "K7", "2 blessés", None, None),
]

# (typed, reason, code read)
NOT_UNDERSTOOD = [
    ("", "empty", None),
    ("   ...!!", "empty", None),
    ("OK", "no_code", None),
    ("OK merci", "no_code", None),
    ("PARS", "no_code", None),
    ("FIN K7", "no_outcome", "K7"),
    ("DONE K7 well", "no_outcome", "K7"),
    ("K7", "no_text", "K7"),
    ("K7 !!", "no_text", "K7"),
    ("bonjour", "unknown", None),
    ("Qui est de garde ce soir ?", "unknown", None),
]


@pytest.mark.parametrize("typed, command, code, text, outcome, lang", ACCEPTED_REPLIES)
def test_accepted_replies(typed, command, code, text, outcome, lang):
    assert parse_reply(typed) == Reply(command, code, text, outcome, lang)


@pytest.mark.parametrize("typed, reason, code", NOT_UNDERSTOOD)
def test_texts_that_are_no_reply_say_what_is_missing(typed, reason, code):
    result = parse_reply(typed)
    assert isinstance(result, NotUnderstood)
    assert (result.reason, result.code) == (reason, code)


def test_the_language_a_command_tells_survives_a_missing_part():
    assert parse_reply("FIN K7").lang == "fr"
    assert parse_reply("DONE K7").lang == "en"
    assert parse_reply("GO").lang == "en"


def test_the_outcome_tells_the_language_when_the_command_does_not():
    assert parse_reply("K7 closed real").lang == "en"
    assert parse_reply("K7 clos reel").lang == "fr"


def test_the_free_text_is_given_back_as_typed():
    reply = parse_reply("fin K7 réel — Suspect ARRÊTÉ, rue 12")
    assert reply.text == "Suspect ARRÊTÉ, rue 12"


def test_fold_removes_accents_and_case():
    assert fold("RÉEL") == fold("réel") == "reel"
    assert fold("Harcèlement") == "harcelement"


# (typed, category, text, lang)
ACCEPTED_REPORTS = [
    ("AIDE agression rue 12", "AGR", "rue 12", "fr"),
    ("aide Agression rue 12", "AGR", "rue 12", "fr"),
    ("SOS", "GEN", "", "fr"),
    ("sos!", "GEN", "", "fr"),
    ("SOS fire at the market", "FIRE", "at the market", "en"),
    ("SOS on me suit rue 4", "GEN", "on me suit rue 4", "fr"),
    ("DEME médical, ma mère est tombée", "MED", "ma mère est tombée", "fr"),
    ("deme MEDICAL", "MED", "", "fr"),
    ("Au secours! feu au marché", "FIRE", "au marché", "fr"),
    ("AU SECOURS incendie", "FIRE", "", "fr"),
    ("à l'aide, harcèlement devant l'école", "HAR", "devant l'école", "fr"),
    ("AIDE HARCELEMENT", "HAR", "", "fr"),
    ("Aidez-moi accident route de Ségou", "MED", "route de Ségou", "fr"),
    ("HELP", "GEN", "", "en"),
    ("help me please", "GEN", "please", "en"),
    ("HELP assault near the bus station", "AGR", "near the bus station", "en"),
    ("help harassment", "HAR", "", "en"),
    ("HELP medical", "MED", "", "en"),
    ("HELP accident on the bridge", "MED", "on the bridge", "en"),
    ("Help fire", "FIRE", "", "en"),
]

NOT_REPORTS = ["", "bonjour", "OK K7", "Il faut de l'aide", "aider", "SOSO", "feu rue 12", "DM1;i=W1;n=1;e=SOS"]


@pytest.mark.parametrize("typed, category, text, lang", ACCEPTED_REPORTS)
def test_accepted_keyword_reports(typed, category, text, lang):
    assert parse_keyword_report(typed) == Report(category, text, lang)


@pytest.mark.parametrize("typed", NOT_REPORTS)
def test_texts_that_do_not_start_with_a_keyword_are_no_report(typed):
    assert parse_keyword_report(typed) is None


@settings(max_examples=300)
@given(st.one_of(st.text(), st.text(alphabet="OKPARSFINDONEK7 réelfausalrtAIDEHLPSOScu'-,.!\n"), st.none(),
                 st.integers(), st.binary()))
def test_any_text_gives_a_reply_or_not_understood(text):
    result = parse_reply(text)
    assert isinstance(result, (Reply, NotUnderstood))
    if isinstance(result, Reply):
        assert result.command in COMMANDS
        assert result.code and result.code == result.code.upper()
        assert (result.outcome in OUTCOMES) == (result.command == "done")
        assert result.lang in ("fr", "en", None)


@settings(max_examples=300)
@given(st.one_of(st.text(), st.text(alphabet="AIDESOSHELPaudecorsmédicalfeu 12!,'"), st.none(), st.integers()))
def test_any_text_gives_a_report_or_none(text):
    result = parse_keyword_report(text)
    assert result is None or (isinstance(result, Report) and result.category in CATEGORIES
                              and result.lang in ("fr", "en"))


@given(st.sampled_from(ACCEPTED_REPLIES), st.sampled_from(["", " ", "  ", "\n"]), st.sampled_from(["", ".", "!", " "]))
def test_spaces_and_punctuation_around_a_reply_change_nothing(case, before, after):
    typed, command, code, text, outcome, lang = case
    assert parse_reply(before + typed + after) == Reply(command, code, text, outcome, lang)
