"""The bulk generator for benchmarks: counts, attachment ratio, parseability, determinism."""

from __future__ import annotations

import email
import hashlib
import json
from email import policy
from pathlib import Path

import pytest

from scanner.demo import bulk_sources, generate_bulk
from tests.demo.conftest import TODAY
from tests.demo.textwalk import message_text


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.parent.name in ("cur", "new"))


def test_bulk_writes_the_requested_number_of_parseable_mails(tmp_path: Path) -> None:
    root = generate_bulk(tmp_path, 200, seed=9, attachments_ratio=0.5, today=TODAY)
    files = _files(root)
    assert len(files) == 200
    manifest = json.loads((root / "manifest.json").read_text())
    assert sum(b["mails"] for b in manifest["mailboxes"]) == 200
    sources = bulk_sources(root)
    assert len(sources) == 8 and all(Path(s["path"]).is_dir() and s["kind"] == "maildir" for s in sources)
    with_attachments = 0
    ids = set()
    for path in files:
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        ids.add(msg["Message-ID"])
        _, attachments = message_text(msg)  # opens every attachment
        with_attachments += attachments > 0
    assert 0.35 * 200 < with_attachments < 0.65 * 200
    assert len(ids) == 200, "Message-IDs are unique across mailboxes"
    assert 0 < sum(b["student_data"] for b in manifest["mailboxes"]) < 200


@pytest.mark.parametrize("ratio", [0.0, 1.0])
def test_attachments_ratio_extremes(tmp_path: Path, ratio: float) -> None:
    root = generate_bulk(tmp_path, 60, seed=4, attachments_ratio=ratio, teachers=2, today=TODAY)
    counts = [message_text(email.message_from_bytes(p.read_bytes(), policy=policy.default))[1] for p in _files(root)]
    assert (all(counts) if ratio else not any(counts))


def test_bulk_is_deterministic(tmp_path: Path) -> None:
    def digest(root: Path) -> list[tuple[str, str]]:
        return [(p.relative_to(root).as_posix(), hashlib.sha256(p.read_bytes()).hexdigest()) for p in _files(root)]

    a = generate_bulk(tmp_path / "a", 120, seed=5, today=TODAY)
    b = generate_bulk(tmp_path / "b", 120, seed=5, today=TODAY)
    assert digest(a) == digest(b)
