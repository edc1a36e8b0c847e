"""The command line as IT uses it: analyze without a config, scan/export/status/explain with
one, Dutch by default and English on request, clear exit codes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
import yaml

from scanner.i18n import t

BSN = "111222333"


def cli(*args: str, stdin: str | None = None, env_lang: str | None = None) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ}
    env.pop("SCHOONSCHIP_LANG", None)
    if env_lang:
        env["SCHOONSCHIP_LANG"] = env_lang
    return subprocess.run([sys.executable, "-m", "scanner.cli", *args], input=stdin, capture_output=True,
                          text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    root = tmp_path_factory.mktemp("school")
    share = root / "share" / "Zorg"
    share.mkdir(parents=True)
    (share / "klassenlijst.csv").write_text(f"naam;bsn\nDaan de Vries;{BSN}\n", encoding="utf-8")
    (share / "rooster.txt").write_text("Rooster: maandag gym.\n", encoding="utf-8")
    config = root / "school.yaml"
    config.write_text(yaml.safe_dump({
        "state_dir": "data",
        "sources": [{"name": "gedeeld", "kind": "folder", "path": "share", "owner": "ib@school.nl"}],
    }), encoding="utf-8")
    result = cli("scan", "--config", str(config), "--no-progress")
    assert result.returncode == 0, result.stderr
    return root, config, result


def test_analyze_json_shows_masked_values_only(tmp_path):
    path = tmp_path / "lijst.csv"
    path.write_text(f"naam;BSN\nDaan de Vries;{BSN}\n", encoding="utf-8")
    result = cli("analyze", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["path"] == str(path) and document["student_data"] is True
    assert {"entity", "part", "start", "end", "score", "masked"} <= set(document["findings"][0])
    assert "identificatie" in document["categories"]
    assert BSN not in result.stdout + result.stderr


def test_analyze_jsonl_answers_in_input_order():
    lines = '{"id": 1, "text": "BSN 111222333 van leerling Daan"}\nkapot\n{"id": 2, "text": "Rooster"}\n'
    result = cli("analyze", "--input", "jsonl", "--format", "json", stdin=lines)
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["id"] for a in answers] == [1, "regel 2", 2]
    assert answers[0]["student_data"] and answers[1]["errors"][0]["code"] == "bad_input"


def test_scan_summary_is_dutch_and_stores_no_values(school):
    root, _, result = school
    assert "items gezien" in result.stdout and "met leerlinggegevens" in result.stdout
    raw = b"".join(p.read_bytes() for p in (root / "data").glob("schoonschip.sqlite*"))
    assert BSN.encode() not in raw


def test_export_csv_and_jsonl(school):
    _, config, _ = school
    result = cli("export", "--config", str(config), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["folder"] for r in rows] == ["Zorg"]
    assert rows[0]["retention_status"] in {"ok", "binnenkort", "verlopen"}
    assert "NL_BSN=1" in rows[0]["entity_counts"]
    jsonl = cli("export", "--config", str(config), "--format", "jsonl")
    assert json.loads(jsonl.stdout.splitlines()[0])["owner"] == "ib@school.nl"


def test_retention_explain_and_status(school):
    _, config, _ = school
    item = json.loads(cli("export", "--config", str(config)).stdout.splitlines()[0])["item_id"]
    explain = cli("retention", "explain", item[:10], "--config", str(config))
    assert explain.returncode == 0, explain.stderr
    assert "Regel 'zorgmappen'" in explain.stdout and "2029" in explain.stdout  # Zorg share: 2 years
    status = cli("status", "--config", str(config))
    assert status.returncode == 0 and "Laatste scans" in status.stdout


def test_english_on_request(school):
    _, config, _ = school
    assert "Analyse files" in cli("--lang", "en", "--help").stdout
    assert "Analyseer bestanden" in cli("--help").stdout
    assert "items seen" in cli("--lang", "en", "scan", "--config", str(config), "--no-progress").stdout
    assert "Analyse files" in cli("--help", env_lang="en").stdout


def test_invalid_config_is_one_clear_error(tmp_path):
    config = tmp_path / "kapot.yaml"
    config.write_text("sources:\n  - {name: a, kind: maildir, owner: x@y.nl, pad: /tmp}\n", encoding="utf-8")
    result = cli("scan", "--config", str(config))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert str(config) in result.stderr and "sources[0] (a).pad" in result.stderr


def test_check_lists_units_and_init_writes_an_example(tmp_path, school):
    _, config, _ = school
    check = cli("check", "--config", str(config))
    assert check.returncode == 0 and "gedeeld (folder)" in check.stdout
    import detectors  # the same decision the check's process made: compiled or why not

    assert t(f"check.compiled.{detectors.COMPILED.reason}", lang="nl") in check.stdout
    target = tmp_path / "nieuw.yaml"
    assert cli("init", str(target)).returncode == 0
    assert "sources:" in target.read_text(encoding="utf-8")


def test_demo_runs_again_in_the_same_folder_and_refuses_a_foreign_one(tmp_path):
    out = tmp_path / "demo"
    for _ in range(2):
        result = cli("demo", "--out", str(out), "--mails", "10")
        assert result.returncode == 0, result.stderr[-2000:]
        assert "Demo klaar" in result.stdout
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "belangrijk.txt").write_text("niet weggooien")
    refused = cli("demo", "--out", str(foreign))
    assert refused.returncode == 2 and "niet leeg" in refused.stdout
    assert (foreign / "belangrijk.txt").exists()
