"""A copied database alone reveals no person (issue 16, item 5).

A real scan over a mail folder and a share whose subjects, file names, folder names and owners
name pupils and teachers; then the SQLite file alone is read byte for byte for every planted
string (none may appear), and with the key the digest still shows the items, masked, with
links that open them. Also: a missing or wrong key is refused in one line and never
regenerated; rotation re-encrypts every value and is atomic.
"""

from __future__ import annotations

import os
import shutil
import unicodedata
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from reports.digest import link_target, masked_path, render_digest
from scanner.config import load_config
from scanner.pipeline import ScanRunner
from scanner.reporting import teacher_digests
from scanner.store import StoreKeyError, open_store
from scanner.store.keys import rotate_key
from scanner.store.schema import ENCRYPTED

BSN = "111222333"  # passes the 11-proef; fictional
MAIL_OWNER = "annemarie.verbeek@school.nl"
SHARE_OWNER = "bram.kuijpers@school.nl"
SUBJECT = "Onderwijskundig rapport Esmee Huisman"
MAIL_FILE = "Onderwijskundig rapport Esmee Huisman (67).eml"
PLAN_FILE = "Handelingsplan Amira Öztürk.txt"
PUPIL_FOLDER = "Dossier Amira Öztürk"
SHARE_ROOT = "Zorgmap Verbeek"
PLANTED = [SUBJECT, MAIL_FILE, PLAN_FILE, PUPIL_FOLDER, SHARE_ROOT, MAIL_OWNER, SHARE_OWNER,
           "Esmee Huisman", "Amira Öztürk", "Huisman", "Öztürk", "Handelingsplan Amira", "annemarie.verbeek",
           "bram.kuijpers"]


def plant(tmp_path: Path):
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    message = EmailMessage()
    message["Subject"] = SUBJECT
    message["From"] = MAIL_OWNER
    message["Date"] = "Tue, 05 Mar 2019 10:00:00 +0100"
    message.set_content(f"Bijgaand het onderwijskundig rapport van leerling Esmee Huisman (groep 8).\n"
                        f"BSN {BSN}. Zij heeft een OPP en dyslexie.\n")
    (mail_dir / MAIL_FILE).write_bytes(bytes(message))
    share = tmp_path / SHARE_ROOT
    (share / PUPIL_FOLDER).mkdir(parents=True)
    plan = share / PUPIL_FOLDER / PLAN_FILE
    plan.write_text(f"Handelingsplan voor leerling Amira Öztürk, groep 6.\nBSN: {BSN}\n"
                    "Zorgniveau 3, overleg met de intern begeleider, faalangst.\n", encoding="utf-8")
    old = datetime(2017, 3, 1, tzinfo=UTC).timestamp()
    os.utime(plan, (old, old))
    roster = tmp_path / "leerlingen.csv"
    roster.write_text("roepnaam;achternaam\nEsmee;Huisman\nAmira;Öztürk\n", encoding="utf-8")
    data = {
        "state_dir": str(tmp_path / "state"),
        "school": {"name": "Test"},
        "detection": {"roster": {"path": str(roster)}},
        "sources": [
            {"name": "post", "kind": "eml", "path": str(mail_dir), "owner": MAIL_OWNER},
            {"name": "schijf", "kind": "folder", "path": str(share), "owner": SHARE_OWNER},
        ],
    }
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_config(config), plan


def forms(value: str) -> set[bytes]:
    """Every byte form a copied file could hold the value in (UTF-8 in both Unicode normal
    forms, case-folded, and UTF-16 for good measure)."""
    out = set()
    for variant in {value, value.lower(), value.upper()}:
        for form in ("NFC", "NFD"):
            normal = unicodedata.normalize(form, variant)
            out |= {normal.encode("utf-8"), normal.encode("utf-16-le")}
    return out


@pytest.fixture
def scanned(tmp_path):
    settings, plan = plant(tmp_path)
    store = open_store(settings)
    summary = ScanRunner(settings, store).run()
    assert summary.status == "completed"
    store.close()  # the last connection checkpoints the WAL into the file
    return settings, plan


