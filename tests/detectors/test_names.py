"""PERSON from the name lists (the offline fallback for spaCy NER)."""

from __future__ import annotations

import re

import pytest

from detectors.recognizers import names as names_module
from detectors.recognizers.names import NameLexicon, NameLexiconRecognizer
from tests.detectors.conftest import above, scored


@pytest.fixture(scope="module")
def rec():
    return NameLexiconRecognizer()


def test_shipped_lists_are_substantial():
    lex = NameLexicon()
    assert len(lex.first) >= 300 and len(lex.surnames) >= 300
    assert "Sanne" in lex.first and "Vries" in lex.surnames


@pytest.mark.parametrize("name", ["Sanne de Vries", "Daan van der Berg", "Yusuf El Amrani",
                                  "Emma Bakker", "Anne-Fleur Jansen", "Lotte Jansen-de Boer",
                                  "Noah van 't Hof"])
def test_full_names(rec, name):
    assert above(rec, f"Gisteren kwam {name} te laat.") == [name]


def test_titles_and_initials(rec):
    assert above(rec, "Ik sprak mevrouw De Vries en dhr. Jansen.") == ["mevrouw De Vries", "dhr. Jansen"]
    assert above(rec, "Getekend: J.P. de Boer") == ["J.P. de Boer"]


def test_first_name_alone_and_ambiguous_words(rec):
    assert above(rec, "Sanne was vandaag ziek.") == ["Sanne"]
    assert above(rec, "Roos heeft een roos getekend.") == []  # Roos alone is a word too
    assert above(rec, "Roos Jansen heeft getekend.") == ["Roos Jansen"]


def test_no_names_in_plain_text(rec):
    text = "De Vries is een achternaam, Bakker ook. Groep 7 gaat op Maandag naar het museum."
    assert above(rec, text) == []


def test_line_break_ends_a_name(rec):
    found = scored(rec, "Sanne\nJansen")
    assert [value for value, _ in found] == ["Sanne"]


def test_names_of_many_origins(rec):
    for name in ["Katrijn Serneels", "Aylin Yılmaz", "Ilias El Amrani", "Zofia Kowalska",
                 "Priya Ramdin", "Olivia Smith", "Jasmina Fekovic", "Pedro Lopes", "Ayşe Arslan"]:
        assert above(rec, f"Gisteren kwam {name} te laat.") == [name], name


def test_later_mentions_are_the_same_person(rec):
    text = "Kim Clijsters won in Antwerpen. Later won Clijsters opnieuw; Kim was blij."
    assert above(rec, text) == ["Kim Clijsters", "Clijsters", "Kim"]
    # Wout is also a word; after the full name it is the pupil
    assert above(rec, "De moeder van Wout Vandenbroucke belde. Wout is ziek.") == [
        "Wout Vandenbroucke", "Wout"]


def test_cues_make_a_single_word_a_name(rec):
    assert above(rec, "Beste Meryem,\n\nDank je.") == ["Meryem"]
    assert above(rec, "Ik sprak de moeder van Bas gisteren.") == ["Bas"]
    assert above(rec, "'We speelden slecht,' zei Verhofstadt.") == ["Verhofstadt"]
    assert above(rec, "Met vriendelijke groet,\nRoos") == ["Roos"]
    assert above(rec, "Achternaam: Bakker") == ["Bakker"]


def test_words_places_and_compounds_are_no_names(rec):
    text = ("In de winter gaan we schaatsen. Roos en tulpen bloeien. De Bas in de muziekles. "
            "Visser en bakker zijn beroepen. Elke Roos op het plaatje. We gaan naar Gent en "
            "Nederland. Vorige school: Montessorischool De Linde. Meta/Facebook verzamelt data.")
    assert above(rec, text) == []


