"""Context scoring: words around a candidate, table headers and document cues decide its score.

Why not Presidio's ``LemmaContextAwareEnhancer``: it can only *raise* a score, looks at a fixed
number of lemmas (which need a full spaCy pipeline with a lemmatizer, absent in the offline
mode), and a validator returning True pins the score at 1.0 so context cannot move it at all.
For a BSN (about 9% of random 9-digit numbers pass the 11-proef) context must be able to push
a candidate both above and below the threshold. So each recognizer keeps a base score and a
:class:`ContextRule` moves it: the *nearest* keyword within a character window wins
(``factuurnummer 123456782`` is negative even when "BSN" occurs further back), then a table
column header, then weak cues (student words nearby, the keyword anywhere in the document).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from detectors.termlists import FOLDS_TO_ASCII, regex_shape

_DELIMS = ("\t", ";", "|", ",")
_DIGIT = re.compile(r"\d")


def _has_digit(line: str) -> bool:
    """``any(c.isdigit() for c in line)``, as one C-level scan where that is exact (ASCII)."""
    if _DIGIT.search(line) is not None:
        return True
    return not line.isascii() and any(c.isdigit() for c in line)


class _Lowered:
    """The lower-cased text being scored (same offsets) and whether needle searches in it are
    exact, computed once per text for every rule and candidate (kept by identity, like the
    table-header cache of :mod:`detectors.recognizers.base`)."""

    text: ClassVar[str | None] = None
    low: ClassVar[str] = ""
    plain: ClassVar[bool] = False

    @classmethod
    def get(cls, text: str) -> tuple[str, bool]:
        if cls.text is not text:
            low = text.lower()
            if len(low) != len(text):  # a character whose lower case is longer (İ): keep it
                low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
            plain = text.isascii() or FOLDS_TO_ASCII.search(text) is None
            cls.text, cls.low, cls.plain = text, low, plain
        return cls.low, cls.plain


class _Near:
    """Where a keyword regex can match in one text: at the positions of its needles.

    WHY: ``keyword_regex`` starts with a lookbehind and is case-insensitive, so ``re`` tries it
    at every position of a window (and a regex alternation of its needles, the pre-check this
    replaces, tried a match at every character that starts a needle). Every match starts at most
    ``lead`` characters before a needle it contains (see :func:`detectors.termlists.regex_shape`;
    0 for keyword regexes), so once per text a plain ``in``/``str.find`` per needle over the
    lower-cased text gives the sorted positions where a match can start, and a window tries
    ``match`` only at those (bisect), with the matches ``search``/``finditer`` would give.
    Only for texts where needle searches are exact (no İ/ı/ſ, see :class:`_Lowered`)."""

    __slots__ = ("pattern", "needles", "lead", "_text", "_starts")

    def __init__(self, pattern: re.Pattern[str], needles: tuple[str, ...], lead: int) -> None:
        self.pattern = pattern
        self.needles = needles
        self.lead = lead
        self._text: str | None = None
        self._starts: list[int] = []

    @staticmethod
    def of(pattern: re.Pattern[str] | None) -> _Near | None:
        """The needle positions of ``pattern``, or None when its shape gives no needles or no lead."""
        if pattern is None:
            return None
        shape = regex_shape(pattern.pattern)
        if shape is None or not shape[0] or shape[1] is None:
            return None
        # a needle with another one as its prefix adds no position where a match can start
        needles = shape[0]
        kept = tuple(sorted(n for n in needles
                            if not any(m != n and n.startswith(m) for m in needles)))
        return _Near(pattern, kept, shape[1])

    def starts(self, text: str, low: str) -> list[int]:
        """Sorted positions of ``text`` where a match can start (kept for the last text).

        ``filter`` runs the ``in`` test of every needle in C; most texts hold few needles."""
        if self._text is not text:
            lead = self.lead
            found: list[int] = []
            for needle in filter(low.__contains__, self.needles):
                q = low.find(needle)
                while q >= 0:
                    if lead:
                        found.extend(range(max(0, q - lead), q + 1))
                    else:
                        found.append(q)
                    q = low.find(needle, q + 1)
            # no needle is a prefix of another (see of): with lead 0 the positions are distinct
            self._text, self._starts = text, sorted(set(found)) if lead else sorted(found)
        return self._starts

    def first(self, text: str, low: str, lo: int, hi: int) -> re.Match[str] | None:
        """``pattern.search(text, lo, hi)``: the match at the first possible start that matches."""
        starts = self.starts(text, low)
        pattern = self.pattern
        i = bisect.bisect_left(starts, lo)
        n = len(starts)
        while i < n:
            s = starts[i]
            if s >= hi:
                return None
            m = pattern.match(text, s, hi)
            if m is not None:
                return m
            i += 1
        return None

    def last_end(self, text: str, low: str, lo: int, hi: int) -> int:
        """End of the last match of ``pattern.finditer(text, lo, hi)``, or -1: each match is the
        first one from where the last ended (its matches are never empty: each holds a needle)."""
        starts = self.starts(text, low)
        pattern = self.pattern
        end = -1
        i = bisect.bisect_left(starts, lo)
        n = len(starts)
        while i < n:
            s = starts[i]
            if s >= hi:
                break
            if s >= lo:
                m = pattern.match(text, s, hi)
                if m is not None:
                    end = lo = m.end()
            i += 1
        return end


def keyword_regex(words: Sequence[str]) -> re.Pattern[str] | None:
    """A case-insensitive regex matching any of ``words`` as whole words (longest first)."""
    if not words:
        return None
    alternatives = sorted({w.lower() for w in words}, key=len, reverse=True)
    body = "|".join(re.escape(w).replace(r"\ ", r"[\s\-]*") for w in alternatives)
    return re.compile(rf"(?<![\w])(?:{body})(?![\w])", re.IGNORECASE)


@dataclass(frozen=True)
class ContextRule:
    """How context moves the score of one recognizer's candidates.

    ``positive`` keywords add ``boost``; ``negative`` ones subtract ``penalty``; the nearest
    keyword within ``before``/``after`` characters decides. ``weak`` words nearby, or a
    positive keyword anywhere in the text (``document_cue``), add ``weak_boost`` when no
    nearby keyword or header decided.
    """

    positive: Sequence[str]
    negative: Sequence[str] = ()
    weak: Sequence[str] = ()
    boost: float = 0.45
    penalty: float = 0.4
    weak_boost: float = 0.15
    before: int = 60
    after: int = 25
    document_cue: bool = False
    _pos: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _neg: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _weak: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    # where each keyword regex can match in the lower-cased text (see _Near): only there is it
    # tried; None: the regex runs over the whole window
    _pos_near: _Near | None = field(init=False, repr=False, compare=False)
    _neg_near: _Near | None = field(init=False, repr=False, compare=False)
    _weak_near: _Near | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pos", keyword_regex(self.positive))
        object.__setattr__(self, "_neg", keyword_regex(self.negative))
        object.__setattr__(self, "_weak", keyword_regex(self.weak))
        object.__setattr__(self, "_pos_near", _Near.of(self._pos))
        object.__setattr__(self, "_neg_near", _Near.of(self._neg))
        object.__setattr__(self, "_weak_near", _Near.of(self._weak))

    # -- the pieces -------------------------------------------------------------------------

    def nearest(self, text: str, start: int, end: int) -> int:
        """+1 / -1 for the nearest positive / negative keyword around the span, 0 for none."""
        lo = max(0, start - self.before)
        hi = min(len(text), end + self.after)
        best_dist = None
        best_sign = 0
        low, plain = _Lowered.get(text)
        for pattern, near, sign in ((self._pos, self._pos_near, 1), (self._neg, self._neg_near, -1)):
            if pattern is None:
                continue
            if near is not None and plain:
                # the same matches as below, tried only where a needle is (see _Near)
                last = near.last_end(text, low, lo, start)
                if last >= 0:
                    dist = start - last
                    if best_dist is None or dist < best_dist:
                        best_dist, best_sign = dist, sign
                m = near.first(text, low, end, hi)
                if m is not None:
                    dist = m.start() - end
                    if best_dist is None or dist < best_dist:
                        best_dist, best_sign = dist, sign
                continue
            for m in pattern.finditer(text, lo, start):
                dist = start - m.end()
                if best_dist is None or dist < best_dist:
                    best_dist, best_sign = dist, sign
            for m in pattern.finditer(text, end, hi):
                dist = m.start() - end
                if best_dist is None or dist < best_dist:
                    best_dist, best_sign = dist, sign
                break
        return best_sign

    def header_sign(self, headers: Sequence[str]) -> int:
        """+1 / -1 when a header names the column positively / negatively, else 0."""
        sign = 0
        for header in headers:
            if self._neg is not None and self._neg.search(header):
                return -1
            if self._pos is not None and self._pos.search(header):
                sign = 1
        return sign

    def weak_nearby(self, text: str, start: int, end: int) -> bool:
        if self._weak is None:
            return False
        lo = max(0, start - 3 * self.before)
        hi = min(len(text), end + 3 * self.after)
        near = self._weak_near
        if near is not None:
            low, plain = _Lowered.get(text)
            if plain:
                return near.first(text, low, lo, hi) is not None
        return self._weak.search(text, lo, hi) is not None

    def in_document(self, text: str) -> bool:
        if self._pos is None:
            return False
        near = self._pos_near
        if near is not None:
            low, plain = _Lowered.get(text)
            if plain:
                return near.first(text, low, 0, len(text)) is not None
        return self._pos.search(text) is not None

    # -- the decision -----------------------------------------------------------------------

    def score(
        self,
        text: str,
        start: int,
        end: int,
        base: float,
        headers: TableHeaders | None = None,
        extra_headers: Sequence[str] = (),
        doc_cue: bool | None = None,
    ) -> tuple[float, str]:
        """Return the context-adjusted score and which rule decided (for explanations)."""
        # a table cell's own column header is the most specific context there is; otherwise
        # the nearest keyword decides, then any header of the table
        cell_headers, exact = headers.for_span(text, start) if headers is not None else (None, False)
        sign = self.header_sign(cell_headers) if cell_headers and exact else 0
        how = "kolomkop"
        if sign == 0:
            sign = self.nearest(text, start, end)
            how = "nabij"
        if sign == 0 and cell_headers and not exact:
            sign = self.header_sign(cell_headers)
            how = "kolomkop"
        if sign == 0 and extra_headers:
            sign = self.header_sign(extra_headers)
            how = "kolomkop"
        if sign > 0:
            return min(1.0, base + self.boost), how
        if sign < 0:
            return max(0.01, base - self.penalty), how
        bonus = 0.0
        if self.weak_nearby(text, start, end):
            bonus += self.weak_boost
        if self.document_cue and (doc_cue if doc_cue is not None else self.in_document(text)):
            bonus += self.weak_boost
        return min(1.0, base + bonus), ("zwak" if bonus else "geen")


class TableHeaders:
    """Header lines of delimited tables inside one text (CSV/XLSX exports as text).

    Built once per text in one pass: a header is a line with a delimiter, at least two cells
    and no digits. For a candidate, the nearest header above with the same delimiter and the
    same number of cells gives the header of the candidate's cell; otherwise all header cells.
    """

    def __init__(self, text: str, column_headers: Sequence[str] = ()) -> None:
        self._starts: list[int] = []
        self._headers: list[tuple[str, list[str]]] = []
        self._given = [h for h in column_headers if isinstance(h, str)]
        pos = 0
        for line in text.splitlines(keepends=True):
            stripped = line.strip()
            if stripped and not _has_digit(stripped):
                delim = next((d for d in _DELIMS if d in stripped), None)
                if delim is not None:
                    cells = [c.strip() for c in stripped.split(delim)]
                    if len(cells) >= 2 and sum(1 for c in cells if c) >= 2:
                        self._starts.append(pos)
                        self._headers.append((delim, cells))
            pos += len(line)

    def for_span(self, text: str, start: int) -> tuple[list[str] | None, bool]:
        """The header cell(s) that describe the value at ``start`` and whether that is exactly
        the cell's own column (same number of cells in header and row), or (None, False)."""
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", start)
        if line_end < 0:
            line_end = len(text)
        idx = bisect.bisect_right(self._starts, line_start) - 1
        # the header line itself is not a data line
        if idx >= 0 and self._starts[idx] == line_start:
            idx -= 1
        if idx >= 0:
            delim, cells = self._headers[idx]
            return _cell_header(text, line_start, line_end, start, delim, cells)
        if self._given:
            line = text[line_start:line_end]
            for delim in _DELIMS:
                if delim in line:
                    return _cell_header(text, line_start, line_end, start, delim, self._given)
            return list(self._given), False
        return None, False


def _cell_header(
    text: str, line_start: int, line_end: int, start: int, delim: str, cells: list[str]
) -> tuple[list[str], bool]:
    line = text[line_start:line_end]
    if line.count(delim) + 1 == len(cells):
        index = text.count(delim, line_start, start)
        if 0 <= index < len(cells):
            return [cells[index]], True
    return list(cells), False
