"""App-only tokens for Microsoft Graph through msal's ConfidentialClientApplication.

Why msal and not a hand-made client-credentials POST: msal builds the signed client
assertion for certificate credentials (PS256 with the SHA-256 thumbprint, or RS256 with a
SHA-1 thumbprint), does the OpenID discovery of the tenant and knows Entra's quirks. We keep
our own small expiry book-keeping on top of it, with an injected clock, so that renewal
*before* expiry is explicit and testable, and so a token rejected mid-crawl (401) can be
dropped and replaced once.

Tokens live only in memory of the process that uses them. They are not written to the
connector state directory: a Graph token with Mail.Read on every teacher mailbox is worth
more to an attacker than the one request per hour per process it would save.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from connectors.base import SourceError
from connectors.graph.config import GraphConnection
from connectors.graph.throttle import parse_retry_after
from scanner.core.config_base import SecretRef

RENEW_MARGIN_SECONDS = 300.0
"""Renew this long before expiry (msal itself treats tokens with < 5 minutes left as expired)."""

_PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN ((?:ENCRYPTED |RSA |EC )?)PRIVATE KEY-----.+?-----END \1PRIVATE KEY-----", re.S
)
_CERTIFICATE_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


class TokenEndpointBusy(SourceError):
    """Entra's token endpoint answered 429 or 5xx: a passing fault, worth another attempt.

    Raised by :meth:`TokenProvider.token`; :class:`~connectors.graph.client.GraphClient` waits
    (``retry_after`` when Entra gave one, else back-off) within the request's retry budget. It
    is a :class:`SourceError` (``unreachable``) so that code which does not retry still reports
    it with its cause.
    """

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(
            "unreachable",
            f"Entra-tokenservice gaf {status} / Entra token endpoint returned {status}",
        )
        self.status = status
        self.retry_after = retry_after


class _NoHttpCache(dict[str, Any]):
    """An ``http_cache`` for msal that keeps nothing.

    msal answers a token request from its own cache for Retry-After seconds after a 429, and
    for 60 seconds after a 5xx without Retry-After, without asking Entra. We honour
    Retry-After ourselves, with an injected clock and within the request's budget; msal's cache
    would turn every retry inside its window into the same failure. The ``http_cache`` argument
    accepts any dict-like object (msal's documented extension point); this one forgets writes.
    """

    def __setitem__(self, key: str, value: Any) -> None:
        pass


class _TokenHttp:
    """The HTTP client handed to msal: our session, plus the status and Retry-After of the
    last token-endpoint answer (msal raises a bare MsalServiceError on 5xx and a ValueError on
    a non-JSON 429 body, so the exception alone does not say what Entra answered)."""

    def __init__(self, session: requests.Session) -> None:
        self._session = session
        self.status = 0
        self.retry_after: float | None = None

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        self.status, self.retry_after = 0, None
        response = self._session.post(url, **kwargs)
        self.status = response.status_code
        self.retry_after = _retry_after(response.headers)
        return response

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self._session.get(url, **kwargs)

    def close(self) -> None:
        pass  # the session belongs to the GraphClient


def _retry_after(headers: Mapping[str, str]) -> float | None:
    return parse_retry_after(headers.get("Retry-After"))


def _busy(status: int) -> bool:
    return status == 429 or status >= 500


def graph_scope(graph_url: str) -> str:
    """``https://graph.microsoft.com/.default`` for the configured Graph host (national clouds,
    test servers): app-only tokens ask for all application permissions granted to the app."""
    parts = urlsplit(graph_url)
    return f"{parts.scheme}://{parts.netloc}/.default"


def _secret_bytes(ref: SecretRef) -> bytes:
    """Binary secrets: raw from a file, base64 from an environment variable."""
    if ref.file is not None:
        return ref.get_bytes()
    try:
        return base64.b64decode(ref.get(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SourceError(
            "auth_failed",
            f"omgevingsvariabele {ref.env} bevat geen base64 / environment variable {ref.env} is not base64",
        ) from exc


def build_client_credential(conn: GraphConnection) -> str | dict[str, Any]:
    """Translate the configured credential into msal's ``client_credential`` argument."""
    if conn.client_secret is not None:
        return conn.client_secret.get()
    passphrase = conn.certificate_passphrase.get() if conn.certificate_passphrase else None
    if conn.pfx is not None:
        return _pfx_credential(_secret_bytes(conn.pfx), passphrase)
    assert conn.certificate is not None  # guaranteed by GraphConnection's validator
    pem = conn.certificate.get()
    key = _PRIVATE_KEY_BLOCK.search(pem)
    if key is None:
        raise SourceError(
            "auth_failed",
            "certificaatbestand bevat geen private key / certificate file holds no private key",
        )
    credential: dict[str, Any] = {"private_key": key.group(0)}
    if passphrase:
        credential["passphrase"] = passphrase
    else:
        credential["private_key"] = _loaded_key(key.group(0))
    cert = _CERTIFICATE_BLOCK.search(pem)
    if cert is not None:
        # msal derives the SHA-256 thumbprint and signs with PS256, which Entra prefers.
        credential["public_certificate"] = cert.group(0)
    elif conn.certificate_thumbprint:
        credential["thumbprint"] = conn.certificate_thumbprint.upper()
    else:
        raise SourceError(
            "auth_failed",
            "zet het certificaat in het PEM-bestand of geef certificate_thumbprint / "
            "put the certificate in the PEM file or give certificate_thumbprint",
        )
    return credential


