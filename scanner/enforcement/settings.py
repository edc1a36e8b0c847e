"""Settings of optional enforcement (the ``enforcement`` block of the YAML)."""

from __future__ import annotations

from pydantic import Field

from scanner.core.config_base import StrictModel


class EnforcementSettings(StrictModel):
    """Move overdue items a teacher did not answer, N weeks after the first digest that named
    them, to Verwijderde items / the recycle bin / the quarantine folder.

    Off by default: a school switches it on after it told its staff (and its MR, the
    participation council) that it will. ``sources`` lists source kinds or source names;
    the default is the issue's "mailboxes and OneDrive". A listed source whose connector
    cannot move items is reported in the run report, never an error.
    """

    enabled: bool = False
    weeks_after_first_digest: int = Field(default=4, ge=1, le=52)
    """Weeks between the first delivered digest that named an item and its move."""
    notice_days: int = Field(default=7, ge=7, le=90)
    """At least this many days between the first digest that announces the day and the move,
    so a teacher always had one weekly digest with the date in it (also when enforcement is
    switched on for items that were listed long ago)."""
    sources: list[str] = Field(default_factory=lambda: ["graph_mail", "graph_files", "ews", "imap"])
    """Source kinds (``graph_mail``) or source names (``docenten-mail``) the policy acts on."""
