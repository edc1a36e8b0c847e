"""Shared fixtures for the executor tests: one small demo corpus, one HMAC key, and the
snapshot of an inline run over it, against which every pool and Dask run is compared."""

from __future__ import annotations

from datetime import date

import pytest

from tests.executors.helpers import Reference, run_config, snapshot

TODAY = date(2026, 11, 22)


@pytest.fixture(scope="session")
def reference(tmp_path_factory) -> Reference:
    """Corpus, key and the stored result of a plain inline scan (the expected outcome)."""
    from scanner.demo import generate_demo
    from scanner.jobs import run_scan

    root = tmp_path_factory.mktemp("executors")
    corpus = generate_demo(root / "bronnen", mails_per_teacher=20, today=TODAY)
    secret = root / "hmac.key"
    secret.write_text("cd" * 32, encoding="utf-8")
    ref = Reference(root=root, corpus=corpus, secret=secret, expected=None)
    settings, url = run_config(ref, "inline", {"kind": "inline"})
    assert run_scan(settings, progress=False, echo=lambda _: None) == 0
    ref.expected = snapshot(settings)
    assert len(ref.expected.items) > 60 and ref.expected.findings
    return ref

