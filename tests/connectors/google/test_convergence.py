"""google_mail through the real pipeline (scanner.pipeline.ScanRunner): a run with faults
(throttled and failing requests, an expired historyId, a dropped connection) followed by a
clean run leaves the store equal to the store of one clean run over the same mailboxes."""

from __future__ import annotations

from datetime import UTC, datetime

from scanner.pipeline import ScanRunner
from scanner.store import Store
from tests.convergence import assert_converged, store_snapshot
from tests.pipeline.conftest import settings_for

from .conftest import connection
from .test_mail import JANSEN, PIETERS

TODAY = datetime(2026, 12, 1, 12, tzinfo=UTC)
FAST_RETRY = {"max_attempts": 2, "backoff_base_seconds": 0.01, "backoff_max_seconds": 0.02}
BSN = "Klassenlijst groep 7\nNaam;BSN\nDaan de Vries;111222333\n"


def source(fake, key_file):
    return [{"name": "gmail", "kind": "google_mail", "users": [JANSEN, PIETERS], "page_size": 2,
             "retry": FAST_RETRY, **connection(fake, key_file)}]


def run(settings, store) -> None:
    ScanRunner(settings, store, today=TODAY, progress=None).run()


def test_faults_in_run_one_then_a_clean_run_equals_a_clean_store(tmp_path, fake, key_file) -> None:
    fake.add_user(JANSEN)
    fake.add_user(PIETERS)
    zorg = fake.add_label(JANSEN, "Zorg")
    m = {}
    for i in range(5):
        m[f"j{i}"] = fake.add_message(JANSEN, f"Bericht {i}", ("INBOX",) if i % 2 else (zorg,),
                                      body=BSN if i % 2 else "Het rooster staat online.",
                                      received=f"2019-0{i + 1}-02T08:00:00Z")
    for i in range(3):
        m[f"p{i}"] = fake.add_message(PIETERS, f"Verzuim {i}", ("INBOX",), body=BSN,
                                      received="2018-05-02T08:00:00Z")
    settings = settings_for(tmp_path, source(fake, key_file), name="faulty")
    store = Store(settings.database_url)
    run(settings, store)
    assert len(store_snapshot(store)) == 8

    # The night's changes, while Google misbehaves.
    fake.delete_message(JANSEN, m["j1"].id)
    fake.relabel(JANSEN, m["j2"].id, add=("TRASH",), remove=(zorg,))
    new = fake.add_message(JANSEN, "Nieuw zorgbericht", (zorg,), body=BSN, received="2020-01-02T08:00:00Z")
    fake.delete_message(PIETERS, m["p0"].id)
    fake.add_message(PIETERS, "Nieuw verzuim", ("INBOX",), body=BSN, received="2020-02-02T08:00:00Z")
    fake.expire_history(PIETERS)  # the gap: p0 was deleted while the history expired
    fake.inject("503", rf"/users/{PIETERS}/messages$", times=1000)  # the resync listing fails
    fake.inject("429", rf"/messages/{new.id}$", times=1000, query="format=raw")  # fetch: item error
    fake.inject("403user", r"/messages/", times=1, query="format=metadata")  # retried within the budget
    fake.inject("drop", rf"/users/{JANSEN}/history$", times=1)
    run(settings, store)
    assert all(f.times == 0 for f in fake.faults if f.times < 900)
    after_faults = store_snapshot(store)
    assert ("gmail", f"{PIETERS}:{m['p0'].id}") in after_faults  # the failed unit closed nothing
    assert any(item["error_codes"] for item in after_faults.values())  # throttled fetches recorded
    fake.faults.clear()
    run(settings, store)

    clean_settings = settings_for(tmp_path, source(fake, key_file), name="clean")
    clean = Store(clean_settings.database_url)
    run(clean_settings, clean)
    expected = store_snapshot(clean)
    assert len(expected) == 8
    assert_converged(store_snapshot(store), expected)
    assert ("gmail", f"{PIETERS}:{m['p0'].id}") not in store_snapshot(store)
    assert any(item["student_data"] for item in expected.values())


def docx_bytes(text: str) -> bytes:
    import io

    import docx

    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def drive_source(fake, key_file):
    return [{"name": "gdrive", "kind": "google_drive", "users": [JANSEN, PIETERS], "page_size": 2,
             "shared_drives": [{"id": "0AzorgDrive", "name": "Zorg", "owner": "ib@school.nl"}],
             "retry": FAST_RETRY, **connection(fake, key_file)}]


def test_drive_faults_in_run_one_then_a_clean_run_equals_a_clean_store(tmp_path, fake, key_file) -> None:
    from .conftest import ADMIN

    fake.add_user(JANSEN)
    fake.add_user(PIETERS)
    d = fake.drive
    d.add_shared_drive("0AzorgDrive", "Zorg", {ADMIN})
    doc = "application/vnd.google-apps.document"
    f = {
        "list": d.add_file("Klas 3B/lijst.csv", BSN.encode(), owner=JANSEN),
        "opp": d.add_file("Klas 3B/OPP Daan", docx_bytes(BSN), owner=JANSEN, mime=doc),
        "rooster": d.add_file("rooster.txt", b"Het rooster staat online.", owner=JANSEN),
        "p": d.add_file("verzuim.csv", ("Verzuim\n" + BSN).encode(), owner=PIETERS),
        "zorg": d.add_file("2020/dossier.txt", ("Dossier\n" + BSN).encode(), drive_id="0AzorgDrive"),
        "zorg2": d.add_file("2021/notitie.txt", b"Notitie: OPP besproken.", drive_id="0AzorgDrive"),
    }
    settings = settings_for(tmp_path, drive_source(fake, key_file), name="faulty")
    store = Store(settings.database_url)
    run(settings, store)
    assert len(store_snapshot(store)) == 6

    d.modify(f["rooster"].id, ("Rooster\n" + BSN).encode())
    d.trash(f["list"].id)
    new = d.add_file("Klas 3B/Verslag", docx_bytes("Verslag: " + BSN), owner=JANSEN, mime=doc)
    d.delete(f["zorg2"].id)
    d.add_file("2022/nieuw.txt", ("Nieuw\n" + BSN).encode(), drive_id="0AzorgDrive")
    fake.drive.forbidden.add((ADMIN, "0AzorgDrive"))  # the shared drive answers 403 this night
    fake.inject("429", rf"/files/{new.id}/export$", times=1000)  # export throttled past the budget
    fake.inject("503", r"^/drive/v3/changes$", times=1)  # retried within the budget
    fake.inject("drop", rf"^/drive/v3/files/{f['rooster'].id}$", times=1)
    run(settings, store)
    after_faults = store_snapshot(store)
    assert ("gdrive", f["zorg2"].id) in after_faults  # blind: nothing closed in the shared drive
    assert any(item["error_codes"] for item in after_faults.values())
    fake.faults.clear()
    fake.drive.forbidden.clear()
    run(settings, store)

    clean_settings = settings_for(tmp_path, drive_source(fake, key_file), name="clean")
    clean = Store(clean_settings.database_url)
    run(clean_settings, clean)
    expected = store_snapshot(clean)
    assert len(expected) == 6
    assert_converged(store_snapshot(store), expected)
    assert expected[("gdrive", new.id)]["student_data"]
