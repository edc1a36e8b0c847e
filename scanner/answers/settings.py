"""Settings of ``schoonschip serve`` (the ``answers`` block of the YAML)."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from scanner.core.config_base import StrictModel


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
    sign_in: Literal["none"] = "none"
    """Sign-in with Entra ID (OIDC) is a documented follow-up; the link itself is the key now."""

    @field_validator("public_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("geef een http(s)-adres zonder ? of # / give an http(s) address without ? or #")
        return value.strip().rstrip("/")
