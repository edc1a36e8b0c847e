"""Issue 18, item 7: a teacher follows the digest's links in headless Chromium against the
running service (uvicorn on a free port), after a real scan of a folder share.

Confirmation page, POST, result page, a replayed link (GET and a second POST from an older
tab), an expired, a forged and another owner's link, a reason for a hold and its reversal, a
whole folder at once; the files really move on disk (to the test connector's quarantine
folder: the folder connector itself may not remove yet), and the next scan and digest reflect
it. Screenshots of every page go to the test's output folder. Then every page, every URL,
every log line and the database are searched for the planted numbers.
"""

from __future__ import annotations

import email
import email.policy
import logging
import os
import re
import threading
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from scanner.answers.web import build_app, codec_for
from scanner.answers.web import server as answer_server
from scanner.core.privacy import load_installation_secret
from scanner.jobs import run_digest, run_scan
from scanner.store import open_store
from tests.answers.browser_helpers import free_port
from tests.answers.helpers import OTHER, OWNER, MovingFolderConnector, moving_factory
from tests.planted import OLD, notations, valid_bsns
from tests.reports.reports_testkit import need_chromium

pytestmark = [pytest.mark.slow, pytest.mark.service]


BSNS = valid_bsns(7)


def write_share(share: Path) -> None:
    files = {
        f"Dossier {BSNS[0]}.txt": BSNS[1],
        "Archief 2017/verslag-1.txt": BSNS[2],
        "Archief 2017/verslag-2.txt": BSNS[3],
        "Archief 2017/verslag-3.txt": BSNS[4],
        "Zorg/plan-1.txt": BSNS[5],
        "Zorg/plan-2.txt": BSNS[6],
    }
    for relative, bsn in files.items():
        path = share / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"Leerling met BSN {bsn} (burgerservicenummer), zie het leerlingdossier.\n", encoding="utf-8")
        os.utime(path, (OLD, OLD))


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def digest_html(outbox: Path) -> str:
    (path,) = sorted(outbox.rglob("*.eml"))
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    return html, text


def item_links(html: str) -> dict[str, list[str]]:
    """Title -> its three answer links, as the digest shows them."""
    soup = BeautifulSoup(html, "html.parser")
    found = {}
    for cell in soup.find_all("td"):
        title = cell.find("div", recursive=False)
        links = cell.find_all("a", attrs={"data-answer": True})
        if title is not None and links and "font-weight:bold" in (title.get("style") or ""):
            found[title.get_text(strip=True)] = [a["href"] for a in links]
    return found


def folder_links(html: str) -> dict[str, list[str]]:
    soup = BeautifulSoup(html, "html.parser")
    found: dict[str, list[str]] = {}
    for link in soup.find_all("a", attrs={"data-folder-answer": True}):
        heading = link.find_parent("td").find("div").get_text(strip=True)
        found.setdefault(heading, []).append(link["href"])
    return found


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    chromium = need_chromium()
    root = tmp_path_factory.mktemp("answers")
    share = root / "share"
    write_share(share)
    port = free_port()
    from scanner.config import load_config

    settings = load_config(None, {
        "school": {"name": "De Proefschool", "language": "nl"},
        "state_dir": str(root / "data"),
        "sources": [{"name": "gedeeld", "kind": "folder", "path": str(share), "owner": OWNER}],
        "delivery": {"method": "outbox", "outbox_dir": str(root / "outbox")},
        "answers": {"public_url": f"http://127.0.0.1:{port}"},
    })
    logs = Collect()
    logging.getLogger().addHandler(logs)
    logging.getLogger().setLevel(logging.DEBUG)
    echoed: list[str] = []
    assert run_scan(settings, progress=False, echo=echoed.append) == 0
    assert run_digest(settings, echo=echoed.append) == 0
    store = open_store(settings)
    server = answer_server(settings, build_app(settings, store, connector_factory=moving_factory), port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 900, "height": 1000})
        yield {"root": root, "settings": settings, "store": store, "context": context, "logs": logs,
               "echoed": echoed, "pages": [], "urls": [], "screens": root / "screenshots"}
        browser.close()
    server.should_exit = True
    thread.join(10)
    store.close()
    logging.getLogger().removeHandler(logs)


def shoot(env, page, name: str) -> None:
    env["screens"].mkdir(exist_ok=True)
    path = env["screens"] / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5000
    env["pages"].append(page.content())
    env["urls"].append(page.url)


