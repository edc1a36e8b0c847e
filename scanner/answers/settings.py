"""Settings of ``schoonschip serve`` (the ``answers`` block of the YAML)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from scanner.core.config_base import SecretRef, StrictModel


class EntraSignInSettings(StrictModel):
    """The app registration teachers sign in with (a *web* platform app in Entra ID with the
    redirect URI ``<public_url>/a/signin/callback`` and a client secret; no API permission
    beyond the default ``openid profile`` sign-in)."""

    tenant_id: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    client_secret: SecretRef
    authority_host: str = "https://login.microsoftonline.com"
    """Another host only for national clouds (and the tests' local authority)."""
    ca_file: Path | None = None
    """A CA bundle for the authority's TLS (a school's TLS-inspecting proxy; the tests)."""
    session_minutes: int = Field(default=60, ge=5, le=24 * 60)
    """How long a sign-in lasts before the service asks again."""

    @property
    def authority(self) -> str:
        return f"{self.authority_host.rstrip('/')}/{self.tenant_id}"


class AnswerSettings(StrictModel):
    """Where the answer service listens and how the digest links reach it.

    The service speaks plain HTTP on ``listen``:``port``; TLS is the job of the school's reverse
    proxy in front of it (docs/answers.md). ``public_url`` is the address teachers' browsers
    use (``https://schoonschip.school.nl``); without it the digest carries no answer links.
    """

    listen: str = "127.0.0.1"
    port: int = Field(default=8470, ge=1, le=65535)
    public_url: str | None = None
    link_days: int = Field(default=28, ge=1, le=120)
    """How long a digest link works: four weekly digests."""
    undo_days: int = Field(default=30, ge=1, le=365)
    """How long an answer can be reversed from its result page."""
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1"])
    """Addresses of the reverse proxies whose X-Forwarded-For/-Proto headers are believed."""
    sign_in: Literal["none", "entra"] = "none"
    """``none``: the link is the key. ``entra``: the teacher also signs in with Entra ID (OIDC,
    authorization code + PKCE) and must be the link's owner (:mod:`scanner.answers.signin`)."""
    entra: EntraSignInSettings | None = None

    @model_validator(mode="after")
    def _entra_needs_its_settings(self) -> AnswerSettings:
        if self.sign_in == "entra" and (self.entra is None or not self.public_url):
            raise ValueError("sign_in: entra vraagt answers.entra en answers.public_url / "
                             "sign_in: entra needs answers.entra and answers.public_url")
        return self

    @field_validator("public_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("geef een http(s)-adres zonder ? of # / give an http(s) address without ? or #")
        return value.strip().rstrip("/")
