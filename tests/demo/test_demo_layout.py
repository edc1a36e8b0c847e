"""Layout and parseability: every mail parses, every attachment and file opens, counts add up."""

from __future__ import annotations

import csv
import mailbox
from collections import Counter
from datetime import date, datetime
from email.utils import parseaddr
from pathlib import Path

import openpyxl

from scanner.demo import DemoCorpus
from tests.demo.conftest import TODAY

MAIL_KINDS = {"maildir", "mbox", "eml"}


def _mails(items: dict[str, dict]) -> dict[str, dict]:
    return {k: v for k, v in items.items() if "msg" in v}


def test_sources_follow_the_config_schema(demo: DemoCorpus) -> None:
    kinds = [s["kind"] for s in demo.sources]
    assert kinds == ["maildir", "mbox", "eml", "folder"]
    names = [s["name"] for s in demo.sources]
    assert len(set(names)) == len(names)
    for src in demo.sources:
        assert Path(src["path"]).is_absolute() and Path(src["path"]).exists()
        assert src["owner"] in demo.teachers and src["department"]
        expected = {"name", "kind", "path", "owner", "department"} | ({"owners"} if src["kind"] == "folder" else set())
        assert set(src) == expected
    folder = demo.sources[-1]
    assert set(folder["owners"].values()) <= set(demo.teachers)
    assert "Zorg/*" in folder["owners"] and "Groep 7/*" in folder["owners"]
    assert demo.teachers == [s["owner"] for s in demo.sources[:3]]


def test_maildir_uses_maildir_plus_plus_folders(demo: DemoCorpus) -> None:
    root = Path(demo.sources[0]["path"])
    for sub in ("cur", "new", "tmp"):
        assert (root / sub).is_dir()
    box = mailbox.Maildir(root, create=False)
    folders = box.list_folders()
    assert "Verzonden" in folders
    assert any(f.startswith("Archief 20") for f in folders)
    for name in folders:
        assert (root / f".{name}" / "maildirfolder").is_file()
    files = [p for p in root.rglob("*") if p.is_file() and p.parent.name in ("cur", "new")]
    for path in files:
        size = int(path.name.split(",S=")[1].split(":")[0])
        assert size == path.stat().st_size
    assert any(p.parent.name == "new" for p in files), "some recent mails are unread"


def test_counts_per_mailbox(demo: DemoCorpus, demo_items: dict[str, dict]) -> None:
    per_source = Counter(v["source"]["name"] for v in _mails(demo_items).values())
    assert per_source == {s["name"]: 120 for s in demo.sources if s["kind"] in MAIL_KINDS}
    mbox = mailbox.mbox(demo.sources[1]["path"], create=False)
    dates = [datetime.strptime(m.get_from().split(" ", 1)[1], "%a %b %d %H:%M:%S %Y") for m in mbox]
    assert len(dates) == 120 and dates == sorted(dates), "an mbox is in arrival order"
    eml = list(Path(demo.sources[2]["path"]).rglob("*.eml"))
    assert len(eml) == 120
    assert all(b"\r\n" in p.read_bytes()[:200] for p in eml[:10]), ".eml files saved with CRLF"


def test_every_mail_parses_with_complete_headers(demo: DemoCorpus, demo_items: dict[str, dict]) -> None:
    ids = set()
    for key, item in _mails(demo_items).items():
        msg = item["msg"]
        for header in ("From", "To", "Date", "Subject", "Message-ID"):
            assert msg[header], f"{key} lacks {header}"
        assert not msg.defects, key
        for part in msg.walk():
            assert not part.defects, key
        ids.add(msg["Message-ID"])
        owner = item["source"]["owner"]
        recipients = [parseaddr(a)[1] for a in str(msg["To"]).split(",")]
        sender = parseaddr(str(msg["From"]))[1]
        assert owner in recipients or sender == owner, key
        if "Verzonden" in key:
            assert sender == owner
        when = msg["Date"].datetime
        assert when.tzinfo is not None
        assert date(2017, 8, 1) <= when.date() < TODAY
    assert len(ids) == len(_mails(demo_items)), "Message-IDs are unique"
    assert set(demo.mail_keys) == ids


