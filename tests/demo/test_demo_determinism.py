"""Same seed, same bytes (and file times); another seed, another corpus."""

from __future__ import annotations

import hashlib
import os
from datetime import date
from pathlib import Path

from scanner.demo import generate_demo
from tests.demo.conftest import TODAY


def _snapshot(root: Path) -> dict[str, tuple[str, int]]:
    return {
        p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), int(p.stat().st_mtime))
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_identical_corpus(tmp_path: Path) -> None:
    a = generate_demo(tmp_path / "a", seed=11, mails_per_teacher=30, today=TODAY)
    b = generate_demo(tmp_path / "b", seed=11, mails_per_teacher=30, today=TODAY)
    snap_a, snap_b = _snapshot(a.root), _snapshot(b.root)
    assert snap_a == snap_b
    assert len(snap_a) > 90
    assert a.expected_student_data == b.expected_student_data
    assert a.expected_categories == b.expected_categories
    assert a.planted == b.planted
    assert a.mail_keys == b.mail_keys


def test_output_does_not_depend_on_the_machine_time_zone(tmp_path: Path) -> None:
    old = os.environ.get("TZ")
    try:
        os.environ["TZ"] = "America/New_York"
        import time

        time.tzset()
        a = generate_demo(tmp_path / "a", seed=5, mails_per_teacher=25, teachers=1, today=TODAY)
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()
    b = generate_demo(tmp_path / "b", seed=5, mails_per_teacher=25, teachers=1, today=TODAY)
    assert _snapshot(a.root) == _snapshot(b.root)


def test_other_seed_gives_other_corpus(tmp_path: Path) -> None:
    a = generate_demo(tmp_path / "a", seed=1, mails_per_teacher=30, teachers=1, today=TODAY)
    b = generate_demo(tmp_path / "b", seed=2, mails_per_teacher=30, teachers=1, today=TODAY)
    assert set(a.planted.bsns) != set(b.planted.bsns)
    assert _snapshot(a.root) != _snapshot(b.root)


def test_sizes_and_teacher_count(tmp_path: Path) -> None:
    corpus = generate_demo(tmp_path, seed=3, mails_per_teacher=24, teachers=5, today=date(2025, 3, 1))
    kinds = [s["kind"] for s in corpus.sources]
    assert kinds == ["maildir", "mbox", "eml", "maildir", "mbox", "folder"]
    mails = [k for k in corpus.expected_student_data if not k.startswith("gedeeld/")]
    assert len(mails) == 5 * 24
    assert len(corpus.teachers) == 5


def test_existing_corpus_is_refused_or_replaced(tmp_path: Path) -> None:
    import pytest

    generate_demo(tmp_path, seed=1, mails_per_teacher=23, teachers=1, today=TODAY)
    with pytest.raises(FileExistsError, match="demo-corpus"):
        generate_demo(tmp_path, seed=2, mails_per_teacher=23, teachers=1, today=TODAY)
    keep = tmp_path / "notes.txt"
    keep.write_text("not ours")
    fresh = generate_demo(tmp_path, seed=2, mails_per_teacher=23, teachers=1, today=TODAY, overwrite=True)
    on_disk = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
               if p.is_file() and (p.parent.name in ("cur", "new") or "gedeeld" in p.parts)}
    assert on_disk == set(fresh.expected_student_data), "no left-overs from the first seed"
    assert keep.read_text() == "not ours", "only the generator's own paths are removed"


def test_invalid_arguments_are_refused_with_a_dutch_first_message(tmp_path: Path) -> None:
    import pytest

    with pytest.raises(ValueError, match="^today moet"):
        generate_demo(tmp_path / "a", today=date(2018, 1, 1))
    with pytest.raises(ValueError, match="^aantal leerkrachten"):
        generate_demo(tmp_path / "b", teachers=9, today=TODAY)


def test_earliest_supported_today(tmp_path: Path) -> None:
    corpus = generate_demo(tmp_path, seed=8, mails_per_teacher=40, teachers=2, today=date(2019, 9, 1))
    assert len(corpus.expected_student_data) > 80
