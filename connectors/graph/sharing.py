"""A drive item's exposure from its Graph sharing permissions (issue 20, item 3).

``GET /drives/{drive-id}/items/{item-id}/permissions`` lists the item's permission resources
(paged with ``@odata.nextLink``). Graph documents the forms by facet: a sharing *link* has
``link.scope`` ``anonymous`` ("anyone with the link"), ``organization`` (everyone in the
tenant) or ``users`` / ``existingAccess`` (specific people); a direct grant names who in
``grantedToV2`` (a ``sharePointIdentitySet``: ``user``, ``group``, ``siteUser``, ``siteGroup``),
link grants in ``grantedToIdentitiesV2``; ``grantedTo`` / ``grantedToIdentities`` are the
deprecated forms some tenants still return; ``invitation`` carries the invited address. The
owner's own permission (``roles: ["owner"]``) says nothing about exposure.

What we take for broad: an anonymous link, an organisation link, a grant to Everyone or
"Everyone except external users" (SharePoint's claims ``c:0(.s|true`` and
``c:0-.f|rolemanager|spo-grid-all-users/<tenant>``) or a configured whole-school group, and
any guest: an identity whose address lies outside the school's domains or whose login carries
``#ext#`` (how Entra names B2B guests). Only reason codes leave this module, never a name.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from scanner.core.model import Exposure

BROAD_NAMES = frozenset({
    "everyone", "everyone except external users", "iedereen", "iedereen behalve externe gebruikers",
    "all users", "alle gebruikers",
})
"""Display names of SharePoint's built-in broad principals (English and Dutch tenants)."""
BROAD_CLAIMS = ("c:0(.s|true", "spo-grid-all-users", "c:0!.s|windows")
"""Login-name claims of the same principals (Everyone, Everyone except external users,
all Windows-authenticated users)."""
LINK_REASONS = {"anonymous": "anonymous_link", "organization": "organisation_link"}


def sharing_key(item: dict[str, Any]) -> str | None:
    """What changes when a delta item's sharing may have changed: its eTag (which moves on any
    change of the item, sharing included) and its ``shared`` facet. Hashed: an eTag holds the
    item's id, and the store keeps no ids in clear."""
    etag, shared = item.get("eTag"), item.get("shared")
    if etag is None and shared is None:
        return None
    raw = json.dumps([etag, shared], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


class SharingRules:
    """The school's notion of broad: its own domains and whole-school groups."""

    def __init__(self, internal_domains: Iterable[str], broad_groups: Iterable[str]) -> None:
        self.domains = frozenset(d.lower().lstrip("@") for d in internal_domains if d)
        self.groups = frozenset(g.lower() for g in broad_groups if g) | BROAD_NAMES

    def exposure(self, permissions: Iterable[dict[str, Any]]) -> Exposure:
        reasons: set[str] = set()
        for permission in permissions:
            if "owner" in (permission.get("roles") or ()):
                continue
            scope = str((permission.get("link") or {}).get("scope") or "").lower()
            if scope in LINK_REASONS:
                reasons.add(LINK_REASONS[scope])
            invited = (permission.get("invitation") or {}).get("email")
            if invited and self._external_address(str(invited)):
                reasons.add("external_guest")
            for identity_set in _identity_sets(permission):
                reasons |= self._identity_reasons(identity_set)
        return Exposure.of(reasons)

    def _identity_reasons(self, identity_set: dict[str, Any]) -> set[str]:
        reasons: set[str] = set()
        for facet in ("group", "siteGroup", "user", "siteUser"):
            identity = identity_set.get(facet)
            if not isinstance(identity, dict):
                continue
            name = str(identity.get("displayName") or "").lower()
            ident = str(identity.get("id") or "").lower()
            login = str(identity.get("loginName") or "").lower()
            if name in self.groups or ident in self.groups or any(claim in login for claim in BROAD_CLAIMS):
                reasons.add("broad_group")
                continue
            if facet in ("user", "siteUser"):
                address = str(identity.get("email") or identity.get("userPrincipalName") or "")
                if "#ext#" in login or "#ext#" in address.lower() or (address and self._external_address(address)):
                    reasons.add("external_guest")
        return reasons

    def _external_address(self, address: str) -> bool:
        domain = address.rpartition("@")[2].lower()
        return bool(self.domains) and "@" in address and domain not in self.domains


def _identity_sets(permission: dict[str, Any]) -> list[dict[str, Any]]:
    sets: list[dict[str, Any]] = []
    for single in ("grantedToV2", "grantedTo"):
        if isinstance(permission.get(single), dict):
            sets.append(permission[single])
    for many in ("grantedToIdentitiesV2", "grantedToIdentities"):
        sets.extend(s for s in permission.get(many) or () if isinstance(s, dict))
    return sets
