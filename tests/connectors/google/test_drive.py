"""google_drive against the local Google fake: My Drive and shared drives, changes with a
stored page token, trashed and removed files, exports of native files within Google's limit,
Blind on a 403, throttling."""

from __future__ import annotations

import pytest

from connectors.base import ConnectorContext, ItemFetchError
from scanner.core.model import Blind
from tests.crawling import crawl_all

from .conftest import ADMIN, drive_connector

JANSEN = "jansen@school.nl"
DOC = "application/vnd.google-apps.document"
SHEET = "application/vnd.google-apps.spreadsheet"
SHARED = [{"id": "0AzorgDrive", "name": "Zorg"}]


def school(fake):
    fake.add_user(JANSEN)
    fake.add_user("pieters@school.nl")
    d = fake.drive
    d.add_shared_drive("0AzorgDrive", "Zorg", {ADMIN})
    return {
        "list": d.add_file("Klas 3B/lijst.csv", b"naam;bsn\nDaan;111222333\n", owner=JANSEN),
        "doc": d.add_file("Klas 3B/Verslagen/OPP Daan", b"PK-docx-bytes", owner=JANSEN, mime=DOC),
        "sheet": d.add_file("Cijfers", b"PK-xlsx-bytes", owner=JANSEN, mime=SHEET),
        "form": d.add_file("Enquete", b"", owner=JANSEN, mime="application/vnd.google-apps.form"),
        "other": d.add_file("rooster.txt", b"rooster", owner="pieters@school.nl"),
        "zorg": d.add_file("2020/dossier.pdf", b"%PDF-1.4 dossier", drive_id="0AzorgDrive"),
    }


def test_full_listing_of_my_drive_and_a_shared_drive(fake, key_file, clock) -> None:
    files = school(fake)
    result = crawl_all(drive_connector(fake, key_file, clock, users=[JANSEN], shared_drives=SHARED, page_size=2))
    assert not result.errors
    refs = {r.item_key: r for r in result.seen()}
    assert set(refs) == {files[k].id for k in ("list", "doc", "sheet", "zorg")}
    doc = refs[files["doc"].id]
    assert (doc.folder, doc.title, doc.owner, doc.size) == ("Klas 3B/Verslagen", "OPP Daan.docx", JANSEN, None)
    assert doc.link == f"https://drive.google.com/file/d/{files['doc'].id}/view?usp=drivesdk"
    assert refs[files["list"].id].change_key == __import__("hashlib").md5(files["list"].content).hexdigest()
    assert refs[files["zorg"].id].unit_key == "gedeeld:Zorg" and refs[files["zorg"].id].folder == "2020"
    # folder paths come from the listing; only the two roots are looked up, once each
    assert len(fake.logged(r"^/drive/v3/files/[^/]+$")) == 2
    queries = [q for _, _, q, _ in fake.logged(r"^/drive/v3/files$")]
    assert any("corpora=drive" in q and "includeItemsFromAllDrives=true" in q and "supportsAllDrives=true" in q
               for q in queries)


def test_changes_give_new_changed_trashed_and_removed(fake, key_file, clock) -> None:
    files = school(fake)
    connector = drive_connector(fake, key_file, clock, users=[JANSEN], shared_drives=SHARED, page_size=2)
    first = crawl_all(connector)
    d = fake.drive
    d.modify(files["list"].id, b"naam;bsn\nDaan;111222333\nSanne;123456782\n")
    d.modify(files["doc"].id, b"PK-docx-bytes-2")
    d.trash(files["sheet"].id)
    d.delete(files["zorg"].id)
    new = d.add_file("Klas 3B/nieuw.txt", b"nieuw", owner=JANSEN)
    d.modify(files["other"].id, b"rooster 2")  # someone else's file: not in jansen's changes
    second = crawl_all(connector, first.cursors)
    assert not second.errors
    assert sorted(r.item_key for r in second.seen()) == sorted([files["list"].id, files["doc"].id, new.id])
    assert sorted(second.gone()) == sorted([files["sheet"].id, files["zorg"].id])
    changed = {r.item_key: r.change_key for r in second.seen()}
    before = {r.item_key: r.change_key for r in first.seen()}
    assert changed[files["doc"].id] != before[files["doc"].id]
    assert next(r for r in second.seen() if r.item_key == new.id).folder == "Klas 3B"
    assert crawl_all(connector, second.cursors).seen() == []


