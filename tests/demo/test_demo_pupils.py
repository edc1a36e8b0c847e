"""Issue 17 item 3: with the roster configured, the pupils of the demo are found by name, every
time and nothing else, including a first name alone where the mail is about the pupil.

Ground truth comes from the demo's own rosters (current and former pupils): every place a
rostered pupil's full name is written must be a STUDENT_ROSTER finding; every place the first
name alone is written about that pupil must be a name finding (PERSON or STUDENT_ROSTER);
every STUDENT_ROSTER finding must be a rostered pupil's name.
"""

from __future__ import annotations

import csv
import re
import secrets

import pytest

from detectors import build_detector
from detectors.settings import DetectionSettings, RosterSettings
from scanner.core.privacy import ValueHasher, normalise
from scanner.demo import DemoCorpus
from tests.detectors.conftest import body

NAMES = ("PERSON", "STUDENT_ROSTER")


def _numbers(demo: DemoCorpus) -> set[str]:
    out: set[str] = set()
    for path in (demo.roster_csv, demo.former_roster_csv):
        if path is not None:
            text = path.read_text(encoding="utf-8")
            out |= {r["leerlingnummer"] for r in csv.DictReader(
                text.splitlines(), delimiter=";" if ";" in text.split("\n", 1)[0] else ",")}
    return out


def _pupils(demo: DemoCorpus) -> list[tuple[str, str, str]]:
    out = []
    for path in (demo.roster_csv, demo.former_roster_csv):
        if path is None:
            continue
        text = path.read_text(encoding="utf-8")
        reader = csv.DictReader(text.splitlines(), delimiter=";" if ";" in text.split("\n", 1)[0] else ",")
        out += [(r["roepnaam"], r["tussenvoegsel"], r["achternaam"]) for r in reader]
    return out


@pytest.fixture(scope="module")
def scanned(demo: DemoCorpus, demo_items: dict[str, dict]):
    settings = DetectionSettings(spacy_model="none", roster=RosterSettings(
        path=demo.roster_csv, former_path=demo.former_roster_csv))
    detector = build_detector(settings, ValueHasher(secrets.token_bytes(32)))
    texts = {key: item["text"] for key, item in demo_items.items() if item.get("text")}
    verdicts = detector.analyze_many([body(text) for text in texts.values()])
    return texts, dict(zip(texts, verdicts, strict=True))


def _covered(findings, start: int, end: int, entities=NAMES) -> bool:
    return any(f.entity in entities and f.start <= start and end <= f.end for f in findings)


def test_every_rostered_pupil_is_found_by_name_and_nothing_else(demo: DemoCorpus, scanned) -> None:
    texts, verdicts = scanned
    pupils = _pupils(demo)
    numbers = _numbers(demo)
    full_forms = {" ".join(p for p in form if p) for first, tv, last in pupils
                  for form in ((first, tv, last), (last, tv, first))}
    full_re = re.compile(r"(?<!\w)(?:" + _alternatives(full_forms) + r")(?!\w)")
    firsts = {first for first, _tv, _last in pupils}
    first_re = re.compile(r"(?<![\w-])(?:" + _alternatives(firsts) + r")(?![\w-])")
    full_hits = full_missed = first_hits = first_missed = roster_found = roster_wrong = 0
    missed: list[str] = []
    for key, text in texts.items():
        findings = verdicts[key].findings
        spans = [m.span() for m in full_re.finditer(text)]
        for start, end in spans:
            if _covered(findings, start, end, ("STUDENT_ROSTER",)):
                full_hits += 1
            else:
                full_missed += 1
                missed.append(f"{key}: full name at {start}")
        for m in first_re.finditer(text):
            if any(s <= m.start() < e for s, e in spans):
                continue  # part of a full name
            before = text[max(0, m.start() - 12):m.start()].lower()
            if re.search(r"(juf|meester|collega|beste|hoi|hallo|dag|groet,?)\s*$", before):
                continue  # a teacher or an addressee who shares the name: not about the pupil
            if re.match(r"[ \t]+(?:(?:van|de|den|der|ter|ten|el)[ \t]+)*[A-Z][a-z]", text[m.end():]):
                continue  # the first name of someone else's full name (a parent "Anouk Kuipers")
            if _covered(findings, m.start(), m.end()):
                first_hits += 1
            else:
                first_missed += 1
                missed.append(f"{key}: first name at {m.start()}: {text[max(0, m.start() - 40):m.end() + 30]!r}")
        for f in findings:
            if f.entity != "STUDENT_ROSTER" or f.part != "body":
                continue
            roster_found += 1
            found = text[f.start:f.end]
            if not (full_re.fullmatch(found) or found in numbers or any(_variant(found, p) for p in pupils)):
                roster_wrong += 1
                missed.append(f"{key}: roster finding that is no pupil at {f.start}: {found!r}")
    print(f"demo pupils: full names {full_hits}/{full_hits + full_missed}, first names alone "
          f"{first_hits}/{first_hits + first_missed}, roster findings {roster_found - roster_wrong}/"
          f"{roster_found} correct")
    assert full_hits > 50 and first_hits > 50, (full_hits, first_hits)
    assert not missed, "\n".join(missed[:20])


def _alternatives(words: set[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _variant(found: str, pupil: tuple[str, str, str]) -> bool:
    """``found`` is one of the pupil's written forms, compared as the roster hashes compare
    (:func:`scanner.core.privacy.normalise`: case, spaces and letters outside a-z do not count)."""
    first, tv, last = pupil
    forms = ((first, tv, last), (first, last), (tv, last, first), (last, first, tv), (last, tv, first))
    return normalise(found) in {normalise(" ".join(p for p in form if p)) for form in forms}
