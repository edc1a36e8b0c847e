"""Configuration of digest delivery (the ``delivery:`` section of the YAML)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from scanner.core.config_base import SecretRef, StrictModel


class DeliverySettings(StrictModel):
    """How teacher digests leave the building.

    ``outbox`` (the default) writes one ``.eml`` file per digest into ``outbox_dir`` and sends
    nothing: a school can look at real digests before any teacher gets one. ``smtp`` talks to
    the school's relay (Office 365 ``smtp.office365.com:587`` with STARTTLS and auth, or an
    on-premises relay). ``graph`` sends through Microsoft Graph ``sendMail`` as ``sender``
    (needs the Mail.Send application permission, scoped to that one mailbox). ``ews`` sends
    through on-premises Exchange. Graph and EWS reuse the connection of a configured source
    (``source``), so credentials are configured once.
    """

    method: Literal["outbox", "smtp", "graph", "ews"] = "outbox"
    host: str | None = Field(default=None, description="SMTP server name.")
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = Field(
        default=True,
        description="Upgrade the SMTP connection with STARTTLS (port 587). Without it, port 465 "
        "uses implicit TLS and any other port sends in the clear (only for a local relay).",
    )
    ca_file: Path | None = Field(
        default=None, description="Extra CA certificate (PEM) to trust, for a relay with an internal CA."
    )
    username: str | None = None
    password: SecretRef | None = None
    sender: str | None = Field(
        default=None, description="From address of the digests, e.g. privacy@school.nl."
    )
    source: str | None = Field(
        default=None,
        description="Method graph or ews: the name of the configured graph_mail/graph_files or ews "
        "source whose connection (tenant, app, credential / server) is used to send.",
    )
    sender_name: str | None = Field(
        default=None, description="Display name of the sender (default: 'schoonschip, namens <school>')."
    )
    rate_per_minute: float = Field(
        default=30.0, gt=0, description="At most this many digests per minute (Office 365 SMTP allows 30)."
    )
    burst: int = Field(default=1, ge=1, description="How many digests may go out at once before pacing starts.")
    outbox_dir: Path = Field(default=Path("outbox"), description="Folder for .eml files (method outbox).")
    timeout: float = Field(default=30.0, gt=0, description="Network timeout in seconds.")
    cap: int = Field(default=25, ge=1, description="At most this many items listed per digest.")

    @model_validator(mode="after")
    def _check_method(self) -> DeliverySettings:
        if self.method in ("smtp", "graph", "ews") and not self.sender:
            raise ValueError(
                f"delivery.sender is verplicht bij method {self.method} / "
                f"delivery.sender is required for method {self.method}"
            )
        if self.method in ("graph", "ews") and not self.source:
            raise ValueError(
                f"delivery.source (de naam van een {self.method}-bron) is verplicht bij method {self.method} / "
                f"delivery.source (the name of a {self.method} source) is required for method {self.method}"
            )
        if self.method == "smtp" and not self.host:
            raise ValueError("delivery.host is verplicht bij method smtp / delivery.host is required for method smtp")
        if self.username and self.password is None:
            raise ValueError(
                "delivery.password ontbreekt bij delivery.username / delivery.password is missing for delivery.username"
            )
        if self.ca_file is not None and not Path(self.ca_file).is_file():
            raise ValueError(f"bestand {self.ca_file} bestaat niet / file {self.ca_file} does not exist")
        return self
