"""Exposure of a file in a local or mounted tree from its POSIX mode and access ACL.

A file is broadly exposed when every account on the machine can read it (``o+r`` on the file
and ``o+x`` on every folder from the source root down, else "others" cannot reach it), or when
a configured whole-school group may read it: the owning group with ``g+r``, or a named group
entry of the access ACL (``system.posix_acl_access``, the kernel's binary form: a 4-byte
version, then entries of tag u16, perm u16, id u32) whose read bit the ACL mask leaves on.
Only reason codes leave this module; a group name is compared, never stored.
"""

from __future__ import annotations

import grp
import os
import stat as st
import struct
from collections.abc import Iterable
from pathlib import Path

from scanner.core.model import Exposure

ACL_XATTR = "system.posix_acl_access"
ACL_VERSION = 2
TAG_GROUP_OBJ, TAG_GROUP, TAG_MASK, TAG_OTHER = 0x04, 0x08, 0x10, 0x20
READ = 0x04


def read_acl(path: Path) -> list[tuple[int, int, int]]:
    """The access ACL's entries (tag, perm, id); ``[]`` when the file has none (mode only) or
    the file system keeps no ACLs."""
    try:
        raw = os.getxattr(path, ACL_XATTR, follow_symlinks=False)
    except OSError:
        return []
    if len(raw) < 4 or struct.unpack_from("<I", raw)[0] != ACL_VERSION:
        return []
    return [struct.unpack_from("<HHI", raw, offset) for offset in range(4, len(raw) - 7, 8)]


def acl_bytes(entries: Iterable[tuple[int, int, int]]) -> bytes:
    """The kernel's binary form of an access ACL (for tests and tools that set one)."""
    return struct.pack("<I", ACL_VERSION) + b"".join(struct.pack("<HHI", *entry) for entry in entries)


class PosixRules:
    """The school's whole-school groups, by name or numeric gid."""

    def __init__(self, broad_groups: Iterable[str], *, world_readable: bool = True) -> None:
        self.world_readable = world_readable
        self.gids: set[int] = set()
        for group in broad_groups:
            if group.isdigit():
                self.gids.add(int(group))
                continue
            try:
                self.gids.add(grp.getgrnam(group).gr_gid)
            except KeyError:
                pass  # a group this machine does not know cannot grant anything here

    def exposure(self, root: Path, relative: str) -> Exposure:
        path = root / relative
        try:
            info = os.stat(path, follow_symlinks=False)
            folders = [os.stat(root / parent) for parent in _parents(relative)]
        except OSError:
            return Exposure.unknown()
        reasons: set[str] = set()
        if self.world_readable and info.st_mode & st.S_IROTH and all(f.st_mode & st.S_IXOTH for f in folders):
            reasons.add("world_readable")
        entries = read_acl(path)
        mask = next((perm for tag, perm, _ in entries if tag == TAG_MASK), READ)
        if info.st_gid in self.gids and info.st_mode & st.S_IRGRP:
            reasons.add("broad_group")  # with an ACL the group bits are the mask: read is on
        for tag, perm, ident in entries:
            if tag == TAG_GROUP and ident in self.gids and perm & READ and mask & READ:
                reasons.add("broad_group")
        return Exposure.of(reasons)


def _parents(relative: str) -> list[str]:
    """"", "a", "a/b" for "a/b/c.txt": the root and each folder down to the file's."""
    parts = relative.split("/")[:-1]
    return ["/".join(parts[:n]) for n in range(len(parts) + 1)]


def sharing_key(info: os.stat_result) -> str:
    """The mode and owning group from the listing's stat: a chmod or chgrp changes neither size
    nor mtime, so this is what tells the pipeline to read the exposure again."""
    return f"{info.st_mode:o}:{info.st_gid}"
