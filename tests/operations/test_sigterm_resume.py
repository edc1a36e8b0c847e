"""The real service process: ``python -m scanner.cli schedule`` picks up a scan missed while it
was down, gets SIGTERM in the middle of it, checkpoints (run ``interrupted``) and exits 0;
a following ``scan`` completes the same run with exactly the result of an uninterrupted scan."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from scanner.config import load_config
from scanner.jobs import demo_settings, run_scan
from scanner.scheduling import ScheduleService
from scanner.store import open_store
from tests.operations.conftest import FakeClock
from tests.services.stored import item_count, snapshot

pytestmark = pytest.mark.slow




def write_config(tmp_path: Path, name: str, corpus, secret: Path, **extra) -> Path:
    data = demo_settings(tmp_path / name, corpus)
    data["secret_file"] = str(secret)
    data["executor"] = {"batch_size": 2}
    data.update(extra)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_sigterm_mid_scan_checkpoints_and_the_next_scan_completes_it(tmp_path):
    from scanner.demo import generate_demo

    corpus = generate_demo(tmp_path / "bronnen", mails_per_teacher=25)
    secret = tmp_path / "hmac.key"
    secret.write_text("cd" * 32)
    reference = load_config(write_config(tmp_path, "reference", corpus, secret))
    assert run_scan(reference, progress=False, echo=lambda _: None) == 0
    expected = snapshot(reference)
    total = len(expected[0])
    assert total > 50

    config_path = write_config(tmp_path, "service", corpus, secret, schedule={
        "scan": "* * * * *", "digest": "off", "report": "off", "misfire_grace_seconds": 3600})
    settings = load_config(config_path)
    # The service was last up ten minutes ago: its stored scan is due now (a missed run).
    store = open_store(settings)
    past = ScheduleService(settings, store.engine, clock=FakeClock(datetime.now(UTC) - timedelta(minutes=10)),
                           actions={})
    past.start()
    past.shutdown()
    store.close()

    log_path = tmp_path / "service.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "scanner.cli", "--json-logs", "schedule", "--config", str(config_path)],
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=log_file, stderr=subprocess.STDOUT)
        signalled = False
        deadline = time.monotonic() + 300
        while process.poll() is None and time.monotonic() < deadline:
            # As soon as the first results are stored (the first batch of a run is written at
            # once): later writes gather up to half a second of results, so waiting for a
            # quarter of the items could find the analysis already finished.
            if item_count(settings.database_url) > 0:
                process.send_signal(signal.SIGTERM)
                signalled = True
                break
            time.sleep(0.05)
        code = process.wait(timeout=180)
    output = log_path.read_text(encoding="utf-8", errors="replace")
    assert signalled, "the service never got far enough into the scan to be stopped:\n" + output[-3000:]
    assert code == 0, output[-3000:]
    items, _, runs = snapshot(settings)
    assert [status for _, status in runs] == ["interrupted"], output[-3000:]
    assert 0 < len(items) < total, "the stop came too late to interrupt anything"
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    messages = [r["message"] for r in records]
    assert any("missed runs coalesced" in m for m in messages)
    assert any("stop signal" in m for m in messages)
    assert any(m.startswith("scan: ") and "interrupted" in m for m in messages)

    finish = subprocess.run([sys.executable, "-m", "scanner.cli", "scan", "--config", str(config_path),
                             "--no-progress"], capture_output=True, text=True, timeout=600)
    assert finish.returncode == 0, finish.stdout + finish.stderr
    items, findings, runs = snapshot(settings)
    assert items == expected[0]
    assert findings == expected[1], "findings lost or duplicated"
    assert [status for _, status in runs] == ["completed"], "the interrupted run is resumed, not restarted"
