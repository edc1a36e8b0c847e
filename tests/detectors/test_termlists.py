"""Category lexicons: file syntax, matching, and extension by the school."""

from __future__ import annotations

from detectors.entities import LEXICON_CATEGORIES
from detectors.termlists import LEXICON_DIR, TermMatcher, build_category_matcher, read_term_file


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
