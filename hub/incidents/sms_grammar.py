"""What a person types on a feature phone, read as a command: pure, total functions (any text gives a value).

Two grammars (docs/response-plan.md, "Replies by SMS"):

- A responder's reply to an incident: `OK K7` (I take it), `PARS K7` / `GO K7` / `EN ROUTE K7` (on my way),
  `FIN K7 REEL|FAUSSE ALERTE|TEST [text]` / `DONE K7 REAL|FALSE ALARM|TEST [text]` (resolved, with how it ended),
  `K7 text` (a note). parse_reply() gives a Reply, or a NotUnderstood that says what was missing.
- A report from any phone: `AIDE`, `SOS`, `DEME`, `HELP`, `AU SECOURS` (and a few variants), an optional category
  word, free text. parse_keyword_report() gives a Report, or None when the text is not one.

Words are compared folded: accents removed, case ignored, punctuation between words ignored ("d'accord", "D ACCORD"
and "d'Accord!" are the same words). The free text is given back as typed, accents and all.
"""
import re
import unicodedata
from dataclasses import dataclass

COMMANDS = ("take", "on_my_way", "done", "note")
OUTCOMES = ("real", "false_alarm", "test")

# A word: a run of letters and digits in any script (the underscore is punctuation to a person).
_WORD = re.compile(r"[^\W_]+")
# An incident code as the hub makes them: one or two letters, then one to three digits ("K7", "AB12").
_CODE = re.compile(r"^[a-z]{1,2}[0-9]{1,3}$")
_LETTERS = re.compile(r"^[a-z]{1,2}$")
_DIGITS = re.compile(r"^[0-9]{1,3}$")
# Longer texts are read up to here: an SMS is at most a few hundred characters, and parsing must stay bounded
# whatever arrives (a concatenated SMS, a pasted page).
MAX_CHARS = 2000

# Command phrases (folded words) -> (command, language it tells, or None when both languages use it).
# "ok" and "en route" are said in both; "oui"/"yes" are what a tired officer types to an alert that asks "OK K7?".
_COMMAND_PHRASES = {
    ("ok",): ("take", None), ("okay",): ("take", None), ("oki",): ("take", None), ("okk",): ("take", None),
    ("d", "accord"): ("take", "fr"), ("dac",): ("take", "fr"), ("dak",): ("take", "fr"),
    ("oui",): ("take", "fr"), ("je", "prends"): ("take", "fr"), ("prends",): ("take", "fr"),
    ("pris",): ("take", "fr"), ("yes",): ("take", "en"), ("take",): ("take", "en"), ("taken",): ("take", "en"),
    ("mine",): ("take", "en"), ("accept",): ("take", "en"),
    ("pars",): ("on_my_way", "fr"), ("je", "pars"): ("on_my_way", "fr"), ("part",): ("on_my_way", "fr"),
    ("parti",): ("on_my_way", "fr"), ("j", "arrive"): ("on_my_way", "fr"), ("arrive",): ("on_my_way", "fr"),
    ("j", "y", "vais"): ("on_my_way", "fr"), ("jy", "vais"): ("on_my_way", "fr"),
    ("en", "route"): ("on_my_way", None), ("enroute",): ("on_my_way", None),
    ("go",): ("on_my_way", "en"), ("going",): ("on_my_way", "en"), ("omw",): ("on_my_way", "en"),
    ("on", "my", "way"): ("on_my_way", "en"),
    ("fin",): ("done", "fr"), ("fini",): ("done", "fr"), ("termine",): ("done", "fr"), ("clos",): ("done", "fr"),
    ("cloture",): ("done", "fr"), ("done",): ("done", "en"), ("end",): ("done", "en"),
    ("closed",): ("done", "en"), ("close",): ("done", "en"), ("finished",): ("done", "en"),
    ("resolved",): ("done", "en"),
}
# Words people put between the command and the code ("OK pour K7", "GO to K7"): skipped.
_FILLERS = frozenset({"pour", "sur", "le", "la", "l", "code", "incident", "alerte", "for", "to", "on", "the",
                      "alert", "a"})
