"""Digests and reports take the database lock like a scan: two digests at once must not both
send (they sent 23 mails to 12 teachers), and a report must not count half a scan."""

from __future__ import annotations

from scanner.core.exitcodes import ExitCode
from scanner.jobs import run_digest, run_report
from scanner.store import Store
from scanner.store.lock import acquire
from tests.operations.conftest import make_settings


def test_digest_and_report_wait_for_a_running_job(tmp_path) -> None:
    settings = make_settings(tmp_path)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.database_url)
    held = acquire(store, "scan")  # a scan (or another digest) is running
    lines: list[str] = []
    try:
        assert run_digest(settings, echo=lines.append) == ExitCode.LOCKED
        assert run_report(settings, out_dir=tmp_path / "rapport", echo=lines.append) == ExitCode.LOCKED
    finally:
        held.release()
    assert len(lines) == 2 and all("pid" in line for line in lines)
    assert store.deliveries() == []  # nothing was sent or recorded
    assert not (tmp_path / "rapport").exists()
    assert run_digest(settings, echo=lines.append) == ExitCode.OK  # free again
    assert run_report(settings, out_dir=tmp_path / "rapport", echo=lines.append) == ExitCode.OK
