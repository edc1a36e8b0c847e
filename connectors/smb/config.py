"""Configuration of an SMB source: one file server, one service account, several shares."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from connectors.base import SourceConfig
from connectors.quarantine import check_quarantine_name, is_inside, quarantine_field
from connectors.smb.exposure import DEFAULT_BROAD_SIDS
from scanner.core.config_base import SecretRef, StrictModel

_SID = re.compile(r"^S-1-\d+(-\d+)+$")
_SID_PATTERN = re.compile(r"^S-1-[\d*]+(-[\d*]+)*$")
_BAD_SHARE_CHARS = set('\\/:*?"<>|')


def normalise_subpath(value: str) -> str:
    """``\\Zorg\\Klas 3\\`` and ``Zorg/Klas 3`` are the same folder: store ``Zorg/Klas 3``."""
    parts = [p for p in value.replace("\\", "/").split("/") if p and p != "."]
    if any(p == ".." for p in parts):
        raise ValueError("'..' is niet toegestaan in een pad / '..' is not allowed in a path")
    return "/".join(parts)


class SmbShare(StrictModel):
    """One share (or one folder inside a share) to crawl."""

    share: str = Field(description="Share name as on the server, e.g. 'Gedeeld' or 'Users$'.")
    folder: str = Field(
        default="",
        description=(
            "Optional folder inside the share, e.g. 'Zorg'. (Not called 'path': the config "
            "loader makes every 'path' absolute against the YAML file's folder.)"
        ),
    )
    owner: str | None = Field(
        default=None,
        description="Teacher (e-mail) the files belong to when the owner SID is not mapped.",
    )
    department: str | None = Field(default=None, description="School or department (afdeling).")
    split_subfolders: bool = Field(
        default=False,
        description=(
            "One unit per top-level subfolder (home folders, 'P-schijf'): smaller checkpoints "
            "and parallel crawling. Files directly in the folder form one extra unit."
        ),
    )

    owner_template: str | None = Field(
        default=None,
        description=(
            "For split home-folder shares: owner derived from the subfolder name, e.g. "
            "'{folder}@school.nl' (folder name in lower case). Used when the owner SID is not "
            "mapped, before 'owner'."
        ),
    )

    @field_validator("owner_template")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is not None:
            if "{folder}" not in value:
                raise ValueError("owner_template moet {folder} bevatten / must contain {folder}")
            try:
                value.format(folder="x")
            except (KeyError, IndexError, ValueError):
                raise ValueError(
                    "owner_template mag alleen {folder} gebruiken / may only use {folder}"
                ) from None
        return value

    @model_validator(mode="after")
    def _template_needs_split(self) -> SmbShare:
        if self.owner_template and not self.split_subfolders:
            raise ValueError(
                "owner_template werkt alleen met split_subfolders: true / "
                "owner_template needs split_subfolders: true"
            )
        return self

    @field_validator("share")
    @classmethod
    def _share_name(cls, value: str) -> str:
        value = value.strip()
        if not value or any(c in _BAD_SHARE_CHARS for c in value):
            raise ValueError(
                "sharenaam zonder schuine strepen, bijv. 'Gedeeld' / share name without slashes"
            )
        return value

    @field_validator("folder")
    @classmethod
    def _folder(cls, value: str) -> str:
        return normalise_subpath(value)

    @property
    def base(self) -> str:
        """``share`` or ``share/folder``: the root of this entry, relative to the server."""
        return f"{self.share}/{self.folder}" if self.folder else self.share


class SmbConfig(SourceConfig):
    """An SMB file server crawled directly with smbprotocol (no mount on the scan server)."""

    kind: Literal["smb"] = "smb"
    server: str = Field(description="Host name or IP address of the file server.")
    port: int = Field(default=445, ge=1, le=65535)
    username: str | None = Field(
        default=None,
        description="Service account, e.g. 'SCHOOL\\\\svc-schoonschip' or 'svc@SCHOOL.LOCAL'. "
        "May be left out with Kerberos when a ticket cache (kinit/keytab) is present.",
    )
    password: SecretRef | None = None
    auth_protocol: Literal["negotiate", "ntlm", "kerberos"] = Field(
        default="negotiate",
        description="'negotiate': Kerberos, else NTLM; 'kerberos' never falls back to NTLM.",
    )
    require_encryption: bool = Field(
        default=False,
        description=(
            "Refuse servers without SMB3 encryption. Without it, traffic is still encrypted "
            "whenever the server offers SMB3 encryption."
        ),
    )
    require_signing: bool = True
    connection_timeout: float = Field(default=30.0, gt=0)
    shares: list[SmbShare] = Field(min_length=1)
    sid_owners: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Owner SID (from the file's security descriptor) -> teacher e-mail. When empty the "
            "descriptor is not read at all (one round trip per file saved)."
        ),
    )
    broad_sids: list[str] = Field(
        default_factory=lambda: list(DEFAULT_BROAD_SIDS),
        description=(
            "SIDs (with * for a domain part) whose read right makes a file broadly shared: by default "
            "Everyone, Authenticated Users, BUILTIN\\Users and Domain Users; add whole-school groups."
        ),
    )
    owner_cache: bool = Field(
        default=True,
        description=(
            "Remember owner SIDs of unchanged files in the state directory (hashed paths only), "
            "so only new or changed files cost a security-descriptor look-up."
        ),
    )
    fetch_offline_files: bool = Field(
        default=False,
        description=(
            "Read files the server marks offline / recall-on-access (Azure File Sync cloud "
            "tiering, HSM archives). Off: they are listed with the label 'offline' and not "
            "read, so a scan never recalls terabytes from the cloud."
        ),
    )
    max_depth: int = Field(default=64, ge=1, description="Deepest folder level that is walked.")
    follow_reparse_points: bool = Field(
        default=False,
        description="Walk into junctions/symlinks the server reports as reparse points.",
    )
    report_folder_names: bool = Field(
        default=False,
        description=(
            "Name the folder in walk warnings (access denied, loop). Folder names can be personal "
            "data ('Zorg/Jan de Vries'), so this is off unless IT wants them in the run report."
        ),
    )

    quarantine: str = quarantine_field()
    """At the top of each configured share (a rename cannot leave its share), never crawled."""

    @field_validator("quarantine")
    @classmethod
    def _quarantine(cls, value: str) -> str:
        return check_quarantine_name(value)

    @field_validator("server")
    @classmethod
    def _server(cls, value: str) -> str:
        value = value.strip().strip("\\/")
        if not value or any(c in value for c in "\\/"):
            raise ValueError("alleen de servernaam, zonder \\\\ of share / server name only")
        return value

    @field_validator("sid_owners")
    @classmethod
    def _sids(cls, value: dict[str, str]) -> dict[str, str]:
        cleaned: dict[str, str] = {}
        for sid, owner in value.items():
            sid = sid.strip().upper()
            if not _SID.match(sid):
                raise ValueError(
                    f"'{sid}' is geen SID zoals S-1-5-21-...-1104 / "
                    "not a SID like S-1-5-21-...-1104"
                )
            cleaned[sid] = owner
        return cleaned

    @field_validator("broad_sids")
    @classmethod
    def _broad_sids(cls, value: list[str]) -> list[str]:
        cleaned = [sid.strip().upper() for sid in value]
        for sid in cleaned:
            if not _SID_PATTERN.match(sid):
                raise ValueError(f"'{sid}' is geen SID zoals S-1-5-21-*-513 / not a SID like S-1-5-21-*-513")
        return cleaned

    @model_validator(mode="after")
    def _check(self) -> SmbConfig:
        if self.auth_protocol == "ntlm" and (not self.username or self.password is None):
            raise ValueError(
                "NTLM vraagt username en password / NTLM needs a username and a password"
            )
        if self.auth_protocol == "negotiate" and self.username and self.password is None:
            raise ValueError(
                "geef een password (of kies auth_protocol: kerberos met een ticket) / "
                "give a password (or use auth_protocol: kerberos with a ticket)"
            )
        for entry in self.shares:
            if entry.folder and is_inside(entry.folder, self.quarantine):
                raise ValueError(
                    f"'{entry.base}' ligt in de quarantainemap / lies in the quarantine folder")
        bases = [entry.base.lower() for entry in self.shares]
        for i, one in enumerate(bases):
            for other in bases[i + 1:]:
                if one == other or one.startswith(other + "/") or other.startswith(one + "/"):
                    raise ValueError(
                        f"shares '{one}' en '{other}' overlappen / "
                        f"shares '{one}' and '{other}' overlap"
                    )
        return self