# How it ended (folded words) -> (outcome, language). "fa" is how French officers abbreviate "fausse alerte".
_OUTCOME_PHRASES = {
    ("reel",): ("real", "fr"), ("reelle",): ("real", "fr"), ("vrai",): ("real", "fr"), ("vraie",): ("real", "fr"),
    ("real",): ("real", "en"), ("true",): ("real", "en"), ("genuine",): ("real", "en"),
    ("fausse", "alerte"): ("false_alarm", "fr"), ("fausse", "alarme"): ("false_alarm", "fr"),
    ("fausse",): ("false_alarm", "fr"), ("faux",): ("false_alarm", "fr"), ("fa",): ("false_alarm", "fr"),
    ("false", "alarm"): ("false_alarm", "en"), ("false", "alert"): ("false_alarm", "en"),
    ("false",): ("false_alarm", "en"), ("fake",): ("false_alarm", "en"),
    ("test",): ("test", None), ("essai",): ("test", "fr"), ("exercice",): ("test", "fr"),
    ("drill",): ("test", "en"),
}

# Keyword reports: the words that open one (folded) -> language they tell.
_REPORT_KEYWORDS = {
    ("au", "secours"): "fr", ("a", "l", "aide"): "fr", ("secours",): "fr", ("aide",): "fr", ("aidez",): "fr",
    ("aidez", "moi"): "fr", ("sos",): None, ("deme",): None, ("help",): "en", ("help", "me"): "en",
}
# Category words after the keyword -> (drivers/alert.py CATEGORIES code, language). AGR is an aggression (someone
# attacks, robs, hurts: the police now), HAR harassment (someone follows, threatens, will not leave: the police,
# less violent yet). ACCIDENT is MED: at a road or work accident the first need is care for the injured; the medical
# route's teams (SAMU, sapeurs-pompiers) are also the ones who free people from wrecks.
_CATEGORY_PHRASES = {
    ("medical",): ("MED", None), ("medicale",): ("MED", "fr"), ("malade",): ("MED", "fr"),
    ("blesse",): ("MED", "fr"), ("blessee",): ("MED", "fr"), ("blesses",): ("MED", "fr"),
    ("ambulance",): ("MED", None), ("samu",): ("MED", "fr"), ("sick",): ("MED", "en"),
    ("injured",): ("MED", "en"), ("accident",): ("MED", None),
    ("agression",): ("AGR", "fr"), ("agresse",): ("AGR", "fr"), ("agressee",): ("AGR", "fr"),
    ("attaque",): ("AGR", "fr"), ("vol",): ("AGR", "fr"), ("violence",): ("AGR", None), ("viol",): ("AGR", "fr"),
    ("assault",): ("AGR", "en"), ("attack",): ("AGR", "en"), ("attacked",): ("AGR", "en"),
    ("aggression",): ("AGR", "en"), ("robbery",): ("AGR", "en"), ("rape",): ("AGR", "en"),
    ("harcelement",): ("HAR", "fr"), ("harcele",): ("HAR", "fr"), ("harcelee",): ("HAR", "fr"),
    ("harassment",): ("HAR", "en"), ("harassed",): ("HAR", "en"), ("harass",): ("HAR", "en"),
    ("stalking",): ("HAR", "en"), ("stalker",): ("HAR", "en"),
    ("feu",): ("FIRE", "fr"), ("incendie",): ("FIRE", "fr"), ("fire",): ("FIRE", "en"),
}
# When neither the keyword nor the category tells the language, the free text may: a few frequent words of each.
_FRENCH_WORDS = frozenset({"le", "la", "les", "je", "moi", "rue", "au", "aux", "est", "il", "elle", "ils", "un",
                           "une", "des", "du", "de", "svp", "vite", "pres", "chez", "quartier", "venez", "on", "me"})
_ENGLISH_WORDS = frozenset({"the", "is", "i", "me", "my", "street", "at", "in", "please", "near", "come", "he",
                            "she", "they", "a", "an", "of", "road", "quick", "now", "someone"})
DEFAULT_LANG = "fr"


@dataclass(frozen=True)
class Reply:
    """A responder's command. code: as the hub writes it ("K7"). text: what follows, as typed ("" when nothing).
    outcome: for done, one of OUTCOMES; else None. lang: the language the words told ("fr", "en"), or None when
    they are the same in both ("OK K7"): the answer then goes in the responder's own language."""

    command: str
    code: str
    text: str = ""
    outcome: str | None = None
    lang: str | None = None


@dataclass(frozen=True)
class NotUnderstood:
    """A text that is no reply. reason: "empty", "no_code" (a command without an incident code), "no_outcome"
    (FIN/DONE without how it ended), "no_text" (a code and nothing to note) or "unknown". code: the code when one
    was read. lang: as in Reply."""

    reason: str
    code: str | None = None
    lang: str | None = None


