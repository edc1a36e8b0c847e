"""Category lexicons: file syntax, matching, and extension by the school."""

from __future__ import annotations

from detectors.entities import LEXICON_CATEGORIES
from detectors.termlists import (
    LEXICON_DIR,
    TermMatcher,
    build_category_matcher,
    read_term_file,
    regex_needles,
)


def found(matcher: TermMatcher, text: str) -> list[tuple[str, str]]:
    return [(text[m.start : m.end], m.label) for m in matcher.find(text)]


def test_every_category_has_a_lexicon_with_terms():
    for category in LEXICON_CATEGORIES:
        assert len(read_term_file(LEXICON_DIR / f"{category}.txt")) >= 20, category


def test_syntax():
    m = TermMatcher()
    m.add_many("zorg", ["=OPP", "intern begeleider", "dyslect*", "re:\\bgroep\\s?[1-8]\\b", "# x"])
    assert found(m, "Het OPP en de Intern Begeleider") == [("OPP", "zorg"), ("Intern Begeleider", "zorg")]
    assert found(m, "opp. oppervlakte") == []  # case-sensitive abbreviation
    assert found(m, "een dyslectische leerling") == [("dyslectische", "zorg")]
    assert found(m, "zij zit in groep 7") == [("groep 7", "zorg")]


def test_longest_match_wins_and_apostrophes():
    m = build_category_matcher()
    assert found(m, "Gebeld met Veilig Thuis over de meldcode.") == [
        ("Veilig Thuis", "veiligheid"), ("meldcode", "veiligheid")]
    assert ("IB’er", "zorg") in found(m, "Overleg met de IB’er over ADHD")
    assert ("ADHD", "gezondheid") in found(m, "Overleg met de IB’er over ADHD")
    assert found(m, "Ik ass een ass") == []


def test_school_can_extend_lexicons(tmp_path, caplog):
    (tmp_path / "zorg.txt").write_text("# eigen termen\nplusgroep\n", encoding="utf-8")
    (tmp_path / "onbekend.txt").write_text("iets\n", encoding="utf-8")
    m = build_category_matcher([tmp_path])
    assert found(m, "Hij zit in de plusgroep") == [("plusgroep", "zorg")]
    assert "hoort niet bij een categorie" in caplog.text


def test_regex_needles_are_what_every_match_contains():
    assert regex_needles(r"\bgroep\s?[1-8]\b") == {"groep"}
    assert regex_needles(r"\b(?:Cijfer|score)\s*\d") == {"cijfer", "score"}
    assert regex_needles(r"\b[1-6]\s?(?:havo|vwo)\b") == {"havo", "vwo"}
    assert regex_needles(r"(?:x)?abc") == {"abc"}
    assert regex_needles(r"(?-i:Ab)c") == {"c"}  # a case-sensitive group gives no needle
    assert regex_needles(r"[0-9]+") is None
    assert regex_needles(r"ë\d") is None
    assert regex_needles(r"a(") is None  # not a pattern


def test_regex_terms_skipped_by_needles_find_what_they_found_before():
    m = TermMatcher()
    m.add_many("cijfers", [r"re:\b(?:cijfer|score)\s*\d{1,2}[,.]\d\b", r"re:\bklas\s?[1-6]\b"])
    # İ, ı and ſ match i, i and s under IGNORECASE but do not lower-case to them: such a text
    # runs every pattern, so "ſcore" (long s) is still found
    assert found(m, "Zijn ſcore 7,5") == [("ſcore 7,5", "cijfers")]
    assert found(m, "Zijn Score 8,0") == [("Score 8,0", "cijfers")]
    assert found(m, "In \u212alas 3 (Kelvin-teken)") == [("\u212alas 3", "cijfers")]
    assert found(m, "geen cijfers hier, wel klassen") == []
    for text in ("KLAS 4 en cijfer 6,5", "Klas’ 3", "klas 2 İ", "score 7.5 SCORE 8,1 ſcore 9,0"):
        plain = [mt.span() for p, _, _, _ in m._regexes for mt in p.finditer(text)]
        assert sorted((x.start, x.end) for x in m.find(text)) == sorted(plain)
