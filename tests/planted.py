"""Values a test plants to grep every output for: fictional BSNs and the notations a person
would write them in. One home for the privacy greps (tests/e2e/test_planted_names.py, the answer
pages in tests/answers/test_browser.py)."""

from __future__ import annotations

OLD = 1_500_000_000  # 2017-07-14: a file time long past any retention time


def valid_bsns(count: int) -> list[str]:
    """Test-range (9999xxxxx) numbers that pass the 11-proef."""
    found = []
    for n in range(999_900_000, 999_999_999):
        digits = f"{n:09d}"
        if (sum((9 - i) * int(d) for i, d in enumerate(digits[:-1])) - int(digits[-1])) % 11 == 0:
            found.append(digits)
            if len(found) == count:
                return found
    raise AssertionError("not enough numbers")


def notations(bsn: str) -> list[str]:
    """123456782, 1234.56.782, 123 456 782, 123-456-782."""
    return [bsn, f"{bsn[:4]}.{bsn[4:6]}.{bsn[6:]}", f"{bsn[:3]} {bsn[3:6]} {bsn[6:]}",
            f"{bsn[:3]}-{bsn[3:6]}-{bsn[6:]}"]
