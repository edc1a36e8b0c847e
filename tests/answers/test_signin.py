"""Sign-in with Entra ID before an answer (``answers.sign_in: entra``), against a local
authority written from the Microsoft identity platform documents (tests/services/fake_entra):
msal's authorization-code flow with PKCE, an RS256 id_token checked against the JWKS, and
only the link's owner gets past the gate; a forged, replayed or expired sign-in changes
nothing."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from starlette.testclient import TestClient

from scanner.answers.signin import CALLBACK, FLOW_COOKIE, SESSION_COOKIE
from scanner.answers.web import build_app, codec_for
from scanner.config import load_config
from scanner.core.privacy import load_installation_secret
from scanner.store import open_store
from tests.answers.helpers import OTHER, OWNER, flagged, moving_factory
from tests.services.fake_entra import EntraUser, FakeEntra
from tests.services.graph_tls import make_certificates

PUBLIC = "https://schoonschip.proefschool.nl"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("entra-certs"))


@pytest.fixture
def entra(certs):
    with FakeEntra(certs, redirect_uris=(PUBLIC + CALLBACK,)) as fake:
        yield fake


@pytest.fixture
def site(tmp_path, entra, certs, monkeypatch):
    monkeypatch.setenv("SCHOONSCHIP_TEST_OIDC_SECRET", entra.client_secret)
    (tmp_path / "share").mkdir()
    settings = load_config(None, {
        "school": {"name": "De Proefschool"}, "state_dir": str(tmp_path / "data"),
        "sources": [{"name": "gedeeld", "kind": "folder", "path": str(tmp_path / "share"), "owner": OWNER}],
        "answers": {"public_url": PUBLIC, "sign_in": "entra", "entra": {
            "tenant_id": entra.tenant, "client_id": entra.client_id,
            "client_secret": {"env": "SCHOONSCHIP_TEST_OIDC_SECRET"},
            "authority_host": entra.base, "ca_file": str(certs.server_cert), "session_minutes": 30}},
    })
    store = open_store(settings)
    codec = codec_for(settings, load_installation_secret(settings.secret_path, store))
    ids = flagged(store, settings, ["a.txt", "b.txt"])
    client = TestClient(build_app(settings, store, connector_factory=moving_factory), base_url=PUBLIC,
                        follow_redirects=False)
    yield client, store, codec, ids
    store.close()


def at_authority(location: str, certs) -> requests.Response:
    """The browser at the authority: the user signs in, the authority sends it back (302)."""
    answer = requests.get(location, verify=str(certs.server_cert), allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return answer


def sign_in(client, url: str, certs) -> requests.Response:
    """Open ``url``, follow the sign-in round trip; returns the service's answer after it."""
    first = client.get(url)
    assert first.status_code == 303 and FLOW_COOKIE in first.cookies
    back = at_authority(first.headers["location"], certs)
    target = urlsplit(back.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == PUBLIC + CALLBACK
    done = client.get(f"{target.path}?{target.query}")
    return done


def test_the_owner_signs_in_and_answers(site, entra, certs):
    client, store, codec, ids = site
    entra.user = EntraUser(upn=OWNER.upper())  # Entra may spell the address otherwise
    url = f"/a/{codec.make(OWNER, 'bewaren', ids)}"
    done = sign_in(client, url, certs)
    assert done.status_code == 303 and done.headers["location"] == url
    assert SESSION_COOKIE in client.cookies
    (authorize,) = entra.authorize_requests
    assert authorize["code_challenge_method"] == "S256" and authorize["nonce"] and authorize["state"]
    assert "openid" in authorize["scope"].split()
    (token,) = entra.token_requests
    assert token["grant_type"] == "authorization_code"
    page = client.get(url)
    assert page.status_code == 200 and "a.txt" in page.text and store.answers_of(ids) == []
    result = client.post(url, data={"csrf": CSRF.search(page.text).group(1), "reason": "leerlingdossier"})
    assert result.status_code == 200
    assert {store.item(i).owner_mark for i in ids} == {"legal_hold"}
    # nothing of the user is kept: the session holds keyed hashes only
    assert OWNER.split("@")[0] not in client.cookies[SESSION_COOKIE].lower()


def test_someone_else_signed_in_changes_nothing(site, entra, certs):
    client, store, codec, ids = site
    entra.user = EntraUser(upn=OTHER)
    url = f"/a/{codec.make(OWNER, 'verwijderen', ids)}"
    done = sign_in(client, url, certs)
    assert done.status_code == 303
    page = client.get(url)
    assert page.status_code == 403 and "iemand anders" in page.text
    forged = client.post(url, data={"csrf": "x"})
    assert forged.status_code == 403 and store.answers_of(ids) == []


def test_no_sign_in_no_page_and_a_post_goes_back_to_the_page(site, entra):
    client, store, codec, ids = site
    url = f"/a/{codec.make(OWNER, 'bewaren', ids)}"
    first = client.get(url)
    assert first.status_code == 303 and first.headers["location"].startswith(entra.base)
    assert "a.txt" not in first.text
    post = client.post(url, data={"csrf": "x"})
    assert post.status_code == 303 and post.headers["location"] == url
    assert store.answers_of(ids) == []


def test_forged_replayed_and_cancelled_sign_ins_change_nothing(site, entra, certs):
    client, store, codec, ids = site
    entra.user = EntraUser(upn=OWNER)
    url = f"/a/{codec.make(OWNER, 'bewaren', ids)}"
    first = client.get(url)
    back = urlsplit(at_authority(first.headers["location"], certs).headers["location"])
    query = parse_qs(back.query)

    # a callback with another state (a forged one): refused
    forged = client.get(CALLBACK, params={"code": query["code"][0], "state": "nietdezelfde"})
    assert forged.status_code == 403 and SESSION_COOKIE not in client.cookies
    # the real one, once: the code was not spent by the forged attempt (msal checks state first)
    assert client.get(f"{back.path}?{back.query}").status_code == 303
    assert SESSION_COOKIE in client.cookies
    # the same callback again (a replay): the flow cookie is gone
    client.cookies.delete(SESSION_COOKIE)
    assert client.get(f"{back.path}?{back.query}").status_code == 400
    # a callback without any flow cookie, and a tampered session cookie
    fresh = TestClient(client.app, base_url=PUBLIC, follow_redirects=False)
    assert fresh.get(f"{back.path}?{back.query}").status_code == 400
    fresh.cookies.set(SESSION_COOKIE, "eyJ3IjpbXX0.forged.sig")
    assert fresh.get(url).status_code == 303  # not signed in: to the authority
    # the user cancels at the authority
    fresh.cookies.delete(SESSION_COOKIE)
    entra.user = None
    cancelled = sign_in(fresh, url, certs)
    assert cancelled.status_code == 403 and SESSION_COOKIE not in fresh.cookies
    assert store.answers_of(ids) == []


def test_an_id_token_not_signed_by_the_authority_is_refused(site, entra, certs):
    """msal only decodes the id_token; the service checks its signature against the JWKS."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    client, store, codec, ids = site
    entra.user = EntraUser(upn=OWNER)
    entra.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    url = f"/a/{codec.make(OWNER, 'bewaren', ids)}"
    done = sign_in(client, url, certs)
    assert done.status_code == 403 and SESSION_COOKIE not in client.cookies
    entra.signing_key = None  # the authority's own key: the same flow works
    assert sign_in(client, url, certs).status_code == 303 and SESSION_COOKIE in client.cookies


def test_a_session_expires(site, entra, certs, monkeypatch):
    client, store, codec, ids = site
    entra.user = EntraUser(upn=OWNER)
    url = f"/a/{codec.make(OWNER, 'bewaren', ids)}"
    sign_in(client, url, certs)
    assert client.get(url).status_code == 200
    import time as real_time

    later = real_time.time() + 31 * 60
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    assert client.get(url).status_code == 303  # signed out: to the authority again
