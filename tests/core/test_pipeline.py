"""The scan pipeline on real local sources: incremental triage, deletion evidence, vanished
units, per-source errors, and privacy of what it stores."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from scanner.config import load_config
from scanner.jobs import run_scan
from scanner.pipeline import ScanRunner
from scanner.store import open_store

BSN = "111222333"  # passes the 11-proef; fictional


def make_share(root: Path) -> None:
    (root / "Zorg").mkdir(parents=True)
    (root / "Groep 7").mkdir()
    (root / "Zorg" / "opp.txt").write_text(
        f"Ontwikkelingsperspectief (OPP) voor leerling Daan de Vries, groep 7.\nBSN: {BSN}\n"
        "Diagnose ADHD, medicatie via de huisarts.\n", encoding="utf-8")
    (root / "Groep 7" / "rooster.txt").write_text("Rooster groep 7: maandag gym, dinsdag muziek.\n")
    (root / "Groep 7" / "lijst.csv").write_text(f"naam;bsn\nDaan de Vries;{BSN}\n")


def configure(tmp_path: Path, sources: list[dict], database_url: str | None = None) -> object:
    data = {"state_dir": str(tmp_path / "state"), "sources": sources, "school": {"name": "Test"}}
    if database_url:
        data["database"] = {"url": database_url}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_config(path)


def quiet(_: str) -> None:
    pass


@pytest.fixture
def share(tmp_path):
    root = tmp_path / "share"
    make_share(root)
    return root


def test_incremental_runs_cost_what_changed(tmp_path, share, database_url):
    settings = configure(tmp_path, [{"name": "g", "kind": "folder", "path": str(share), "owner": "ict@s.nl",
                                     "owners": {"Zorg/*": "ib@s.nl"}}], database_url)
    store = open_store(settings)
    first = ScanRunner(settings, store).run()
    assert first.totals()["analysed"] == 3 and first.totals()["flagged"] == 2
    second = ScanRunner(settings, store).run()
    assert second.totals()["analysed"] == 0 and second.totals()["unchanged"] == 3
    (share / "Groep 7" / "rooster.txt").write_text("Rooster groep 7 aangepast, nu met gym op vrijdag.\n")
    os.remove(share / "Groep 7" / "lijst.csv")
    third = ScanRunner(settings, store).run()
    assert third.totals()["analysed"] == 1 and third.totals()["closed"] == 1
    states = {row.item_key: row.state for row in store.iter_items()}
    assert states == {"Zorg/opp.txt": "actief", "Groep 7/rooster.txt": "actief", "Groep 7/lijst.csv": "opgeruimd"}
    store.close()


def test_a_vanished_folder_closes_its_items(tmp_path, share):
    settings = configure(tmp_path, [{"name": "g", "kind": "folder", "path": str(share), "owner": "ict@s.nl"}])
    store = open_store(settings)
    ScanRunner(settings, store).run()
    shutil.rmtree(share / "Groep 7")
    summary = ScanRunner(settings, store).run()
    assert summary.totals()["closed"] == 2
    assert store.count_items(state="opgeruimd") == 2


def test_a_broken_source_does_not_stop_the_others(tmp_path, share):
    settings = configure(tmp_path, [
        {"name": "kapot", "kind": "maildir", "path": str(tmp_path / "bestaat-niet"), "owner": "a@s.nl"},
        {"name": "g", "kind": "folder", "path": str(share), "owner": "ict@s.nl"},
    ])
    lines: list[str] = []
    assert run_scan(settings, progress=False, echo=lines.append) == 0
    store = open_store(settings)
    run_id = store.runs("scan")[0]["id"]
    errors = store.source_errors(run_id)
    assert [(e["source"], e["code"]) for e in errors] == [("kapot", "not_found")]
    assert store.count_items(source="g") == 3
    assert any("kapot" in line for line in lines)


def test_nothing_detected_is_stored_in_clear(tmp_path, share):
    settings = configure(tmp_path, [{"name": "g", "kind": "folder", "path": str(share), "owner": "ict@s.nl"}])
    run_scan(settings, progress=False, echo=quiet)
    database = Path(settings.database_url.removeprefix("sqlite:///"))
    raw = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    for needle in (BSN, "111.22.333", "Daan de Vries", "ADHD", "medicatie"):
        assert needle.encode() not in raw, needle
    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        masked = conn.execute(text("select masked from findings where entity = 'NL_BSN'")).scalars().all()
    assert masked and all(m.endswith("2333") and "1112" not in m for m in masked)


def test_a_moved_file_keeps_its_history_and_is_not_deletion_evidence(tmp_path, share, database_url):
    settings = configure(tmp_path, [{"name": "g", "kind": "folder", "path": str(share), "owner": "ict@s.nl"}],
                         database_url)
    store = open_store(settings)
    first = ScanRunner(settings, store).run()
    shutil.move(share / "Groep 7" / "lijst.csv", share / "Zorg" / "lijst.csv")
    ScanRunner(settings, store).run()
    rows = sorted((row.item_key, row.state, row.first_seen_run) for row in store.iter_items())
    assert [(key, state) for key, state, _ in rows] == [
        ("Groep 7/rooster.txt", "actief"), ("Zorg/lijst.csv", "actief"), ("Zorg/opp.txt", "actief")]
    assert {k: f for k, _, f in rows}["Zorg/lijst.csv"] == first.run_id
    store.close()


def test_a_touched_file_with_the_same_bytes_is_not_analysed_again(tmp_path, share):
    settings = configure(tmp_path, [{"name": "g", "kind": "folder", "path": str(share), "owner": "ict@s.nl"}])
    store = open_store(settings)
    ScanRunner(settings, store).run()
    findings_before = store.count_items(student_data=True)
    os.utime(share / "Zorg" / "opp.txt", (1_700_000_000, 1_700_000_000))
    second = ScanRunner(settings, store).run()
    assert second.totals()["analysed"] == 1  # fetched and hashed ...
    third = ScanRunner(settings, store).run()
    assert third.totals()["analysed"] == 0  # ... and its new change key remembered
    assert store.count_items(student_data=True) == findings_before


def test_outlook_msg_files_in_an_eml_folder_are_scanned(tmp_path):
    """A folder of .msg files (a teacher's drag-and-drop archive) through the whole pipeline."""
    from tests.extract.cfb import msg_bytes

    folder = tmp_path / "archief"
    folder.mkdir()
    (folder / "klassenlijst.msg").write_bytes(
        msg_bytes("Klassenlijst", f"Hierbij de klassenlijst van groep 7 met BSN {BSN} van leerling Daan."))
    (folder / "rooster.msg").write_bytes(msg_bytes("Rooster", "Het rooster voor volgende week."))
    settings = configure(tmp_path, [{"name": "archief", "kind": "eml", "path": str(folder), "owner": "d@s.nl"}])
    store = open_store(settings)
    summary = ScanRunner(settings, store).run()
    assert summary.totals()["analysed"] == 2 and summary.totals()["item_errors"] == 0
    flagged = {row.item_key: row.student_data for row in store.iter_items()}
    titles = {row.title for row in store.iter_items()}
    assert flagged == {"klassenlijst.msg": True, "rooster.msg": False}
    assert titles == {"Klassenlijst", "Rooster"}  # subjects read from the .msg itself


def test_hostile_files_are_recorded_per_item_and_the_run_goes_on(tmp_path):
    from tests.extract.corpus import nested_bomb, pdf_bytes, zip_single_bomb

    folder = tmp_path / "share"
    folder.mkdir()
    (folder / "kapot.pdf").write_bytes(pdf_bytes(["Leerling Daan"])[:300])
    (folder / "bom.zip").write_bytes(zip_single_bomb(256))
    (folder / "42.zip").write_bytes(nested_bomb(levels=3, fanout=8, leaf_mib=16))
    (folder / "leeg.docx").write_bytes(b"")
    with open(folder / "groot.bin", "wb") as handle:
        handle.truncate(2 * 1024**3)  # a sparse 2 GB file: refused before it is read
    (folder / "lijst.csv").write_text(f"naam;bsn\nDaan de Vries;{BSN}\n", encoding="utf-8")
    settings = configure(tmp_path, [{"name": "g", "kind": "folder", "path": str(folder), "owner": "ict@s.nl"}])
    store = open_store(settings)
    summary = ScanRunner(settings, store).run()
    assert summary.status == "completed" and summary.totals()["analysed"] == 6
    codes = {row.item_key: set(row.error_codes) for row in store.iter_items()}
    flagged = {row.item_key for row in store.iter_items(student_data_only=True)}
    assert "too_large" in codes["groot.bin"]
    assert "zip_bomb" in codes["bom.zip"] and "zip_bomb" in codes["42.zip"]
    assert codes["kapot.pdf"] & {"corrupt", "repaired"}
    assert codes["leeg.docx"] & {"empty", "corrupt"}
    assert flagged == {"lijst.csv"} and not codes["lijst.csv"]


def test_a_value_in_a_subject_is_stored_masked_and_stays_masked(tmp_path):
    """Subjects are kept for the owner's digest, but a BSN or name detection found in them is
    masked before it is stored, and a later listing's raw subject does not overwrite it."""
    from email.message import EmailMessage

    folder = tmp_path / "eml"
    folder.mkdir()
    message = EmailMessage()
    message["Subject"] = f"Klassenlijst met BSN {BSN} van leerling Daan de Vries"
    message["Date"] = "Tue, 05 Mar 2019 10:00:00 +0100"
    message.set_content("Zie de bijlage.")
    message.add_attachment(f"naam;bsn\nDaan de Vries;{BSN}\n".encode(), maintype="text", subtype="csv",
                           filename=f"bsn {BSN}.csv")
    (folder / "a.eml").write_bytes(bytes(message))
    settings = configure(tmp_path, [{"name": "e", "kind": "eml", "path": str(folder), "owner": "d@s.nl"}])
    store = open_store(settings)
    for _ in range(2):
        ScanRunner(settings, store).run()
        (item,) = store.iter_items()
        title = item.title or ""
        parts = {finding["part"] for finding in store.findings_of(item.id)}
        assert BSN not in title and "Daan de Vries" not in title and title.startswith("Klassenlijst met BSN ")
        assert parts and not any(BSN in part for part in parts)