def test_a_teacher_answers_from_the_digest(served):
    env = served
    root, settings, store = env["root"], env["settings"], env["store"]
    html, text = digest_html(root / "outbox")
    (root / "digest.html").write_text(html, encoding="utf-8")
    items = item_links(html)
    folders = folder_links(html)
    assert len(items) == 6 and all(len(links) == 3 for links in items.values())
    assert "Alle 3 bestanden in Archief 2017 verwijderen" in text and "Verwijderen: http://127.0.0.1" in text
    assert set(folders) == {"3 bestanden in Archief 2017", "2 bestanden in Zorg"}
    env["urls"] += [u for links in [*items.values(), *folders.values()] for u in links]
    (dossier,) = [title for title in items if title.startswith("Dossier")]
    assert BSNS[0] not in dossier  # the stored title is masked

    page = env["context"].new_page()
    page.goto((root / "digest.html").as_uri())
    shoot(env, page, "01-digest")
    # one file: Verwijderen -> confirmation -> POST -> result
    page.click(f"a[href='{items[dossier][0]}']")
    assert page.locator("#heading").inner_text() == "Verwijderen bevestigen"
    shoot(env, page, "02-bevestigen-verwijderen")
    page.click("#confirm")
    assert page.locator("[data-page=result]").count() == 1
    assert page.locator("[data-outcome]").first.get_attribute("data-outcome") == "moved"
    shoot(env, page, "03-resultaat-verwijderd")
    assert not (root / "share" / f"Dossier {BSNS[0]}.txt").exists()
    assert (root / "quarantaine" / f"Dossier {BSNS[0]}.txt").exists()
    # the same link again: a clear page, nothing happens
    page.goto(items[dossier][0])
    assert page.locator("#message").get_attribute("data-code") == "used"
    shoot(env, page, "04-al-gebruikt")

    # a whole folder at once, confirmed in two tabs: the second POST is a replay
    group = folders["3 bestanden in Archief 2017"][0]
    first, second = env["context"].new_page(), env["context"].new_page()
    for tab in (first, second):
        tab.goto(group)
    assert first.locator("li[data-item]").count() == 3
    calls = len(MovingFolderConnector.calls)
    first.click("#confirm")
    assert first.locator("[data-outcome=moved]").count() == 3
    second.click("#confirm")
    assert second.locator("#message").get_attribute("data-code") == "used"
    shoot(env, second, "05-herhaald-formulier")
    assert len(MovingFolderConnector.calls) == calls + 3
    assert sorted(p.name for p in (root / "quarantaine" / "Archief 2017").iterdir()) == [
        "verslag-1.txt", "verslag-2.txt", "verslag-3.txt"]

    # Bewaren with a reason, then reversed from the result page; Geen leerlinggegevens
    plan1, plan2 = items["plan-1.txt"], items["plan-2.txt"]
    page.goto((root / "digest.html").as_uri())
    page.click(f"a[href='{plan1[1]}']")
    page.select_option("#reason", "lopende_zaak")
    shoot(env, page, "06-bevestigen-bewaren")
    page.click("#confirm")
    assert store.item(_id(store, "Zorg/plan-1.txt")).owner_mark == "legal_hold"
    page.click("#undo")
    assert page.locator("#heading").inner_text() == "Je antwoord is teruggedraaid."
    shoot(env, page, "07-teruggedraaid")
    assert store.item(_id(store, "Zorg/plan-1.txt")).owner_mark is None
    page.goto(plan2[2] + "?lang=en")
    assert page.locator("#heading").inner_text() == "Confirm: no student data"
    page.click("#confirm")
    shoot(env, page, "08-result-english")
    assert store.item(_id(store, "Zorg/plan-2.txt")).owner_mark == "false_positive"

    # expired, forged, someone else's
    codec = codec_for(settings, load_installation_secret(settings.secret_path, store))
    base = settings.answers.public_url + "/a/"
    ident = _id(store, "Zorg/plan-1.txt")
    token = plan1[0].rsplit("/", 1)[1]
    for name, url, code in (
            ("09-verlopen", base + codec.make(OWNER, "verwijderen", [ident], now=time.time() - 29 * 86400), "expired"),
            ("10-vervalst", base + token[:40] + ("A" if token[40] != "A" else "B") + token[41:], "forged"),
            ("11-niet-van-jou", base + codec.make(OTHER, "verwijderen", [ident]), "not_yours")):
        page.goto(url)
        assert page.locator("#message").get_attribute("data-code") == code
        shoot(env, page, name)
    assert (root / "share" / "Zorg" / "plan-1.txt").exists()

    # the next scan and digest reflect it: moved items are gone, the false positive is quiet
    (root / "outbox").rename(root / "outbox-1")
    assert run_scan(settings, progress=False, echo=env["echoed"].append) == 0
    assert run_digest(settings, period="2026-W50", echo=env["echoed"].append) == 0
    html, _text = digest_html(root / "outbox")
    assert list(item_links(html)) == ["plan-1.txt"]
    states = {row.item_key: row.state for row in store.iter_items()}
    assert states[f"Dossier {BSNS[0]}.txt"] == states["Archief 2017/verslag-1.txt"] == "opgeruimd"
    assert states["Zorg/plan-2.txt"] == "actief"
    outcomes = sorted((a["action"], a["outcome"], a["reversed_at"] is not None)
                      for a in store.answers_of([row.id for row in store.iter_items()]))
    assert outcomes == [("bewaren", "recorded", True), ("geen_leerlinggegevens", "recorded", False)] + [
        ("verwijderen", "moved", False)] * 4


def _id(store, key: str) -> str:
    return store.item_id("gedeeld", key)


def test_no_planted_number_in_pages_urls_logs_or_database(served):
    env = served
    assert env["pages"], "the browser test runs first"
    from sqlalchemy import create_engine, text

    engine = create_engine(env["settings"].database_url)
    with engine.connect() as conn:
        keep = {v for row in conn.execute(text("select item_key, link, unit_key from items")) for v in row if v}
    engine.dispose()
    data = b"".join(p.read_bytes() for p in sorted((env["root"] / "data").glob("schoonschip.sqlite*")))
    for value in sorted(keep, key=len, reverse=True):  # the ways to an item (encrypted at rest, issue 16)
        data = data.replace(value.encode(), b"")
    # The digest's own "open" link holds the path (a file: URL): the one place it may (issue 16).
    pages = re.sub(r'href="file:[^"]*"', "<link>", "\n".join(env["pages"]))
    texts = {"pages": pages, "urls": "\n".join(env["urls"]),
             "logs": "\n".join(env["logs"].lines + env["echoed"]), "database": data.decode("utf-8", "replace")}
    assert env["logs"].lines, "log lines were collected"
    for bsn in BSNS:
        for notation in notations(bsn):
            for where, body in texts.items():
                assert notation not in body, f"{notation} in {where}"
    assert OWNER not in texts["urls"]
    assert "/a/gAAAA" not in texts["logs"]  # no link (a key to the items) in any log line