@dataclass(frozen=True)
class Report:
    """A keyword report. category: one of drivers/alert.py CATEGORIES (GEN when no category word). text: the free
    text after the keyword and the category word, as typed. lang: "fr" or "en" (French unless the words say
    English: the hub's pilots are francophone)."""

    category: str
    text: str
    lang: str


def fold(text):
    """Lower case without accents: "Réel" -> "reel", "FIN" -> "fin"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _words(text):
    """[(folded word, start, end)] of the text, positions in the text as typed."""
    return [(fold(m.group()), m.start(), m.end()) for m in _WORD.finditer(text)]


def _match(words, i, phrases):
    """The longest phrase of `phrases` that the words from i on begin with: (value, words used) or (None, 0)."""
    best, used = None, 0
    for phrase, value in phrases.items():
        n = len(phrase)
        if n > used and tuple(word for word, _s, _e in words[i:i + n]) == phrase:
            best, used = value, n
    return best, used


def _code_at(words, i, text):
    """The incident code at word i ("K7", or "K-7" / "K 7" typed apart): (code, words used) or (None, 0)."""
    if i >= len(words):
        return None, 0
    word = words[i][0]
    if _CODE.match(word):
        return word.upper(), 1
    if i + 1 < len(words) and _LETTERS.match(word) and _DIGITS.match(words[i + 1][0]):
        between = text[words[i][2]:words[i + 1][1]]
        if between in ("-", " ", ".", "", "#"):
            return (word + words[i + 1][0]).upper(), 2
    return None, 0


def _rest(text, words, i):
    """The text as typed from word i on, without the punctuation around it."""
    if i >= len(words):
        return ""
    return text[words[i][1]:].strip(" \t\r\n.,;:!?-_()[]\"'")


def _bounded(text):
    return text[:MAX_CHARS] if isinstance(text, str) else ""


def parse_reply(text):
    """A responder's SMS -> Reply or NotUnderstood. Never raises (any object that is not a str reads as empty)."""
    text = _bounded(text)
    words = _words(text)
    if not words:
        return NotUnderstood("empty")
    i = 1 if words[0][0] in ("deme",) and len(words) > 1 else 0  # "DEME OK K7": the hub's name typed first
    command, used = _match(words, i, _COMMAND_PHRASES)
    if command is None:
        code, used = _code_at(words, i, text)
        if code is None:
            return NotUnderstood("unknown")
        i += used
        # "K7 OK", "K7 FIN REEL": the code first, then the command, as people also write it.
        command, used = _match(words, i, _COMMAND_PHRASES)
        if command is None:
            note = _rest(text, words, i)
            if not note:
                return NotUnderstood("no_text", code=code)
            return Reply("note", code, note, lang=_language_of(words[i:]))
        name, lang = command
        i += used
    else:
        name, lang = command
        i += used
        while i < len(words) and words[i][0] in _FILLERS and _code_at(words, i, text)[0] is None:
            i += 1
        code, used = _code_at(words, i, text)
        if code is None:
            return NotUnderstood("no_code", lang=lang)
        i += used
    outcome = None
    if name == "done":
        found, used = _match(words, i, _OUTCOME_PHRASES)
        if found is None:
            return NotUnderstood("no_outcome", code=code, lang=lang)
        outcome, outcome_lang = found
        lang = lang or outcome_lang
        i += used
    return Reply(name, code, _rest(text, words, i), outcome, lang)


def _language_of(words):
    """"fr", "en" or None, by counting a few frequent words of each language."""
    french = sum(1 for word, _s, _e in words if word in _FRENCH_WORDS)
    english = sum(1 for word, _s, _e in words if word in _ENGLISH_WORDS)
    if french == english:
        return None
    return "fr" if french > english else "en"


def parse_keyword_report(text):
    """An SMS from any phone -> Report when it starts with a report keyword, else None. Never raises."""
    text = _bounded(text)
    words = _words(text)
    lang, used = _match(words, 0, _REPORT_KEYWORDS)
    if not used:
        return None
    keyword_lang = lang
    category, category_lang = "GEN", None
    found, category_used = _match(words, used, _CATEGORY_PHRASES)
    if found is not None:
        (category, category_lang), used = found, used + category_used
    lang = keyword_lang or category_lang or _language_of(words[used:]) or DEFAULT_LANG
    return Report(category, _rest(text, words, used), lang)
