"""``normalise`` decides every stored keyed hash: pinned to its documented rule."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.core.privacy import normalise

_RULE = re.compile(r"[^0-9a-z@.]+")  # the documented rule: case-fold, keep a-z, 0-9, @ and .


@settings(max_examples=3000, deadline=None)
@given(st.text() | st.text(alphabet="aZ09.@ -_'’ëßİıſǅﬁK\t\n"))
def test_normalise_is_casefold_then_the_kept_characters(value: str) -> None:
    assert normalise(value) == _RULE.sub("", value.casefold())


def test_normalise_edge_cases() -> None:
    for value, expected in [("Jansen", "jansen"), ("123456782", "123456782"), ("", ""),
                            ("J.P. de Vries", "j.p.devries"), ("Straße", "strasse"),
                            ("İlker", "ilker"), ("K", "k"), ("ﬁle", "file")]:
        assert normalise(value) == expected == _RULE.sub("", value.casefold())
