"""The FG page over HTTP (Starlette's test client, issue 18, item 6): nothing without a
session, the login form's CSRF pair, a wrong password, the failure limit, cookie flags, an
expired session, logout ending the session at once (also for a copied cookie), a new
password ending every session, and the vernietigingsverklaring only for a signed-in FG.
The teachers' answer links and the FG's session open nothing of each other."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from scanner.answers.fg_auth import FgSessions, hash_password, parse_hash, verify_password
from scanner.answers.web import build_app, codec_for
from scanner.core.privacy import load_installation_secret
from tests.answers.fg_helpers import NOW, PASSWORD, TEACHERS, fg_settings, with_history
from tests.answers.helpers import moving_factory

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
BASE = "https://schoonschip.proefschool.nl"


class Clock:
    def __init__(self) -> None:
        self.now = NOW.timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def site(tmp_path):
    settings = fg_settings(tmp_path, max_failures=3)
    store, ids = with_history(settings)
    clock = Clock()
    app = build_app(settings, store, connector_factory=moving_factory, clock=lambda: NOW, fg_clock=clock)
    client = TestClient(app, base_url=BASE, follow_redirects=False)
    yield client, store, clock, ids, settings
    store.close()


def sign_in(client: TestClient, password: str = PASSWORD, lang: str = "nl"):
    form = client.get(f"/fg/login?lang={lang}")
    assert form.status_code == 200
    return client.post("/fg/login", data={"csrf": CSRF.search(form.text).group(1), "password": password,
                                          "lang": lang})


def test_nothing_without_a_session(site):
    client, *_ = site
    for path in ("/fg", "/fg/vernietigingsverklaring?from=2026-01-01&to=2027-12-31"):
        page = client.get(path)
        assert page.status_code == 303 and page.headers["location"].startswith("/fg/login")
    forged = client.get("/fg", cookies={FgSessions.COOKIE: "eyJzIjoiYSJ9.forged"})
    assert forged.status_code == 303


def test_sign_in_shows_the_figures_with_safe_cookies(site):
    client, *_ = site
    done = sign_in(client)
    assert done.status_code == 303 and done.headers["location"] == "/fg?lang=nl"
    cookie = done.headers["set-cookie"].lower()
    for flag in ("httponly", "samesite=strict", "secure", "path=/fg", "max-age=3600"):
        assert flag in cookie
    page = client.get("/fg")
    assert page.status_code == 200 and "Opruimen door docenten" in page.text and 'id="logout"' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert not any(t in page.text for t in TEACHERS) and "plan " not in page.text
    english = client.get("/fg?lang=en")
    assert "Clean-up by teachers" in english.text and "Sign out" in english.text


def test_a_wrong_password_and_the_failure_limit(site):
    client, *_ = site
    for _ in range(3):
        wrong = sign_in(client, "niet-het-wachtwoord")
        assert wrong.status_code == 401 and 'data-code="wrong"' in wrong.text
        assert f"{FgSessions.COOKIE}=" not in wrong.headers.get("set-cookie", "")
    blocked = sign_in(client)  # even the right password waits now
    assert blocked.status_code == 429 and 'data-code="blocked"' in blocked.text


def test_the_login_post_needs_the_pages_form_pair(site):
    client, *_ = site
    bare = client.post("/fg/login", data={"password": PASSWORD})
    assert bare.status_code == 403 and 'data-code="csrf"' in bare.text
    form = client.get("/fg/login")
    token = CSRF.search(form.text).group(1)
    client.cookies.clear()  # the field without its cookie (another site's form)
    assert client.post("/fg/login", data={"csrf": token, "password": PASSWORD}).status_code == 403


def test_an_expired_session(site):
    client, _, clock, *_ = site
    sign_in(client)
    assert client.get("/fg").status_code == 200
    clock.now += 3601
    page = client.get("/fg")
    assert page.status_code == 303 and page.headers["location"] == "/fg/login?lang=nl&why=expired"
    login = client.get(page.headers["location"])
    assert 'data-code="expired"' in login.text


def test_logout_ends_the_session_also_for_a_copy(site):
    client, *_ = site
    sign_in(client)
    copied = client.cookies.get(FgSessions.COOKIE)
    page = client.get("/fg")
    assert client.post("/fg/logout", data={"lang": "nl"}).status_code == 403  # no CSRF field: stays signed in
    out = client.post("/fg/logout", data={"csrf": CSRF.search(page.text).group(1), "lang": "nl"})
    assert out.status_code == 303 and out.headers["location"] == "/fg/login?lang=nl&why=ended"
    again = client.get("/fg", cookies={FgSessions.COOKIE: copied})
    assert again.status_code == 303


def test_a_new_password_ends_every_session(site, tmp_path):
    client, store, clock, _, settings = site
    sign_in(client)
    cookie = client.cookies.get(FgSessions.COOKIE)
    other = fg_settings(tmp_path, password_hash=hash_password("een-heel-ander-wachtwoord"))
    app = build_app(other, store, connector_factory=moving_factory, clock=lambda: NOW, fg_clock=clock)
    fresh = TestClient(app, base_url=BASE, follow_redirects=False)
    assert fresh.get("/fg", cookies={FgSessions.COOKIE: cookie}).status_code == 303


def test_the_declaration_download(site):
    client, *_ = site
    sign_in(client)
    html = client.get("/fg/vernietigingsverklaring?from=2026-01-01&to=2027-12-31&format=html")
    assert html.status_code == 200 and "Vernietigingsverklaring" in html.text and "De Proefschool" in html.text
    csv = client.get("/fg/vernietigingsverklaring?from=2026-01-01&to=2027-12-31&format=csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert 'filename="vernietigingsverklaring-2026-01-01-2027-12-31.csv"' in csv.headers["content-disposition"]
    assert client.get("/fg/vernietigingsverklaring?from=2027-01-01&to=2026-01-01").status_code == 400


def test_teacher_links_and_fg_sessions_are_apart(site):
    client, store, _, ids, settings = site
    codec = codec_for(settings, load_installation_secret(settings.secret_path, store))
    token = codec.make(TEACHERS[5], "bewaren", ids[TEACHERS[5]][1:])
    assert client.get("/fg", cookies={FgSessions.COOKIE: token}).status_code == 303
    sign_in(client)
    assert client.get(f"/a/{client.cookies.get(FgSessions.COOKIE)}").status_code == 400  # not a link


def test_without_a_password_hash_the_page_is_off(tmp_path):
    settings = fg_settings(tmp_path, password_hash=None)
    store, _ = with_history(settings)
    try:
        client = TestClient(build_app(settings, store, connector_factory=moving_factory), base_url=BASE,
                            follow_redirects=False)
        assert client.get("/fg/login").status_code == 503
        assert client.post("/fg/login", data={"password": ""}).status_code == 503
        assert client.get("/fg").status_code == 303
    finally:
        store.close()


def test_password_hashes():
    line = hash_password("correct-horse-battery")
    assert line.startswith("scrypt$15$8$1$") and verify_password("correct-horse-battery", line)
    assert not verify_password("correct-horse-batterY", line)
    with pytest.raises(ValueError):
        hash_password("kort")
    with pytest.raises(ValueError):
        parse_hash("plain$text")
