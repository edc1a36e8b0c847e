"""Settings of the FG page on ``schoonschip serve`` (the ``fg_page`` block of the YAML).

The FG signs in with a password IT gives them; the YAML holds only its scrypt hash, made by
``schoonschip fg-password`` (a hash is not the password: it can be in the file, and the file
can be read by IT, who set the password anyway). ``sign_in: entra`` is the seam for the Entra
ID sign-in of the answer service (docs/fg.md): the session machinery stays the same, only the
proof at login changes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from scanner.core.config_base import StrictModel


class FgPageSettings(StrictModel):
    """The FG's read-only page at ``/fg``: off until a password hash is configured."""

    sign_in: Literal["password"] = "password"
    password_hash: str | None = None
    """``scrypt$<log2 n>$<r>$<p>$<salt>$<key>``, from ``schoonschip fg-password``."""
    session_minutes: int = Field(default=60, ge=5, le=720)
    """A signed-in session ends after this long (sign in again)."""
    max_failures: int = Field(default=5, ge=1, le=100)
    """Wrong passwords from one address before it must wait ``lockout_minutes``."""
    lockout_minutes: int = Field(default=15, ge=1, le=1440)

    @field_validator("password_hash")
    @classmethod
    def _hash_format(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from scanner.answers.fg_auth import parse_hash

        parse_hash(value.strip())
        return value.strip()