def test_a_copied_database_file_reveals_no_person_and_the_key_still_opens_the_digest(scanned, tmp_path):
    settings, plan = scanned
    database = Path(settings.database_url.removeprefix("sqlite:///"))
    copy = tmp_path / "gekopieerd.sqlite"
    shutil.copyfile(database, copy)
    data = copy.read_bytes()
    for leftover in database.parent.glob(database.name + "-*"):  # a WAL the close left behind
        data += leftover.read_bytes()
    assert len(data) > 10_000
    for value in PLANTED:
        for form in forms(value):
            assert form not in data, f"{value!r} staat leesbaar in de database"

    # with the key: the items are there, the digest masks the names and its links open the items
    store = open_store(settings)
    assert store.count_items(student_data=True) == 2
    assert store.count_items(owner=SHARE_OWNER) == 1
    digests = {d.owner: d for d in teacher_digests(store, settings)}
    assert set(digests) == {MAIL_OWNER, SHARE_OWNER}
    (mail,) = digests[MAIL_OWNER].items
    # masked by the worker before it was stored (redact: "E************"), or by the digest's
    # own masking of what the findings hold ("E*** H***", test_digest_mask)
    assert mail.title.startswith("Onderwijskundig rapport E*") and "Esmee" not in mail.title
    assert "Huisman" not in mail.title
    (file,) = digests[SHARE_OWNER].items
    assert "Öztürk" not in file.title and "Amira" not in file.title and file.title.startswith("Handelingsplan A***")
    assert "Öztürk" not in file.folder and file.folder.startswith("Dossier A***")
    href, _ = link_target(file.link)
    assert href is not None and Path(unquote(urlsplit(href).path)) == plan and plan.exists()
    rendered = render_digest(digests[SHARE_OWNER])
    assert rendered is not None
    assert "Öztürk" not in rendered.text.replace(str(plan), "")  # shown masked; only the link holds the path
    # the shown path: the found names masked in all of it (link_text, "A*** Ö***"), then its
    # last components replaced by the stored, worker-masked folder and title
    assert file.link_text is not None and "A*** Ö***" in file.link_text
    shown = masked_path(file.link_text, file.folder, file.title)
    assert shown in rendered.text and "Amira" not in shown and "Öztürk" not in shown
    assert shown.endswith(f"{file.folder}/{file.title}")
    store.close()


def test_every_encrypted_column_holds_ciphertext_only(scanned):
    settings, _ = scanned
    store = open_store(settings)
    with store.engine.connect() as conn:
        for table, columns in ENCRYPTED.items():
            for column in columns:
                values = [v for v in conn.execute(text(f"select {column} from {table}")).scalars() if v is not None]
                assert all(v.startswith(("e1:", "d1:")) for v in values), (table, column)
        assert conn.execute(text("select count(*) from units")).scalar() >= 2
    assert store.unit_keys("post") and all(isinstance(key, str) and not key.startswith(("e1:", "d1:"))
                                           for key in store.unit_keys("schijf"))
    store.close()


def test_a_missing_key_is_refused_in_one_line_and_never_regenerated(scanned):
    settings, _ = scanned
    key = settings.key_path.read_bytes()
    settings.key_path.unlink()
    with pytest.raises(StoreKeyError) as info:
        open_store(settings)
    assert "\n" not in str(info.value) and "store.key" in str(info.value)
    assert not settings.key_path.exists()  # nothing regenerated
    # ... nor by a scan (the command a cron job runs)
    with pytest.raises(StoreKeyError):
        ScanRunner(settings).run()
    assert not settings.key_path.exists()
    # a key of another installation is refused too
    settings.key_path.write_text(os.urandom(64).hex() + "\n", encoding="ascii")
    with pytest.raises(StoreKeyError) as info:
        open_store(settings)
    assert "hoort niet bij deze database" in str(info.value)
    settings.key_path.write_bytes(key)
    store = open_store(settings)
    assert store.count_items() == 2
    store.close()
    # a missing HMAC secret (the item ids) is refused the same way
    secret = settings.secret_path.read_bytes()
    settings.secret_path.unlink()
    with pytest.raises(StoreKeyError):
        open_store(settings)
    assert not settings.secret_path.exists()
    settings.secret_path.write_bytes(secret)


