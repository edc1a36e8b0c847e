"""The engine's fast Finding construction gives exactly what ``Finding(...)`` gives."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from detectors.engine import _finding
from scanner.core.model import Finding

VALUES = ("PERSON", "body", 12, 17, 0.85, "J****", "0123456789abcdef" * 2, "identificatie", "blad 1")


def test_finding_equals_dataclass_construction() -> None:
    fast, slow = _finding(*VALUES), Finding(*VALUES)
    assert type(fast) is Finding
    assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    assert dataclasses.astuple(fast) == VALUES
    assert pickle.loads(pickle.dumps(fast)) == slow


def test_finding_covers_every_field_and_stays_frozen() -> None:
    assert len(dataclasses.fields(Finding)) == len(VALUES)
    fast = _finding(*VALUES)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.entity = "EMAIL_ADDRESS"  # type: ignore[misc]
