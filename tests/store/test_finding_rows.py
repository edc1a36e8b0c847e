"""``store._FindingRows`` gives the finding tuples the write path built before, value for value
(the old expression is copied verbatim below), whatever the scores, parts and locations."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from scanner.core.model import Finding
from scanner.store.store import _FindingRows


def _old_rows(ident, findings, tag):  # verbatim from Store.save_result_groups before
    finding_rows = []
    for finding in findings:
        finding_rows.append((
            ident, finding.entity, finding.category, tag(finding.part[:1024]),
            tag(finding.location or None), finding.start, finding.end,
            round(float(finding.score), 4), finding.masked[:128], finding.value_hash))
    return finding_rows


def _tag(value):
    return None if value is None else "t:" + value


scores = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -0.0, 0.85, 0.5, 1e-5]),
                   st.integers(-3, 3))
texts = st.one_of(st.sampled_from(["body", "bijlage.pdf", "", "x" * 1100]), st.text(max_size=20))
findings = st.builds(Finding, entity=st.sampled_from(["PERSON", "NL_BSN"]), part=texts, start=st.integers(0, 99),
                     end=st.integers(0, 99), score=scores, masked=st.text(max_size=140),
                     value_hash=st.text(max_size=8), category=st.one_of(st.none(), st.just("verzuim")),
                     location=st.one_of(st.none(), texts))


def _same(a, b):
    """Equal, and equal floats with the same sign and NaN-ness (what SQLite would store)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return type(a) is type(b) and a == b


@given(st.lists(st.lists(findings, max_size=12), max_size=6))
def test_rows_match_the_old_expression(items):
    memo = _FindingRows(_tag)  # one memo over several items, as in one write
    for n, item in enumerate(items):
        new, old = memo.rows(f"id{n}", item), _old_rows(f"id{n}", item, _tag)
        assert len(new) == len(old)
        for a, b in zip(new, old, strict=True):
            assert all(_same(x, y) for x, y in zip(a, b, strict=True)), (a, b)
