"""The verdict's text facts after the speed work of issue 21: same answers as the plain forms.

The closing-line scan, the in-place header/greeting matches and the remembered greeting
prefixes are faster formulations of simple rules; these tests pin them to those rules.
All texts are synthetic.
"""

from __future__ import annotations

import re

import pytest

from detectors import entities as E
from detectors.verdict import Hit, TextFacts, cues, judge

EDGE_TEXTS = [
    "",
    "\n",
    "groet",
    "\ngroet",
    "Groet\nGroet\n\nMvg,\n",
    "> Met vriendelijke groet,\r\nJan Jansen\nDirecteur",
    "x\n  groeten van ons allemaal\n\n\ngr",
    "Beste ouders,\n\nTot ziens!\nKees\n",
]


@pytest.mark.parametrize("text", EDGE_TEXTS)
def test_closing_lines_as_a_caret_pattern_finds_them(text: str) -> None:
    c = cues()
    caret = re.compile("^" + c.closing_first.pattern, re.IGNORECASE | re.MULTILINE)
    facts = TextFacts(text)
    starts, _ = facts._signature_ends()
    assert starts == [m.start() for m in caret.finditer(text)]


def _name(text: str, name: str) -> Hit:
    start = text.index(name)
    return Hit(E.PERSON, start, start + len(name), 0.8, None)


@pytest.mark.parametrize(("text", "name", "expected"), [
    ("Beste Quirijn,\n\nDe vergadering is verzet.", "Quirijn", True),
    ("Beste ouders van Quirijn,\n\nHij is ziek.", "Quirijn", False),
    ("Van: Quirijn Oudejans\nAan: de school", "Quirijn Oudejans", True),
    ("Quirijn heeft vandaag een toets gemaakt.\nDat ging goed.\nEn verder.\nTot slot.\nEinde.",
     "Quirijn", False),
])
def test_correspondent_rules(text: str, name: str, expected: bool) -> None:
    assert TextFacts(text).is_correspondent(_name(text, name)) is expected


def test_remembered_greeting_prefixes_hold_no_message_words() -> None:
    for text, name in (("Beste ouders van Xandrijn,\nHij is ziek.", "Xandrijn"),
                       ("Hoi Quirijn en Xandrijn,\nTot morgen.", "Xandrijn"),
                       ("Hoi Xandrijn,\nTot morgen.", "Xandrijn"),
                       ("Van Xandrijn kwam een vraag.\nTot morgen.", "Van Xandrijn")):
        judge([(text, [_name(text, name)])])
    greeting = cues().greeting_at
    for prefix in cues()._greeting_only:
        # a name that starts where the greeting word does ("Van Dijk" under the "Van:" rule)
        # leaves an empty or spacing-only prefix: no word at all is as safe as the formula
        if not re.search(r"\w", prefix):
            continue
        m = greeting.match(prefix)
        assert m is not None and not re.search(r"\w", prefix[m.end():])
