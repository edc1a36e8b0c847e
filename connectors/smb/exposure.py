"""Exposure of a file on an SMB share from the DACL of its security descriptor (issue 20).

Broad when an access-allowed ACE that grants read names a broad principal: Everyone
(S-1-1-0), Authenticated Users (S-1-5-11), BUILTIN\\Users (S-1-5-32-545, which holds Domain
Users on every domain member), Domain Users (``S-1-5-21-<domain>-513``) or a configured
whole-school group; a NULL DACL (no DACL at all) grants everyone everything. A deny ACE for
the same principal that comes first (canonical order: deny before allow) takes the read away
again. The share's own permissions are not consulted: they can only narrow what the NTFS ACL
allows, and the file's DACL is what survives a copy to another share. Only a reason code
leaves this module, never a SID.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence

from scanner.core.model import Exposure

DEFAULT_BROAD_SIDS = ("S-1-1-0", "S-1-5-11", "S-1-5-32-545", "S-1-5-21-*-513")
"""Everyone, Authenticated Users, BUILTIN\\Users, Domain Users (any domain)."""
ACCESS_ALLOWED, ACCESS_DENIED = 0x00, 0x01
READ_BITS = 0x00000001 | 0x80000000 | 0x10000000 | 0x02000000
"""FILE_READ_DATA, GENERIC_READ, GENERIC_ALL, MAXIMUM_ALLOWED ([MS-DTYP] 2.4.3)."""


class SidRules:
    """Which SIDs count as broad (patterns with ``*``, as ``S-1-5-21-*-513``)."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(p.upper() for p in patterns)

    def broad(self, sid: str) -> bool:
        sid = sid.upper()
        return any(fnmatch.fnmatchcase(sid, pattern) for pattern in self.patterns)

    def exposure(self, dacl: Sequence[tuple[int, int, str]] | None) -> Exposure:
        if dacl is None:
            return Exposure.of({"broad_group"})  # a NULL DACL: everyone, full control
        denied: set[str] = set()
        for ace_type, mask, sid in dacl:
            if not mask & READ_BITS:
                continue
            if ace_type == ACCESS_DENIED:
                denied.add(sid.upper())
            elif ace_type == ACCESS_ALLOWED and sid.upper() not in denied and self.broad(sid):
                return Exposure.of({"broad_group"})
        return Exposure.of(())
