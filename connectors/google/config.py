"""Configuration of the Google Workspace sources (``google_mail`` and ``google_drive``).

The connection (service-account key, the admin the directory is read as, endpoints, retry
budget) is shared by both kinds; each source adds what it crawls. The key is a
:class:`~scanner.core.config_base.SecretRef` (``{file: /etc/schoonschip/google-sa.json}``), read
only when a token is needed, so the model stays picklable and free of secrets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from connectors.base import SourceConfig
from scanner.core.config_base import SecretRef, StrictModel

GMAIL_SCOPE = "https://www.googleapis.com/auth/gmail.readonly"
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive.readonly"
DIRECTORY_SCOPE = "https://www.googleapis.com/auth/admin.directory.user.readonly"
GROUP_MEMBER_SCOPE = "https://www.googleapis.com/auth/admin.directory.group.member.readonly"
"""The only scopes ever requested (read-only; docs/google.md lists what each one reads)."""

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _endpoint(value: str | None) -> str | None:
    """https, or plain http to this machine only (the test fake, a local forward proxy)."""
    if value is None:
        return None
    parts = urlsplit(value)
    if not parts.netloc or not (
        parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)
    ):
        raise ValueError(
            "moet een https-URL zijn (http alleen naar deze machine) / "
            "must be an https URL (http only to this machine)"
        )
    return value


class GoogleRetry(StrictModel):
    """The request budget: how hard one request is tried before its unit (or item) gives up."""

    max_attempts: int = Field(default=6, ge=1, le=20, description="Attempts per request.")
    max_total_wait_seconds: float = Field(
        default=300.0, gt=0, description="Most time spent waiting for one request (Retry-After and back-off)."
    )
    backoff_base_seconds: float = Field(default=1.0, gt=0)
    backoff_max_seconds: float = Field(default=64.0, gt=0, description="Google's documented maximum back-off.")
    timeout_seconds: float = Field(default=60.0, gt=0, description="Connect/read timeout per HTTP request.")


class GoogleConnection(StrictModel):
    """Service account with domain-wide delegation, and where to find Google."""

    service_account_key: SecretRef = Field(
        description="JSON key of the service account (Google Cloud console, 'Keys'), as {file: ...} or {env: ...}."
    )
    admin_user: str | None = Field(
        default=None,
        description="Admin account impersonated to read the directory (org units, groups). "
        "Needed only with org_units or groups.",
    )
    customer: str = Field(default="my_customer", description="Directory customer id ('my_customer': your own).")
    api_endpoint: str | None = Field(
        default=None,
        description="Root URL of all Google APIs instead of each API's own (tests, a local forward proxy).",
    )
    token_uri: str | None = Field(
        default=None, description="OAuth2 token endpoint instead of the key file's token_uri."
    )
    ca_file: Path | None = Field(default=None, description="CA bundle (PEM) trusted instead of the default.")
    retry: GoogleRetry = Field(default_factory=GoogleRetry)

    @field_validator("api_endpoint", "token_uri")
    @classmethod
    def _endpoints(cls, value: str | None) -> str | None:
        return _endpoint(value)


class GoogleSourceConfig(SourceConfig, GoogleConnection):
    """Whose data is read: explicit users, members of organisational units, members of groups."""

    users: list[str] = Field(default_factory=list, description="Primary e-mail addresses.")
    org_units: list[str] = Field(
        default_factory=list, description="Organisational unit paths ('/Docenten'); sub-units included."
    )
    groups: list[str] = Field(default_factory=list, description="Group e-mail addresses; nested groups followed.")
    include_suspended: bool = Field(default=False, description="Also read suspended accounts (leavers).")
    page_size: int = Field(default=100, ge=1, le=500)
    max_parallel_per_user: int = Field(
        default=4, ge=1, le=10, description="Metadata requests in flight per user (Gmail: 250 quota units/s/user)."
    )

    @model_validator(mode="after")
    def _something_to_scan(self) -> GoogleSourceConfig:
        if not self.users and not self.org_units and not self.groups and not self._has_own_units():
            raise ValueError("geef users, org_units of groups / give users, org_units or groups")
        if (self.org_units or self.groups) and not self.admin_user:
            raise ValueError(
                "org_units en groups vragen admin_user / org_units and groups need admin_user"
            )
        return self

    def _has_own_units(self) -> bool:
        return False


class GoogleMailConfig(GoogleSourceConfig):
    """Gmail mailboxes. ``include``/``exclude`` globs match the message's folder (its label:
    ``INBOX``, ``SENT``, ``TRASH``, ``SPAM``, ``DRAFT`` or a user label such as ``Klas 3B``)."""

    kind: Literal["google_mail"] = "google_mail"
    include_spam_trash: bool = Field(default=True, description="Bin and spam hold mail for 30 days too.")


class SharedDriveSpec(StrictModel):
    """A shared drive by id, read as one of its members."""

    id: str = Field(min_length=1)
    name: str | None = Field(default=None, description="Short name used in the unit key and reports.")
    member: str | None = Field(default=None, description="Member impersonated to read it (default: admin_user).")
    owner: str | None = Field(default=None, description="Who is told about its items (default: the source owner).")


class GoogleDriveConfig(GoogleSourceConfig):
    """My Drive of users and shared drives. ``include``/``exclude`` globs match the file path."""

    kind: Literal["google_drive"] = "google_drive"
    shared_drives: list[SharedDriveSpec] = Field(default_factory=list)
    max_export_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1, description="Google's limit on files.export (10 MB)."
    )

    def _has_own_units(self) -> bool:
        return bool(self.shared_drives)

    @model_validator(mode="after")
    def _member_for_drives(self) -> GoogleDriveConfig:
        if any(d.member is None for d in self.shared_drives) and not self.admin_user:
            raise ValueError(
                "een gedeelde drive zonder member vraagt admin_user / a shared drive without member needs admin_user"
            )
        return self