def test_mime_variety(demo_items: dict[str, dict]) -> None:
    """The encodings and structures extraction must cope with all occur."""
    seen: Counter[str] = Counter()
    for item in _mails(demo_items).values():
        msg = item["msg"]
        for part in msg.walk():
            seen[part.get_content_type()] += 1
            cte = part.get("Content-Transfer-Encoding")
            if cte and part.get_content_maintype() == "text":
                seen["cte:" + cte.lower()] += 1
            if part.get_content_charset():
                seen["charset:" + part.get_content_charset()] += 1
        if msg.get_content_type() == "text/html":
            seen["html-only"] += 1
        if any(p.get_content_type() == "message/rfc822" and any(
                q.get_content_type() == "application/pdf" for q in p.get_content().walk()) for p in msg.walk()):
            seen["nested-attachment"] += 1
        if "=?" in item["raw"].split(b"\n\n", 1)[0].decode("ascii", "replace"):
            seen["encoded-word"] += 1
    for needed in ("multipart/alternative", "multipart/mixed", "message/rfc822", "html-only", "nested-attachment",
                   "cte:quoted-printable", "cte:base64", "charset:iso-8859-1", "charset:utf-8", "encoded-word",
                   "application/pdf", "application/zip", "text/csv",
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   "application/vnd.openxmlformats-officedocument.wordprocessingml.document"):
        assert seen[needed] > 0, needed


def test_attachments_are_common_but_not_universal(demo_items: dict[str, dict]) -> None:
    mails = _mails(demo_items).values()
    with_attachments = sum(1 for m in mails if m["attachments"])
    assert 0.2 * len(mails) < with_attachments < 0.7 * len(mails)


def test_shared_folder_has_every_file_kind(demo: DemoCorpus, demo_items: dict[str, dict]) -> None:
    shared = Path(demo.sources[-1]["path"])
    files = [p for p in shared.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".docx", ".xlsx", ".csv", ".pdf", ".txt", ".html", ".zip"}
    top = {p.relative_to(shared).parts[0] for p in files}
    assert {"Zorg", "Groep 3", "Groep 5", "Groep 7", "Administratie", "Nieuwsbrieven"} <= top
    lists = [p for p in files if p.name.startswith("Klassenlijst") and p.suffix == ".xlsx"]
    assert lists
    for path in lists:
        ws = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        rows = list(ws.iter_rows(values_only=True))
        assert list(rows[1]) == ["Naam", "Geboortedatum", "BSN"]
        assert len(rows) > 10
    mtimes = {date.fromtimestamp(p.stat().st_mtime).year for p in files}
    assert len(mtimes) >= 3, "file dates vary so retention statuses differ"


def test_roster_matches_the_planted_students(demo: DemoCorpus) -> None:
    with demo.roster_csv.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["leerlingnummer", "roepnaam", "tussenvoegsel", "achternaam", "geboortedatum", "groep",
                             "inschrijfdatum", "uitschrijfdatum"]
    assert all(date.fromisoformat(r["inschrijfdatum"]) < TODAY and r["uitschrijfdatum"] == "" for r in rows)
    assert {int(r["groep"]) for r in rows} == set(range(1, 9))
    assert len({r["leerlingnummer"] for r in rows}) == len(rows)
    names = {" ".join(filter(None, (r["roepnaam"], r["tussenvoegsel"], r["achternaam"]))) for r in rows}
    planted = set(demo.planted.student_names)
    # Every current student of the teachers' groups is in the corpus (class lists on the share)...
    for groep in ("3", "5", "7"):
        group_names = {" ".join(filter(None, (r["roepnaam"], r["tussenvoegsel"], r["achternaam"])))
                       for r in rows if r["groep"] == groep}
        assert group_names <= planted
    # ...and students who have left appear in old mails but not on the roster, as in a real school.
    assert planted - names
    for r in rows:
        date.fromisoformat(r["geboortedatum"])


def test_former_pupils_are_exported_with_their_leaving_date(demo: DemoCorpus) -> None:
    """The LAS export of former pupils: Dutch dates, everyone left after groep 8 in July."""
    assert demo.former_roster_csv is not None
    with demo.former_roster_csv.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    with demo.roster_csv.open(encoding="utf-8", newline="") as fh:
        current = {r["leerlingnummer"] for r in csv.DictReader(fh)}
    assert rows and not {r["leerlingnummer"] for r in rows} & current
    left = [datetime.strptime(r["uitschrijfdatum"], "%d-%m-%Y").date() for r in rows]
    assert all(d.month == 7 and d < TODAY for d in left)
    names = {" ".join(filter(None, (r["roepnaam"], r["tussenvoegsel"], r["achternaam"]))) for r in rows}
    assert names & set(demo.planted.student_names), "leavers appear in old mails and files"
    # a leaver's care dossier and the exam grade list of the year that pupil left
    shared = Path(demo.sources[-1]["path"])
    assert list(shared.glob("Zorg/OPP *.docx"))
    assert list(shared.glob("Administratie/Examens/Cijferlijst centraal examen *"))
