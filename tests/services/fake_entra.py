"""A local Microsoft identity platform authority for the sign-in of ``schoonschip serve``:
the authorization-code flow with PKCE as Microsoft documents it ("Microsoft identity platform
and OAuth 2.0 authorization code flow", "OpenID Connect on the Microsoft identity platform"):

* ``GET /{tenant}/v2.0/.well-known/openid-configuration``: the discovery document (issuer,
  ``authorization_endpoint``, ``token_endpoint``, ``jwks_uri``, RS256);
* ``GET /{tenant}/oauth2/v2.0/authorize``: ``client_id``, ``response_type=code``, a registered
  ``redirect_uri``, ``scope`` with ``openid``, ``state``, ``nonce``, ``code_challenge`` with
  ``code_challenge_method=S256``; the user who "signs in" is :attr:`FakeEntra.user`; answers
  302 to the redirect URI with ``code`` and ``state`` (``response_mode=query``), or with
  ``error``/``error_description`` (e.g. ``access_denied`` when the user cancels);
* ``POST /{tenant}/oauth2/v2.0/token``: ``grant_type=authorization_code``, ``code`` (single use,
  10 minutes), the same ``redirect_uri``, ``code_verifier`` whose S256 must equal the challenge,
  and the client's secret; an error is 400 with ``error`` ``invalid_grant`` / ``invalid_client``
  and an ``AADSTS`` description, as Entra answers;
* ``GET /{tenant}/discovery/v2.0/keys``: the JWKS with the RS256 key (``kid``) that signs the
  v2.0 ``id_token`` (``aud`` the client id, ``iss``, ``iat``/``nbf``/``exp``, ``nonce``, ``oid``,
  ``tid``, ``preferred_username``, ``name``, ``ver`` "2.0").

It speaks TLS with the tests' self-signed certificate (msal accepts https authorities only).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.services.graph_tls import CertFiles, serve_tls


@dataclass
class EntraUser:
    upn: str
    name: str = "Docent"
    oid: str = ""

    def __post_init__(self) -> None:
        self.oid = self.oid or str(uuid.uuid4())


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    method: str
    nonce: str | None
    scope: str
    user: EntraUser
    issued: float


class FakeEntra:
    def __init__(self, certs: CertFiles, *, tenant: str = "proefschool-tenant",
                 client_id: str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", client_secret: str = "geheim-oidc",
                 redirect_uris: tuple[str, ...] = ()) -> None:
        self.certs = certs
        self.tenant = tenant
        self.tid = str(uuid.uuid4())
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = list(redirect_uris)
        self.user: EntraUser | None = None
        """Who signs in at /authorize (None: the user cancels: ``access_denied``)."""
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        """The key the JWKS publishes (under :attr:`kid`)."""
        self.signing_key: rsa.RSAPrivateKey | None = None
        """A test's forger: id_tokens are signed with this key instead (same ``kid``)."""
        self.kid = secrets.token_hex(8)
        self.codes: dict[str, _Code] = {}
        self.token_requests: list[dict[str, str]] = []
        self.authorize_requests: list[dict[str, str]] = []
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.base}/{self.tenant}/v2.0"

    def start(self) -> FakeEntra:
        fake = self

        class Handler(_Handler):
            entra = fake

        self._server, _ = serve_tls(Handler, self.certs, "fake-entra")
        self.port = self._server.server_address[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeEntra:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def id_token(self, code: _Code, lifetime: int = 3600) -> str:
        now = int(time.time())
        claims = {"aud": self.client_id, "iss": self.issuer, "iat": now, "nbf": now, "exp": now + lifetime,
                  "sub": hashlib.sha256(f"{code.user.oid}{self.client_id}".encode()).hexdigest()[:43],
                  "oid": code.user.oid, "tid": self.tid, "preferred_username": code.user.upn,
                  "name": code.user.name, "ver": "2.0"}
        if code.nonce:
            claims["nonce"] = code.nonce
        return jwt.encode(claims, self.signing_key or self.key, algorithm="RS256", headers={"kid": self.kid})


class _Handler(BaseHTTPRequestHandler):
    entra: FakeEntra

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _redirect(self, target: str, params: dict[str, str]) -> None:
        self.send_response(302)
        self.send_header("Location", f"{target}?{urlencode(params)}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        e = self.entra
        parts = urlsplit(self.path)
        prefix = f"/{e.tenant}"
        if parts.path == f"{prefix}/v2.0/.well-known/openid-configuration":
            self._json(200, {
                "issuer": e.issuer,
                "authorization_endpoint": f"{e.base}{prefix}/oauth2/v2.0/authorize",
                "token_endpoint": f"{e.base}{prefix}/oauth2/v2.0/token",
                "jwks_uri": f"{e.base}{prefix}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                          "client_secret_basic"],
                "code_challenge_methods_supported": ["plain", "S256"],
                "tenant_region_scope": "EU",
            })
        elif parts.path == f"{prefix}/discovery/v2.0/keys":
            jwk = json.loads(RSAAlgorithm.to_jwk(e.key.public_key()))
            self._json(200, {"keys": [{**jwk, "kid": e.kid, "use": "sig", "alg": "RS256"}]})
        elif parts.path == f"{prefix}/oauth2/v2.0/authorize":
            self._authorize({k: v[0] for k, v in parse_qs(parts.query).items()})
        else:
            self._json(404, {"error": "not_found"})

    def _authorize(self, q: dict[str, str]) -> None:
        e = self.entra
        redirect = q.get("redirect_uri", "")
        if q.get("client_id") != e.client_id or redirect not in e.redirect_uris:
            # Entra shows its own error page: it never redirects to an unregistered address
            self._json(400, {"error": "invalid_request",
                             "error_description": "AADSTS50011: The redirect URI does not match."})
            return
        base = {"state": q["state"]} if "state" in q else {}
        if q.get("response_type") != "code" or "openid" not in q.get("scope", "").split():
            self._redirect(redirect, {**base, "error": "invalid_request",
                                      "error_description": "AADSTS900144: response_type/scope"})
            return
        e.authorize_requests.append(dict(q))
        method = q.get("code_challenge_method", "plain")  # PKCE is optional for a web app
        if q.get("code_challenge") and method not in ("plain", "S256"):
            self._redirect(redirect, {**base, "error": "invalid_request",
                                      "error_description": "AADSTS501481: code_challenge_method"})
            return
        if e.user is None:
            self._redirect(redirect, {**base, "error": "access_denied",
                                      "error_description": "AADSTS65004: User declined to consent."})
            return
        code = secrets.token_urlsafe(32)
        with e.lock:
            e.codes[code] = _Code(e.client_id, redirect, q.get("code_challenge", ""), method, q.get("nonce"),
                                  q["scope"], e.user, time.time())
        self._redirect(redirect, {**base, "code": code, "session_state": str(uuid.uuid4())})

    def do_POST(self) -> None:
        e = self.entra
        parts = urlsplit(self.path)
        if parts.path != f"/{e.tenant}/oauth2/v2.0/token":
            self._json(404, {"error": "not_found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):  # client_secret_basic
            client, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            form.setdefault("client_id", client)
            form.setdefault("client_secret", secret)
        e.token_requests.append({k: v for k, v in form.items() if k not in ("client_secret", "code_verifier")})
        if form.get("client_id") != e.client_id or form.get("client_secret") != e.client_secret:
            self._json(401, {"error": "invalid_client",
                             "error_description": "AADSTS7000215: Invalid client secret provided."})
            return
        if form.get("grant_type") != "authorization_code":
            self._json(400, {"error": "unsupported_grant_type", "error_description": "AADSTS70003"})
            return
        with e.lock:
            code = e.codes.pop(form.get("code", ""), None)  # single use
        verifier = form.get("code_verifier", "")
        if code is not None and code.method == "S256":
            verifier = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (code is None or time.time() - code.issued > 600 or code.redirect_uri != form.get("redirect_uri")
                or (code.challenge and not secrets.compare_digest(verifier, code.challenge))):
            self._json(400, {"error": "invalid_grant",
                             "error_description": "AADSTS70008: The provided authorization code or refresh "
                                                  "token has expired or was already used."})
            return
        self._json(200, {"token_type": "Bearer", "scope": code.scope, "expires_in": 3599,
                         "ext_expires_in": 3599, "access_token": secrets.token_urlsafe(40),
                         "id_token": e.id_token(code)})
