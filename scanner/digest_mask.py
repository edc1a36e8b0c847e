"""Mask, in what a digest shows, every name and value that detection found in the item.

The store keeps a title, folder and link encrypted and in full, because the owner's digest must
name the item and its link must open it. What the digest *shows* of them, though, should not
spell out the pupil: "Onderwijskundig rapport E*** H***", not the name. The detected values are
not stored, only their keyed hashes (:class:`scanner.core.privacy.ValueHasher`), so the masker
works the other way round: every run of up to :data:`MAX_WORDS` words of the text is put in
each found entity's canonical form (:func:`detectors.canonical.canonical`) and hashed; a run
whose hash is among the item's findings is masked, a word at a time (its first letter and
``***``; numbers as :func:`scanner.core.privacy.mask` shows them).

It masks what this item's own findings hold, so a value in a name that was never found in the
item stays (detecting values in names themselves is the worker's job, issue 16 item 2).
"""

from __future__ import annotations

import re
from collections.abc import Collection

from detectors.canonical import canonical
from scanner.core.privacy import ValueHasher, mask

MAX_WORDS = 4
"""Longest run of words tried as one value (a first name, tussenvoegsels and a surname)."""
_WORD = re.compile(r"\w+", re.UNICODE)
_SKIP = frozenset({"CATEGORY_TERM"})
"""Vocabulary ("OPP", "ADHD") is not about a person: it stays readable."""


def mask_found(text: str, found: Collection[tuple[str, str]], hasher: ValueHasher) -> str:
    """``text`` with every run of words whose keyed hash is in ``found`` (pairs of entity and
    value hash, as stored in ``findings``) masked."""
    if not text or not found:
        return text
    wanted = {(entity, value_hash) for entity, value_hash in found if entity not in _SKIP}
    entities = sorted({entity for entity, _ in wanted})
    if not entities:
        return text
    words = list(_WORD.finditer(text))
    hidden: list[tuple[int, int, str]] = []
    taken = [False] * len(words)
    for size in range(min(MAX_WORDS, len(words)), 0, -1):  # longest first: "Esmee Huisman" before "Esmee"
        for first in range(len(words) - size + 1):
            if any(taken[first:first + size]):
                continue
            start, end = words[first].start(), words[first + size - 1].end()
            candidate = text[start:end]
            for entity in entities:
                try:
                    value = canonical(entity, candidate)
                except Exception:  # noqa: BLE001 - stdnum refuses what is not its number: no match
                    continue
                if (entity, hasher.hash(entity, value)) in wanted:
                    hidden.append((start, end, entity))
                    taken[first:first + size] = [True] * size
                    break
    for start, end, entity in sorted(hidden, reverse=True):
        text = text[:start] + _masked(text[start:end], entity) + text[end:]
    return text


def _masked(value: str, entity: str) -> str:
    if re.search(r"[^\W\d_]", value):  # words: each keeps its first letter
        return _WORD.sub(lambda m: m.group(0)[:1] + "***", value)
    return mask(value, entity)
