"""One rule for the small memos of the hot paths: bounded, and emptied when full.

The driver, the retention policy, the cipher and the verdict remember answers that repeat
(an item id asked for several times per batch, the same folder, the same JSON text, the same
greeting). Each memo must stay bounded however long a run is, and each used to say so in the
same three lines. Emptying the whole map when it is full, rather than evicting the oldest entry,
is deliberate: these memos hold what repeats within a batch or a folder, so a cleared map fills
again with what matters at once, and a plain ``dict`` lookup on the hit path costs less than any
LRU bookkeeping (``functools.lru_cache`` is used where the key is the call's arguments).

The hit path stays inline at each caller (``memo.get(key)``); only the miss goes through
:func:`remember`.
"""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def remember(memo: dict[K, V], key: K, value: V, limit: int) -> V:
    """Store ``value`` under ``key`` in ``memo``, emptying ``memo`` first when it holds
    ``limit`` entries or more; returns ``value``."""
    if len(memo) >= limit:
        memo.clear()
    memo[key] = value
    return value
