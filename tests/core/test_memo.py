"""The bounded memo rule every hot-path memo shares (scanner.core.memo)."""

from __future__ import annotations

from scanner.core.memo import remember


def test_remember_stores_and_returns_the_value() -> None:
    memo: dict[str, int] = {}
    assert remember(memo, "a", 1, limit=3) == 1
    assert memo == {"a": 1}


def test_a_full_memo_is_emptied_before_the_new_entry() -> None:
    memo = {"a": 1, "b": 2, "c": 3}
    remember(memo, "d", 4, limit=3)
    assert memo == {"d": 4}
    for i in range(100):
        remember(memo, str(i), i, limit=3)
        assert len(memo) <= 3