def snapshot(store) -> list[tuple]:
    return sorted((r.id, r.item_key, r.unit_key, r.owner, r.folder, r.title, r.link) for r in store.iter_items())


def test_rotation_reencrypts_every_value_and_the_next_scan_carries_on(scanned):
    settings, _ = scanned
    store = open_store(settings)
    before = snapshot(store)
    with store.engine.connect() as conn:
        raw_before = conn.execute(text("select owner, title from items order by id")).all()
    old_id, new_id, rows = rotate_key(store.engine, store.keys_in_use(), ENCRYPTED)
    store.close()
    assert old_id != new_id and rows > 4
    assert [p.name for p in settings.key_path.parent.glob("store.key*")] != ["store.key"]
    assert (settings.key_path.parent / f"store.key.old-{old_id}").exists()
    store = open_store(settings)
    assert snapshot(store) == before
    with store.engine.connect() as conn:
        raw_after = conn.execute(text("select owner, title from items order by id")).all()
    assert all(a[0] != b[0] and a[1] != b[1] for a, b in zip(raw_before, raw_after, strict=True))
    summary = ScanRunner(settings, store).run()  # unchanged: nothing analysed again, nothing closed
    assert summary.status == "completed"
    assert sum(s.analysed for s in summary.sources.values()) == 0
    assert store.count_items(state="actief") == 2
    store.close()


def test_an_interrupted_rotation_leaves_the_store_on_one_key(scanned, monkeypatch):
    settings, _ = scanned
    store = open_store(settings)
    before = snapshot(store)
    keys = store.keys_in_use()
    import scanner.store.keys as keys_module

    def crash(*_args, **_kwargs):
        raise KeyboardInterrupt

    # killed inside the transaction: the database stays on the old key, the new key is dropped
    monkeypatch.setattr(keys_module, "set_meta", crash)
    with pytest.raises(KeyboardInterrupt):
        rotate_key(store.engine, keys, ENCRYPTED)
    monkeypatch.undo()
    store.close()
    assert (settings.key_path.parent / "store.key.new").exists()
    store = open_store(settings)
    assert snapshot(store) == before
    assert not (settings.key_path.parent / "store.key.new").exists()
    # killed after the commit, before the key file moved: the next open finishes the move
    monkeypatch.setattr(keys_module, "_promote", crash)
    with pytest.raises(KeyboardInterrupt):
        rotate_key(store.engine, store.keys_in_use(), ENCRYPTED)
    monkeypatch.undo()
    store.close()
    store = open_store(settings)
    assert snapshot(store) == before
    assert not (settings.key_path.parent / "store.key.new").exists()
    store.close()


def test_the_cli_rotates_the_key_and_refuses_a_missing_one_in_one_line(scanned, capsys):
    from scanner.cli import main

    settings, _ = scanned
    config = str(settings.config_file)
    with pytest.raises(SystemExit) as done:
        main(["key", "rotate", "-c", config])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "opnieuw versleuteld" in out and "store.key.old-" in out
    store = open_store(settings)
    assert store.count_items(student_data=True) == 2
    store.close()
    settings.key_path.rename(settings.key_path.with_name("elders.key"))
    with pytest.raises(SystemExit) as done:
        main(["status", "-c", config])
    with pytest.raises(SystemExit) as done:
        main(["scan", "-c", config])
    assert done.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "ontbreekt" in err and "Traceback" not in err
    assert not settings.key_path.exists()


@given(st.binary(min_size=0, max_size=100), st.text(max_size=20), st.text(max_size=60))
def test_item_ids_with_the_pads_hashed_once_are_the_keyed_ids(secret: bytes, source: str, item_key: str) -> None:
    """``ItemIds`` (what a store computes its item ids with) gives the HMAC the one-shot call
    computes, for any secret and key: the ids stored before the pads were hashed once."""
    import hmac

    from scanner.store.crypt import ItemIds

    message = b"item\x00" + f"{source}\x00{item_key}".encode("utf-8", "surrogatepass")
    assert ItemIds(secret)(source, item_key) == hmac.digest(secret, message, "sha256").hex()[:32]
