"""``schoonschip serve`` as IT starts it: the real command, its configuration, a free port;
it answers /healthz, shows a link's page, logs no link, and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import yaml

from scanner.answers.web import codec_for
from scanner.core.privacy import load_installation_secret
from scanner.store import open_store
from tests.answers.browser_helpers import free_port
from tests.answers.helpers import OWNER, flagged, settings_for


def test_serve_runs_answers_and_stops(tmp_path):
    port = free_port()
    settings = settings_for(tmp_path, answers_port=port)
    store = open_store(settings)
    codec = codec_for(settings, load_installation_secret(settings.secret_path, store))
    ids = flagged(store, settings, ["a.txt"])
    store.close()
    config = tmp_path / "school.yaml"
    config.write_text(yaml.safe_dump({
        "school": {"name": "De Proefschool"}, "state_dir": str(tmp_path / "data"),
        "sources": [{"name": "gedeeld", "kind": "folder", "path": str(tmp_path / "share"), "owner": OWNER}],
        "answers": {"public_url": f"http://127.0.0.1:{port}", "port": port},
    }), encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "scanner.cli", "serve", "--config", str(config)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert response.read() == b"ok"
                break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        token = codec.make(OWNER, "verwijderen", ids)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/a/{token}", timeout=5) as response:
            page = response.read().decode()
            assert response.headers["Server"] is None
        assert "Verwijderen bevestigen" in page and "a.txt" in page
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    # uvicorn shuts down cleanly and then re-raises the signal, as a process killed by it
    # would end (systemd counts SIGTERM as a clean stop)
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert token not in output and "/a/" not in output
