"""The pages over HTTP (Starlette's test client): a GET never acts, only the POST from the
page does; a POST without the page's form pair (CSRF) changes nothing; every refusal is a
clear Dutch page (English on request) with a status that says what went wrong."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from scanner.answers.web import COOKIE, build_app, codec_for
from scanner.core.privacy import load_installation_secret
from scanner.store import open_store
from tests.answers.helpers import OTHER, OWNER, flagged, moving_factory, settings_for

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def site(tmp_path):
    settings = settings_for(tmp_path)
    store = open_store(settings)
    codec = codec_for(settings, load_installation_secret(settings.secret_path, store))
    ids = flagged(store, settings, ["a.txt", "b.txt"])
    client = TestClient(build_app(settings, store, connector_factory=moving_factory),
                        base_url="https://schoonschip.proefschool.nl")
    yield client, store, codec, ids
    store.close()


def test_a_get_shows_a_form_and_changes_nothing(site):
    client, store, codec, ids = site
    url = f"/a/{codec.make(OWNER, 'bewaren', ids)}"
    for _ in range(3):  # a link scanner, a preview, the teacher
        page = client.get(url)
    assert page.status_code == 200 and 'method="post"' in page.text and "a.txt" in page.text
    assert store.answers_of(ids) == [] and store.item(ids[0]).owner_mark is None
    for header, value in (("cache-control", "no-store"), ("referrer-policy", "no-referrer"),
                          ("x-frame-options", "DENY")):
        assert page.headers[header] == value
    assert "script-src" not in page.headers["content-security-policy"]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie
    assert "reason.leerlingdossier" not in page.text and "hoort bij het leerlingdossier" in page.text


def test_only_the_post_from_the_page_acts(site):
    client, store, codec, ids = site
    url = f"/a/{codec.make(OWNER, 'bewaren', ids)}"
    # a cross-site POST: no cookie, no form field
    bare = TestClient(client.app, base_url="https://schoonschip.proefschool.nl")
    assert bare.post(url, data={"reason": ""}).status_code == 403
    page = client.get(url)
    field = CSRF.search(page.text).group(1)
    # the field of another link does not fit this one
    other = client.get(f"/a/{codec.make(OWNER, 'geen_leerlinggegevens', ids)}")
    wrong = client.post(url, data={"csrf": CSRF.search(other.text).group(1)})
    assert wrong.status_code == 403 and 'data-code="csrf"' in wrong.text
    # the right field without the cookie (another browser) does not work either
    assert bare.post(url, data={"csrf": field}).status_code == 403
    assert store.answers_of(ids) == []
    done = client.post(url, data={"csrf": field, "reason": "lopende_zaak", "lang": "nl"})
    assert done.status_code == 200 and 'data-page="result"' in done.text
    assert [a["reason"] for a in store.answers_of(ids)] == ["lopende_zaak", "lopende_zaak"]
    assert store.item(ids[1]).owner_mark == "legal_hold"
    # the result page offers the reversal, a POST with its own form pair
    undo_field = CSRF.search(done.text).group(1)
    undo_url = re.search(r'<form method="post" action="([^"]+)"', done.text).group(1)
    undone = client.post(f"/a/{undo_url}", data={"csrf": undo_field})
    assert undone.status_code == 200 and store.item(ids[1]).owner_mark is None


@pytest.mark.parametrize("case,status,code", [
    ("forged", 400, "forged"), ("expired", 410, "expired"), ("not_yours", 403, "not_yours"),
    ("gone", 404, "gone")])
def test_a_bad_link_is_a_clear_page_and_changes_nothing(site, case, status, code):
    client, store, codec, ids = site
    token = {
        "forged": codec.make(OWNER, "verwijderen", ids)[:-3] + "xyz",
        "expired": codec.make(OWNER, "verwijderen", ids, now=1_000_000_000),
        "not_yours": codec.make(OTHER, "verwijderen", ids),
        "gone": codec.make(OWNER, "verwijderen", ["0" * 32]),
    }[case]
    page = client.get(f"/a/{token}")
    assert page.status_code == status and f'data-code="{code}"' in page.text
    assert "Er is niets gewijzigd." in page.text
    english = client.get(f"/a/{token}?lang=en")
    assert "Nothing was changed." in english.text and 'lang="en"' in english.text
    assert client.post(f"/a/{token}", data={"csrf": "x"}).status_code in (status, 403)
    assert store.answers_of(ids) == [] and store.link_used("0" * 24) is False


def test_unknown_pages_and_methods(site):
    client, *_ = site
    assert client.get("/").status_code == 404
    assert client.get("/healthz").text == "ok"
    assert client.put("/a/abc").status_code in (404, 405)
    assert COOKIE not in client.get("/healthz").headers.get("set-cookie", "")
