"""Configuration of the Microsoft Graph sources (``graph_mail`` and ``graph_files``).

The connection settings (tenant, app, credential, endpoints, throttling) live in
:class:`GraphConnection` so that code outside the connectors, such as the teacher digest
sender, can build a :class:`~connectors.graph.client.GraphClient` from the same block. The two
source models add what they crawl. Everything here is picklable and holds no secret values:
secrets are :class:`~connectors.base.SecretRef` references, read only when a token is needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from connectors.base import SourceConfig
from scanner.core.config_base import SecretRef, StrictModel

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0"


class GraphRetry(StrictModel):
    """How hard the client tries before it gives a unit up (see ``throttle.py``)."""

    max_attempts: int = Field(default=6, ge=1, le=20, description="Attempts per request.")
    max_total_wait_seconds: float = Field(
        default=300.0, gt=0, description="Most time spent waiting for one request (Retry-After and back-off)."
    )
    backoff_base_seconds: float = Field(default=1.0, gt=0)
    backoff_max_seconds: float = Field(default=60.0, gt=0)
    timeout_seconds: float = Field(default=60.0, gt=0, description="Connect/read timeout per HTTP request.")
    mailbox_failure_limit: int = Field(
        default=2,
        ge=1,
        description="After this many units of one mailbox failed, its other units fail fast in this run.",
    )


class GraphConnection(StrictModel):
    """Tenant, app registration, credential and endpoints.

    Exactly one credential: ``certificate`` (PEM with the private key; add the certificate to
    the same file, or give ``certificate_thumbprint``), ``pfx`` (PKCS#12, file or base64 in an
    environment variable) or ``client_secret``. A certificate is preferred: it cannot be
    typed into a chat window and Entra lets you give it a short life.
    """

    tenant_id: str = Field(min_length=1, description="Directory (tenant) id or primary domain.")
    client_id: str = Field(min_length=1, description="Application (client) id of the app registration.")
    certificate: SecretRef | None = Field(
        default=None, description="PEM file (or env var) with the private key and, ideally, the certificate."
    )
    certificate_thumbprint: str | None = Field(
        default=None, description="SHA-1 thumbprint (hex) when the PEM holds only the private key."
    )
    certificate_passphrase: SecretRef | None = None
    pfx: SecretRef | None = Field(default=None, description="PKCS#12 file, or base64 of it in an env var.")
    client_secret: SecretRef | None = None
    authority_url: str = Field(default=DEFAULT_AUTHORITY, description="Entra sign-in host.")
    graph_url: str = Field(default=DEFAULT_GRAPH_URL, description="Graph base URL including the version.")
    ca_file: Path | None = Field(
        default=None,
        description="CA bundle (PEM) trusted instead of the system store, e.g. behind a TLS-inspecting proxy.",
    )
    max_concurrent_per_mailbox: int = Field(
        default=4, ge=1, le=4, description="Exchange Online allows 4 concurrent requests per mailbox."
    )
    retry: GraphRetry = Field(default_factory=GraphRetry)

    @field_validator("authority_url", "graph_url")
    @classmethod
    def _https_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.netloc:
            raise ValueError("moet een https-URL zijn / must be an https URL")
        return value.rstrip("/")

    @field_validator("certificate_thumbprint")
    @classmethod
    def _hex_thumbprint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        cleaned = value.replace(":", "").replace(" ", "").lower()
        if len(cleaned) != 40 or any(c not in "0123456789abcdef" for c in cleaned):
            raise ValueError(
                "thumbprint moet 40 hexadecimale tekens zijn (SHA-1) / thumbprint must be 40 hex digits (SHA-1)"
            )
        return cleaned

    @model_validator(mode="after")
    def _one_credential(self) -> GraphConnection:
        given = [n for n in ("certificate", "pfx", "client_secret") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                "geef precies een van certificate, pfx of client_secret / "
                "give exactly one of certificate, pfx or client_secret"
            )
        return self

    def connection(self) -> GraphConnection:
        """The connection part alone (sources subclass this model)."""
        return GraphConnection(**{name: getattr(self, name) for name in GraphConnection.model_fields})


class GraphSourceConfig(SourceConfig, GraphConnection):
    """Fields shared by both Graph sources."""

    page_size: int = Field(default=100, ge=1, le=1000, description="Prefer: odata.maxpagesize.")


class GraphMailConfig(GraphSourceConfig):
    """Exchange Online mailboxes. ``include``/``exclude`` globs match the folder path
    (``Inbox/Klas 3B``, ``Verwijderde items``), without the mailbox."""

    kind: Literal["graph_mail"] = "graph_mail"
    mailboxes: list[str] = Field(default_factory=list, description="Mailbox addresses (UPN or SMTP).")
    groups: list[str] = Field(
        default_factory=list, description="Entra group object ids whose (nested) members are scanned."
    )
    include_hidden_folders: bool = True
    skip_search_folders: bool = Field(
        default=True, description="Search folders only repeat mail stored elsewhere."
    )
    archive: bool = Field(
        default=False,
        description="Also scan each mailbox's In-Place Archive (Online archief) through Graph beta; "
        "needs User.Read.All besides the mail permission.",
    )
    batch_requests: bool = Field(
        default=True,
        description="Mappen en eerste deltapagina's per 20 in één JSON-batch ($batch) opvragen / "
        "ask folder listings and first delta pages 20 at a time in one JSON batch ($batch).",
    )

    @model_validator(mode="after")
    def _something_to_scan(self) -> GraphMailConfig:
        if not self.mailboxes and not self.groups:
            raise ValueError("geef mailboxes of groups / give mailboxes or groups")
        return self


class DriveSpec(StrictModel):
    """A SharePoint document library (or any drive) by id, with the owner its items get."""

    id: str = Field(min_length=1, description="Drive id (GET /sites/{site-id}/drives).")
    name: str | None = Field(default=None, description="Short name used in the unit key and reports.")
    owner: str | None = Field(
        default=None, description="Who is told about items; else the source owner, else the item's creator."
    )


class GraphFilesConfig(GraphSourceConfig):
    """OneDrive of teachers and SharePoint document libraries. ``include``/``exclude`` globs
    match the file path inside the drive (``Documenten/Klas 3B/lijst.xlsx``)."""

    kind: Literal["graph_files"] = "graph_files"
    users: list[str] = Field(default_factory=list, description="Teachers whose OneDrive is scanned.")
    groups: list[str] = Field(default_factory=list, description="Entra groups whose members' OneDrive is scanned.")
    drives: list[DriveSpec] = Field(default_factory=list, description="SharePoint document libraries.")
    max_file_bytes: int | None = Field(
        default=None, ge=1, description="Skip larger files (default: the run's max_item_bytes)."
    )
    broad_groups: list[str] = Field(
        default_factory=list,
        description="Whole-school groups (display name or object id) whose grant makes a file broadly "
                    "shared, besides Everyone and 'Everyone except external users', which always do.",
    )
    internal_domains: list[str] = Field(
        default_factory=list,
        description="Mail domains of the school; an address outside them is an external guest "
                    "(default: the domains of the configured users, owners and tenant).",
    )

    @model_validator(mode="after")
    def _something_to_scan(self) -> GraphFilesConfig:
        if not self.users and not self.groups and not self.drives:
            raise ValueError("geef users, groups of drives / give users, groups or drives")
        return self


GraphKind = Literal["graph_mail", "graph_files"]
