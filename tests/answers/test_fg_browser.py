"""The FG page in headless Chromium against the running service (issue 18, item 6): the FG
opens /fg, is sent to sign in, types a wrong password, then the right one, reads the figures,
downloads the vernietigingsverklaring, finds the session expired after an hour, signs in
again and signs out. Screenshots of every page go to the test's output folder; every page
and URL is searched for the planted number and the teachers' addresses."""

from __future__ import annotations

import threading
import time

import pytest

from scanner.answers.web import build_app
from scanner.answers.web import server as answer_server
from tests.answers.browser_helpers import free_port
from tests.answers.fg_helpers import NOW, PASSWORD, TEACHERS, fg_settings, with_history
from tests.answers.helpers import moving_factory
from tests.planted import notations, valid_bsns
from tests.reports.reports_testkit import need_chromium

pytestmark = [pytest.mark.slow, pytest.mark.service]

PLANTED = valid_bsns(1)[0]


class Clock:
    def __init__(self) -> None:
        self.now = NOW.timestamp()

    def __call__(self) -> float:
        return self.now


def test_the_fg_signs_in_reads_downloads_and_signs_out(tmp_path):
    chromium = need_chromium()
    port = free_port()
    settings = fg_settings(tmp_path, public_url=f"http://127.0.0.1:{port}")
    store, _ = with_history(settings, PLANTED)
    clock = Clock()
    app = build_app(settings, store, connector_factory=moving_factory, clock=lambda: NOW, fg_clock=clock)
    server = answer_server(settings, app, port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    screens = tmp_path / "screenshots"
    screens.mkdir()
    seen: list[str] = []

    def shoot(page, name: str) -> None:
        path = screens / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 5000
        seen.extend([page.content(), page.url])

    base = f"http://127.0.0.1:{port}"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            context = browser.new_context(viewport={"width": 1000, "height": 1000}, accept_downloads=True)
            page = context.new_page()
            page.goto(f"{base}/fg")
            assert page.url.startswith(f"{base}/fg/login")
            assert page.locator("#heading").inner_text() == "Inloggen voor de FG"
            shoot(page, "01-fg-inloggen")
            page.fill("#password", "dit-is-het-niet")
            page.click("#login")
            assert page.locator("#message").get_attribute("data-code") == "wrong"
            shoot(page, "02-fg-fout-wachtwoord")
            page.fill("#password", PASSWORD)
            page.click("#login")
            assert page.url == f"{base}/fg?lang=nl"
            assert page.locator("#opruimen h2").inner_text() == "Opruimen door docenten"
            assert page.locator("table[data-table=totaal]").count() >= 1
            shoot(page, "03-fg-overzicht")
            page.click("#vv-html")
            assert page.locator("#title").inner_text() == "Vernietigingsverklaring"
            assert "De Proefschool" in page.content()
            shoot(page, "04-vernietigingsverklaring")
            page.go_back()
            with page.expect_download() as download:
                page.click("#vv-csv")
            csv_path = tmp_path / "verklaring.csv"
            download.value.save_as(csv_path)
            seen.append(csv_path.read_text(encoding="utf-8-sig"))
            assert "Vernietigingsverklaring" in seen[-1]
            # an hour later the session has expired
            clock.now += 3601
            page.goto(f"{base}/fg")
            assert page.locator("#message").get_attribute("data-code") == "expired"
            shoot(page, "05-fg-sessie-verlopen")
            page.fill("#password", PASSWORD)
            page.click("#login")
            page.click("#logout")
            assert page.locator("#message").get_attribute("data-code") == "ended"
            shoot(page, "06-fg-uitgelogd")
            page.goto(f"{base}/fg")
            assert page.url.startswith(f"{base}/fg/login")
            # English on request
            page.goto(f"{base}/fg/login?lang=en")
            assert page.locator("#heading").inner_text() == "Sign in for the DPO"
            shoot(page, "07-fg-sign-in-en")
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)
        store.close()
    print(f"screenshots: {screens}")
    everything = "\n".join(seen)
    for form in notations(PLANTED):
        assert form not in everything
    assert not any(teacher in everything for teacher in TEACHERS) and "plan " not in everything