def test_refused_page_token_resyncs(fake, key_file, clock) -> None:
    school(fake)
    connector = drive_connector(fake, key_file, clock, users=[JANSEN])
    result = crawl_all(connector, {f"{JANSEN}/Mijn Drive": '{"changes":"bogus"}'})
    assert list(result.resyncs) == [f"{JANSEN}/Mijn Drive"] and len(result.seen()) == 3


def test_export_and_download_within_limits(fake, key_file, clock) -> None:
    files = school(fake)
    big = fake.drive.add_file("Groot verslag", b"PK-big", owner=JANSEN, mime=DOC, export_size=11 * 1024 * 1024)
    connector = drive_connector(fake, key_file, clock, ConnectorContext(max_item_bytes=1000), users=[JANSEN])
    refs = {r.item_key: r for r in crawl_all(connector).seen()}
    doc = connector.fetch(refs[files["doc"].id])
    assert doc.data == b"PK-docx-bytes" and doc.media_type.endswith("wordprocessingml.document")
    assert connector.fetch(refs[files["sheet"].id]).media_type.endswith("spreadsheetml.sheet")
    assert connector.fetch(refs[files["list"].id]).data == files["list"].content
    exports = [q for _, _, q, _ in fake.logged(r"/export$")]
    assert any("mimeType=application%2Fvnd.openxmlformats" in q for q in exports)
    with pytest.raises(ItemFetchError) as error:
        connector.fetch(refs[big.id])
    assert error.value.code == "too_large"
    fake.drive.add_file("video.mp4", b"x" * 5000, owner=JANSEN, mime="video/mp4")
    large = next(r for r in crawl_all(connector).seen() if r.title == "video.mp4")
    before = len(fake.logged(r"^/drive/v3/files/"))
    with pytest.raises(ItemFetchError) as error:
        connector.fetch(large)
    assert error.value.code == "too_large" and len(fake.logged(r"^/drive/v3/files/")) == before


def test_a_403_on_a_shared_drive_is_blind_and_keeps_the_cursor(fake, key_file, clock) -> None:
    school(fake)
    connector = drive_connector(fake, key_file, clock, users=[JANSEN], shared_drives=SHARED)
    first = crawl_all(connector)
    fake.drive.forbidden.add((ADMIN, "0AzorgDrive"))
    second = crawl_all(connector, first.cursors)
    assert not second.errors
    blind = second.blind()
    assert len(blind) == 1 and blind[0].item_prefix == "" and blind[0].code == "access_denied"
    assert isinstance(blind[0], Blind)
    assert second.cursors["gedeeld:Zorg"] == first.cursors["gedeeld:Zorg"]


def test_rate_limits_are_retried(fake, key_file, clock) -> None:
    files = school(fake)
    clean = crawl_all(drive_connector(fake, key_file, clock, users=[JANSEN], shared_drives=SHARED, page_size=2))
    fake.inject("403user", r"^/drive/v3/files$", times=2, retry_after="5")
    fake.inject("429", r"^/drive/v3/changes/startPageToken$", times=1)
    fake.inject("503", r"^/drive/v3/files$", times=1)
    connector = drive_connector(fake, key_file, clock, users=[JANSEN], shared_drives=SHARED, page_size=2)
    faulty = crawl_all(connector)
    assert not faulty.errors and faulty.snapshot() == clean.snapshot()
    assert clock.waits.count(5.0) == 2
    ref = next(r for r in faulty.seen() if r.item_key == files["doc"].id)
    fake.inject("403rate", r"/export$", times=1)
    assert connector.fetch(ref).data == b"PK-docx-bytes"