def _loaded_key(pem: str) -> Any:
    """The configured private key as a key object, loaded without cryptography's RSA
    consistency check. msal hands a PEM string to PyJWT, which parses it, primality checks of
    p and q included, for every assertion: 30 ms CPU for a 2048-bit key and 97 ms for a
    3072-bit one, each run, about a third of an unchanged Graph scan (docs/performance.md).
    The key is the operator's own configuration, not input from outside; a broken key only
    makes signatures Entra refuses (``auth_failed``), as before. An unreadable block is left to
    msal as PEM, so its error stays what it was."""
    from cryptography.hazmat.primitives import serialization

    try:
        return serialization.load_pem_private_key(pem.encode(), None, unsafe_skip_rsa_key_validation=True)
    except (ValueError, TypeError):
        return pem


def _pfx_credential(data: bytes, passphrase: str | None) -> dict[str, Any]:
    """Unpack a PKCS#12 blob in memory (so it may come from an env var as well as a file)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        key, cert, _ = pkcs12.load_key_and_certificates(data, passphrase.encode() if passphrase else None)
    except (ValueError, TypeError) as exc:
        raise SourceError(
            "auth_failed",
            "PFX kon niet worden geopend (wachtwoord?) / PFX could not be opened (passphrase?)",
        ) from exc
    if key is None or cert is None:
        raise SourceError(
            "auth_failed", "PFX mist sleutel of certificaat / PFX lacks key or certificate"
        )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return {"private_key": key_pem, "public_certificate": cert_pem}


class TokenProvider:
    """Hands out a valid access token, renewing it ahead of expiry; thread-safe."""

    def __init__(
        self,
        conn: GraphConnection,
        session: requests.Session,
        *,
        clock: Callable[[], float] = time.time,
        renew_margin: float = RENEW_MARGIN_SECONDS,
    ) -> None:
        self._conn = conn
        self._session = session
        self._clock = clock
        self._renew_margin = renew_margin
        self._scope = graph_scope(conn.graph_url)
        self._app: Any = None
        self._http = _TokenHttp(session)
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.acquired = 0
        """How many tokens were fetched from Entra (for the run report and tests)."""

    def _application(self) -> Any:
        """Create the msal app on first use: its constructor already talks to the authority."""
        if self._app is None:
            import msal

            authority = f"{self._conn.authority_url}/{self._conn.tenant_id}"
            try:
                self._app = msal.ConfidentialClientApplication(
                    self._conn.client_id,
                    client_credential=build_client_credential(self._conn),
                    authority=authority,
                    http_client=self._http,
                    http_cache=_NoHttpCache(),
                    # Never ask login.microsoftonline.com whether the authority is known: the
                    # well-known hosts are known anyway and a configured one is trusted.
                    instance_discovery=False,
                    token_cache=msal.TokenCache(),
                )
            except ValueError as exc:
                raise SourceError(
                    "auth_failed",
                    "Entra-tenant niet gevonden of onbereikbaar / Entra tenant not found or unreachable",
                ) from exc
        return self._app

    def token(self) -> str:
        """A token with at least ``renew_margin`` seconds of life left."""
        with self._lock:
            if self._token is not None and self._clock() < self._expires_at - self._renew_margin:
                return self._token
            return self._renew()

    def invalidate(self, rejected: str) -> None:
        """Forget ``rejected`` (Graph said it expired); the next :meth:`token` gets a new one.

        Only the token that was rejected is dropped, so ten threads that all saw the same 401
        cause one renewal, not ten.
        """
        with self._lock:
            if self._token == rejected:
                self._token = None
                self._expires_at = 0.0

    def _renew(self) -> str:
        app = self._application()
        cache = app.token_cache
        # Drop msal's cached copy so the request really goes to Entra.
        for entry in list(cache.search(cache.CredentialType.ACCESS_TOKEN)):
            cache.remove_at(entry)
        try:
            result = app.acquire_token_for_client(scopes=[self._scope])
        except Exception as exc:  # msal raises MsalServiceError (5xx) or ValueError (a non-JSON 429 body)
            if isinstance(exc, requests.RequestException):
                raise  # network: the client's retry loop handles it
            if _busy(self._http.status):
                raise TokenEndpointBusy(self._http.status, self._http.retry_after) from exc
            raise SourceError(
                "auth_failed",
                f"token ophalen mislukt (Entra {self._http.status or '?'}) / "
                f"token request failed (Entra {self._http.status or '?'})",
            ) from exc
        if "access_token" not in result and _busy(self._http.status):
            raise TokenEndpointBusy(self._http.status, self._http.retry_after)
        if "access_token" not in result:
            codes = ",".join(str(c) for c in result.get("error_codes") or [])
            raise SourceError(
                "auth_failed",
                f"token ophalen mislukt ({result.get('error', 'onbekend')}{' ' + codes if codes else ''}) / "
                f"token request failed ({result.get('error', 'unknown')}{' ' + codes if codes else ''})",
            )
        self.acquired += 1
        self._token = result["access_token"]
        self._expires_at = self._clock() + float(result.get("expires_in", 3599))
        return self._token
