"""PERSON from name lists: finds Dutch names without a spaCy model (and boosts the model).

The nl_core_news models are not always installable (offline schools, locked-down servers), so
the default install needs another way to find the names that make school mail personal. Like
DEDUCE (Dutch de-identification) this uses lookup lists shipped in ``detectors/data``: common
first names, surnames and tussenvoegsels. Scores:

* first name + (tussenvoegsel) + surname from the list, or with a tussenvoegsel: 0.85
* first name + another capitalised word (an unknown surname): 0.65
* title or initials + (tussenvoegsel) + surname ("mevrouw De Vries", "J. de Boer"): 0.7
* a first name alone: 0.6, unless it is also an ordinary word (Roos, Bas, Fleur): 0.3
* a surname alone is never a name here (Bakker, Visser, De Jong are also words).

Only spaces/tabs may separate the parts: a line break ends a name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from detectors.entities import PERSON
from detectors.recognizers.base import DutchRecognizer
from detectors.termlists import DATA_DIR, read_term_file

_UP = "A-ZÀ-ÖØ-Þ"
_LOW = "a-zà-öø-ÿ'’"
CAP = rf"[{_UP}][{_LOW}]+(?:-[{_UP}][{_LOW}]+)*"
_CAP_WORD = re.compile(rf"(?<![\w\-@.]){CAP}(?![\w@])")
_NOT_SURNAME = frozenset(
    ["De", "Het", "Een", "En", "Is", "Op", "In", "Van", "Voor", "Met", "Aan", "Bij", "Uit", "Om",
     "Te", "Naar", "Ook", "Maar", "Dat", "Die", "Dit", "Wat", "Wie", "Groep", "Klas", "Heeft",
     "Had", "Was", "Wordt", "Werd", "Gaat", "Kan", "Mag", "Moet", "Zal", "Wil", "Komt", "Kwam",
     "Krijgt", "Zit", "Maandag", "Dinsdag", "Woensdag", "Donderdag", "Vrijdag", "Zaterdag",
     "Zondag", "Januari", "Februari", "Maart", "April", "Mei", "Juni", "Juli", "Augustus",
     "September", "Oktober", "November", "December", "Beste", "Hoi", "Hallo", "Groet", "Groeten",
     "Ik", "Jij", "Hij", "Zij", "Wij", "We", "Je", "Ze", "U", "Mijn", "Onze", "Jouw", "Uw", "Hun",
     "Zijn", "Haar", "Niet", "Wel", "Nog", "Al", "Dan", "Als", "School", "Leerling", "Ouders",
     "Mentor", "Juf", "Meester", "Collega", "Team"]
)
_TITLES = (
    r"(?:mevrouw|mevr\.?|mw\.?|meneer|mijnheer|mnr\.?|dhr\.?|de heer|juf|juffrouw|meester|"
    r"familie|fam\.?|Mevrouw|Mevr\.?|Mw\.?|Meneer|Mijnheer|Dhr\.?|De heer|Juf|Meester|Familie|Fam\.?)"
)


class NameLexicon:
    """The name lists, loaded once per process."""

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        self.first = frozenset(read_term_file(data_dir / "first_names.txt"))
        self.ambiguous = frozenset(read_term_file(data_dir / "ambiguous_first_names.txt"))
        self.surnames = frozenset(read_term_file(data_dir / "surnames.txt"))
        tv = sorted({t.lower() for t in read_term_file(data_dir / "tussenvoegsels.txt")},
                    key=len, reverse=True)
        tv_alt = "|".join(
            "".join(f"[{c.upper()}{c}]" if i == 0 and c.isalpha() else re.escape(c)
                    for i, c in enumerate(t))
            for t in tv
        )
        self.tv_regex = tv_alt
        # what may follow a first name: optional tussenvoegsel, then a capitalised word,
        # optionally a hyphenated second surname ("Jansen-de Vries")
        self.rest = re.compile(
            rf"[ \t]+(?:(?P<tv>{tv_alt})[ \t]+)?(?P<sur>{CAP}(?:-(?:(?:{tv_alt}) )?{CAP})?)(?![\w@])"
        )
        self.titled = re.compile(
            rf"(?<![\w]){_TITLES}[ \t]+(?:(?P<tv>{tv_alt})[ \t]+)?(?P<sur>{CAP})(?![\w@])"
        )
        self.initials = re.compile(
            rf"(?<![\w.])(?:[{_UP}]\.[ ]?){{1,4}}[ \t]*(?:(?P<tv>{tv_alt})[ \t]+)?(?P<sur>{CAP})(?![\w@])"
        )


_LEXICON: NameLexicon | None = None


def name_lexicon() -> NameLexicon:
    """The shared, lazily loaded name lists (read once per worker process)."""
    global _LEXICON
    if _LEXICON is None:
        _LEXICON = NameLexicon()
    return _LEXICON


class NameLexiconRecognizer(DutchRecognizer):
    """PERSON from first-name, surname and tussenvoegsel lists."""

    ENTITY = PERSON
    RULE = None

    def __init__(self, lexicon: NameLexicon | None = None) -> None:
        self.lexicon = lexicon or name_lexicon()
        super().__init__()

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:
        lex = self.lexicon
        found: list[tuple[int, int, float]] = []
        for m in _CAP_WORD.finditer(text):
            word = m.group()
            if word not in lex.first and word.split("-")[0] not in lex.first:
                continue
            start, end = m.span()
            rest = lex.rest.match(text, end)
            if rest is not None:
                sur = rest.group("sur")
                head = sur.split("-")[0]
                if head not in _NOT_SURNAME and not (head in lex.first and head not in lex.surnames
                                                     and rest.group("tv") is None):
                    known = rest.group("tv") is not None or head in lex.surnames
                    found.append((start, rest.end(), 0.85 if known else 0.65))
                    continue
            found.append((start, end, 0.3 if word in lex.ambiguous else 0.6))
        for pattern, base in ((lex.titled, 0.7), (lex.initials, 0.7)):
            for m in pattern.finditer(text):
                sur = m.group("sur")
                if sur in _NOT_SURNAME:
                    continue
                known = m.group("tv") is not None or sur.split("-")[0] in lex.surnames
                found.append((m.start(), m.end(), base if known else base - 0.15))
        return _drop_contained(found)


def _drop_contained(found: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Keep the longest of overlapping spans (a first name inside a full name goes)."""
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    kept: list[tuple[int, int, float]] = []
    for start, end, score in found:
        if kept and start < kept[-1][1]:
            if end - start > kept[-1][1] - kept[-1][0]:
                kept[-1] = (start, end, max(score, kept[-1][2]))
            continue
        kept.append((start, end, score))
    return kept
