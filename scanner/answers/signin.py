"""Optional sign-in with Entra ID for ``schoonschip serve`` (``answers.sign_in: entra``).

The link stays the key to the items; a school that wants more asks the teacher to sign in as
well, and only the link's owner gets past the gate. The OpenID Connect authorization-code
flow with PKCE runs through msal's ``ConfidentialClientApplication``
(``initiate_auth_code_flow`` / ``acquire_token_by_auth_code_flow``: msal makes the state, the
nonce and the code verifier and checks them on the way back). On top of msal, the id_token's
RS256 signature is checked against the authority's JWKS (msal trusts its TLS channel and only
decodes the token), with the issuer and the audience.

Nothing of the user is stored or logged: the session cookie holds keyed hashes (HMAC with a
key derived from the installation secret) of the signed-in names (``preferred_username``,
``email``, ``upn``), signed (itsdangerous) and expiring after ``session_minutes``; the flow in
between lives in an encrypted (Fernet) cookie for 10 minutes, so the server keeps no state.
The link's owner matches when its hash is among them. Entra's object id (``oid``) is not used
for the match: the store knows owners by address only.

:meth:`EntraSignIn.require` is the one gate: the FG page can put its own list of allowed
addresses through it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.fernet import Fernet, InvalidToken
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from scanner.answers.links import derive_key
from scanner.config import Settings

log = logging.getLogger(__name__)

FLOW_COOKIE = "schoonschip_signin"
SESSION_COOKIE = "schoonschip_session"
CALLBACK = "/a/signin/callback"
FLOW_SECONDS = 600
_PUBLIC_CLOUD = "https://login.microsoftonline.com"


class SignInFailed(Exception):
    """``signin_expired`` (no or an old flow cookie), ``signin_failed`` (the authority said no,
    the state or the token did not check out) or ``not_yours`` (signed in as someone else)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class EntraSignIn:
    """The sign-in of one service process (thread-safe; the msal app is made once)."""

    def __init__(self, settings: Settings, secret: bytes, *, clock: Callable[[], float] | None = None) -> None:
        cfg = settings.answers.entra
        if cfg is None or not settings.answers.public_url:
            raise ValueError("answers.entra en answers.public_url ontbreken / are missing")
        self._cfg = cfg
        self.redirect_uri = settings.answers.public_url + CALLBACK
        self.secure = urlsplit(settings.answers.public_url).scheme == "https"
        self._flows = Fernet(base64.urlsafe_b64encode(derive_key(secret, b"schoonschip sign-in flow v1")))
        self._sessions = URLSafeTimedSerializer(derive_key(secret, b"schoonschip sign-in session v1"),
                                                salt="schoonschip session")
        self._who_key = derive_key(secret, b"schoonschip signed-in user v1")
        self._clock = clock
        self._lock = threading.Lock()
        self._app: Any = None
        self._keys: dict[str, Any] = {}
        self._issuer: str | None = None
        self._jwks_uri: str | None = None

    # -- msal ------------------------------------------------------------------------------

    def app(self) -> Any:
        """msal's confidential client for the school's app registration (made on first use)."""
        with self._lock:
            if self._app is None:
                import msal
                import requests

                http = requests.Session()
                # per request: REQUESTS_CA_BUNDLE in the environment would override the session's
                verify: str | bool = str(self._cfg.ca_file) if self._cfg.ca_file else True
                http.request = functools.partial(  # type: ignore[method-assign]
                    http.request, timeout=30, verify=verify)
                other_cloud = self._cfg.authority_host.rstrip("/") != _PUBLIC_CLOUD
                self._app = msal.ConfidentialClientApplication(
                    self._cfg.client_id, client_credential=self._cfg.client_secret.get(),
                    authority=self._cfg.authority, http_client=http,
                    # a national cloud or a local authority is not in Microsoft's instance list
                    validate_authority=not other_cloud, instance_discovery=not other_cloud)
            return self._app

    def who(self, name: str) -> str:
        """The keyed hash a session holds for a signed-in name (or a link's owner)."""
        return hmac.new(self._who_key, name.strip().casefold().encode(), hashlib.sha256).hexdigest()

    # -- the flow ---------------------------------------------------------------------------

    def begin(self, return_to: str) -> tuple[str, str]:
        """(the authority's sign-in URL, the sealed flow for the cookie)."""
        flow = self.app().initiate_auth_code_flow([], redirect_uri=self.redirect_uri, response_mode="query")
        flow["schoonschip_return_to"] = _local_path(return_to)
        return flow["auth_uri"], self._flows.encrypt(json.dumps(flow).encode()).decode()

    def finish(self, sealed: str | None, params: dict[str, str]) -> tuple[str, str]:
        """Redeem the authority's answer: (session cookie value, where to go back to)."""
        if not sealed:
            raise SignInFailed("signin_expired")
        try:
            flow = json.loads(self._flows.decrypt(sealed.encode(), ttl=FLOW_SECONDS))
        except (InvalidToken, ValueError):
            raise SignInFailed("signin_expired") from None
        return_to = _local_path(str(flow.pop("schoonschip_return_to", "/")))
        try:
            result = self.app().acquire_token_by_auth_code_flow(flow, params)
        except ValueError:  # msal: state mismatch (a forged or replayed callback)
            raise SignInFailed("signin_failed") from None
        if "error" in result or not result.get("id_token"):
            log.warning("sign-in refused by the authority (%s)", str(result.get("error", "no_id_token"))[:40])
            raise SignInFailed("signin_failed")
        claims = self._verified(result["id_token"])
        names = {str(claims[key]) for key in ("preferred_username", "email", "upn") if claims.get(key)}
        if not names:
            raise SignInFailed("signin_failed")
        session = self._sessions.dumps({"w": sorted(self.who(n) for n in names)})
        log.info("signed in")
        return str(session), return_to

    def _verified(self, id_token: str) -> dict[str, Any]:
        """The id_token's claims, after its RS256 signature, issuer, audience and time."""
        try:
            kid = jwt.get_unverified_header(id_token).get("kid")
            key = self._key(kid)
            return dict(jwt.decode(id_token, key, algorithms=["RS256"], audience=self._cfg.client_id,
                                   issuer=self._issuer, leeway=120,
                                   options={"require": ["exp", "iat", "aud", "iss"]}))
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            log.warning("id_token refused (%s)", type(exc).__name__)
            raise SignInFailed("signin_failed") from None

    def _key(self, kid: str | None) -> Any:
        """The authority's signing key ``kid`` (the JWKS again when a key rolled over)."""
        with self._lock:
            if kid in self._keys:
                return self._keys[kid]
        http = self.app().http_client
        if self._jwks_uri is None:
            config = json.loads(http.get(f"{self._cfg.authority}/v2.0/.well-known/openid-configuration").text)
            self._issuer, self._jwks_uri = config["issuer"], config["jwks_uri"]
        keys = jwt.PyJWKSet.from_dict(json.loads(http.get(self._jwks_uri).text))
        with self._lock:
            self._keys = {k.key_id: k.key for k in keys.keys if k.key_id}
            return self._keys[str(kid)]  # KeyError: not signed by this authority

    # -- the gate ---------------------------------------------------------------------------

    def signed_in(self, request: Request) -> set[str]:
        """The keyed hashes of who is signed in (empty: nobody, or the session expired)."""
        value = request.cookies.get(SESSION_COOKIE)
        if not value:
            return set()
        try:
            data = self._sessions.loads(value, max_age=self._cfg.session_minutes * 60)
        except BadSignature:
            return set()
        return {str(w) for w in data.get("w", [])} if isinstance(data, dict) else set()

    def require(self, request: Request, allowed: Iterable[str]) -> Response | None:
        """The gate: None when the signed-in user is one of ``allowed`` (addresses); a redirect
        to sign in (back to this page's URL afterwards) when nobody is signed in; raises
        :class:`SignInFailed` ``not_yours`` when someone else is."""
        who = self.signed_in(request)
        if not who:
            return self.redirect_to_sign_in(request)
        if not who & {self.who(name) for name in allowed}:
            raise SignInFailed("not_yours")
        return None

    def redirect_to_sign_in(self, request: Request) -> Response:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target, sealed = self.begin(here)
        response = RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store",
                                                                      "Referrer-Policy": "no-referrer"})
        response.set_cookie(FLOW_COOKIE, sealed, max_age=FLOW_SECONDS, httponly=True, samesite="lax",
                            secure=self.secure, path="/a/signin")
        return response

    def callback_response(self, request: Request) -> Response:
        """``GET /a/signin/callback``: redeem the code, set the session, go back (303)."""
        session, return_to = self.finish(request.cookies.get(FLOW_COOKIE), dict(request.query_params))
        response = RedirectResponse(return_to, status_code=303, headers={"Cache-Control": "no-store",
                                                                         "Referrer-Policy": "no-referrer"})
        response.set_cookie(SESSION_COOKIE, session, max_age=self._cfg.session_minutes * 60, httponly=True,
                            samesite="lax", secure=self.secure, path="/")
        response.delete_cookie(FLOW_COOKIE, path="/a/signin")
        return response


def _local_path(value: str) -> str:
    """Only a path on this service (no open redirect to another site)."""
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return "/"
    return value