def test_a_cue_vouches_for_later_mentions_and_a_class_places_a_name(rec):
    """A single word found by a cue is that person later on too; "X Y uit groep 7" at the
    start of a sentence is a pupil's name; two words under "Groet," are a name even when a
    village carries the surname."""
    text = "De moeder van Zhyar belde. Sinds de scheiding slaapt Zhyar slecht."
    assert above(rec, text) == ["Zhyar", "Zhyar"]
    assert above(rec, "Grzeniu Korzec uit groep 7 heeft hoofdpijn.") == ["Grzeniu Korzec"]
    assert above(rec, "Yaro Mbeki (groep 5) is ziek.") == ["Yaro Mbeki"]
    assert "Winnifred Deiman" in above(rec, "Tot morgen.\n\nGroet,\nWinnifred Deiman")
    # a capitalised word at a sentence start without such a cue stays no name
    assert above(rec, "Zonnepanelen uit China zijn goedkoop.") == []


# -- the token pieces and their cache (the fast path must find what a plain token scan finds) --

_TOKEN_TEXTS = [
    "",
    "   \n\t ",
    "Sanne de Vries",
    "  Sanne\tde  Vries \n",
    "Lotte Jansen-de Boer en Piet Jansen-van der Berg.\r\nGroet,\n\nAylin",
    "dhr. J.P. van 't Hof (groep 7) zei: “Kim”!\u00a0Mevr. Önder-Şahin\u2003en Łukasz",
    "Ayşe\n" + " " * 500 + "\n" * 300,  # a long blank tail
    "• Daan\n- Yusuf El Amrani\n> 'Roos Jansen'",
]


def _reference_tokens(text: str) -> list[tuple[str, int, int, bool, bool]]:
    """(text, start, end, initial, line_start) by a plain scan of every token: what the name
    recognizer saw before tokens became pieces."""
    out = []
    initial = line_start = True
    prev_end = 0
    for m in names_module._WORD.finditer(text):
        if "\n" in text[prev_end : m.start()]:
            initial = line_start = True
        word = m.group()
        out.append((word, m.start(), m.end(), initial, line_start))
        if word in ".!?":
            initial = True
        elif not (initial and word in "-•*>\"'“‘(:"):
            initial = False
        line_start = False
        prev_end = m.end()
    return out


@pytest.mark.parametrize("text", _TOKEN_TEXTS)
def test_pieces_are_the_tokens_with_their_offsets_and_line_facts(rec, text):
    toks = names_module._Tokens(text, rec._info)
    got = [(toks.info(k)[1], toks.starts[k], toks.end(k), toks.initial(k), toks.line_start(k))
           for k in range(toks.n)]
    assert got == _reference_tokens(text)


def test_every_capital_that_starts_a_name_passes_the_capital_filter():
    """The C-level filter keeps tokens whose first character is upper case (str.isupper): every
    letter a capitalised name or initial may start with must be one."""
    letters = set(re.sub(r"(.)-(.)", lambda m: "".join(
        map(chr, range(ord(m[1]), ord(m[2]) + 1))), names_module._UP))
    assert len(letters) > 60 and all(c.isupper() for c in letters)


def test_a_lowercase_tussenvoegsel_after_a_title_starts_the_name(rec):
    assert above(rec, "Ik sprak mevrouw van Dijk gisteren.") == ["mevrouw van Dijk"]
    assert above(rec, "Gesprek met dhr. van Leeuwen en juf de Groep.") == ["dhr. van Leeuwen"]
    assert above(rec, "mevrouw van Dijk") == ["mevrouw van Dijk"]


def test_results_do_not_depend_on_what_the_cache_already_knows(monkeypatch):
    """Warm (every piece known), cold, and with a cache that empties itself while a text is
    read: the same candidates."""
    text = ("Hoi Sanne!\n\nKim Clijsters zei: Kim komt. De Vries belde. Het was mevrouw van Dijk.\n"
            "Groet,\nAylin Yilmaz")
    warm = NameLexiconRecognizer()
    first = list(warm.candidates(text))
    assert first == list(warm.candidates(text))
    monkeypatch.setattr(names_module, "_CACHE_MAX", 3)
    tiny = NameLexiconRecognizer()
    assert list(tiny.candidates(text)) == first
    assert len(tiny._info) <= 3
