"""Exposure of files on an SMB share from their DACL, against the real Samba (issue 20).

A share of its own, on whose files the tests set POSIX ACLs as IT does with ``setfacl`` on the
file server; Samba presents them over SMB as the DACL (a Unix group is the SID
``S-1-22-2-<gid>``), which the connector reads with SMB2 QUERY_INFO. Samba derives the
DACL of a file without an ACL from its mode: ``o+r`` is an allow-read ACE for Everyone
(S-1-1-0). The classification of SIDs Samba cannot show here (Domain Users of a real domain, a
NULL DACL, a deny that comes first) is checked on the documented ACE shapes directly.
"""

from __future__ import annotations

import grp
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from connectors.posixacl import TAG_GROUP, TAG_GROUP_OBJ, TAG_MASK, TAG_OTHER, acl_bytes
from connectors.smb.exposure import ACCESS_ALLOWED, ACCESS_DENIED, DEFAULT_BROAD_SIDS, SidRules
from scanner.core.model import Exposure, ExposureLevel, ItemKind, ItemRef

from .samba_server import Samba, make_base_dir, start_samba, stop_samba
from .smb_helpers import make_connector
from .smb_tree import write_file

pytestmark = pytest.mark.service

SCHOOL_GROUP = "S-1-22-2-4242"  # the Unix group 4242 ("alle-medewerkers") as Samba names it
READ = 0x001200A9  # FILE_GENERIC_READ | FILE_EXECUTE, what smbcacls calls READ


@pytest.fixture(scope="module")
def acl_share() -> Iterator[Samba]:
    base = make_base_dir()
    share = base / "acl"
    share.mkdir()
    share.chmod(0o755)
    write_file(share / "open.txt", b"Naam;BSN\n", mode=0o644)  # Everyone may read
    # Readable for the scan's account (the share forces group nogroup), not for Everyone.
    nogroup = grp.getgrnam("nogroup").gr_gid
    for name in ("dicht.txt", "groep.txt", "sectie.txt"):
        write_file(share / name, b"Naam;BSN\n", mode=0o640)
        os.chown(share / name, -1, nogroup)
    server = start_samba(base, {"acl": {"path": str(share)}})
    try:
        yield server
    finally:
        stop_samba(server)


def grant_group_read(path, gid: int) -> None:
    """An access ACL granting one group read, written as ``setfacl -m g:<gid>:r`` writes it on
    the file server (the kernel's binary form). Samba's own ``smbcacls`` cannot be used here:
    the 4.17 client has no port option, and the test server cannot take port 445 from the
    machine's other tests."""
    entries = [(0x01, 6, 0xFFFFFFFF), (TAG_GROUP_OBJ, 4, 0xFFFFFFFF), (TAG_GROUP, 4, gid),
               (TAG_MASK, 4, 0xFFFFFFFF), (TAG_OTHER, 0, 0xFFFFFFFF)]
    os.setxattr(path, "system.posix_acl_access", acl_bytes(entries))


def ref(path: str) -> ItemRef:
    return ItemRef(source="fileserver", item_key=f"acl/{path}", kind=ItemKind.FILE, owner="it@school.nl", folder="",
                   title=path, date=datetime(2025, 1, 1, tzinfo=UTC))


def test_the_dacl_decides_exposure_on_a_real_share(acl_share) -> None:
    share = acl_share.shares["acl"]
    grant_group_read(share / "groep.txt", 4242)
    grant_group_read(share / "sectie.txt", 4243)  # one section: not the whole school
    connector = make_connector(acl_share, [{"share": "acl", "owner": "it@school.nl"}],
                               broad_sids=[*DEFAULT_BROAD_SIDS, SCHOOL_GROUP])
    try:
        assert "S-1-1-0" in {sid for _, _, sid in connector.client.dacl("acl/open.txt") or ()}
        assert connector.exposure(ref("open.txt")) == Exposure(ExposureLevel.BROAD, ("broad_group",))
        assert connector.exposure(ref("dicht.txt")) == Exposure(ExposureLevel.LIMITED)
        assert SCHOOL_GROUP in {sid for _, _, sid in connector.client.dacl("acl/groep.txt") or ()}
        assert connector.exposure(ref("groep.txt")).broad
        assert connector.exposure(ref("sectie.txt")) == Exposure(ExposureLevel.LIMITED)
        # Gone meanwhile, or unreadable: unknown, never private, never a stop.
        assert connector.exposure(replace(ref("open.txt"), item_key="acl/weg.txt")) == Exposure.unknown()
    finally:
        connector.close()
    # Without the school group configured, the same grant is not broad.
    plain = make_connector(acl_share, [{"share": "acl", "owner": "it@school.nl"}])
    try:
        assert plain.exposure(ref("groep.txt")) == Exposure(ExposureLevel.LIMITED)
    finally:
        plain.close()


def test_documented_ace_shapes() -> None:
    rules = SidRules(DEFAULT_BROAD_SIDS)
    domain_users = "S-1-5-21-1004336348-1177238915-682003330-513"
    teacher = "S-1-5-21-1004336348-1177238915-682003330-1104"
    assert rules.exposure([(ACCESS_ALLOWED, READ, domain_users)]).broad
    assert rules.exposure([(ACCESS_ALLOWED, READ, "S-1-5-11")]).broad
    assert not rules.exposure([(ACCESS_ALLOWED, READ, teacher)]).broad
    assert not rules.exposure([(ACCESS_ALLOWED, 0x00100000, "S-1-1-0")]).broad  # SYNCHRONIZE only
    assert not rules.exposure([(ACCESS_DENIED, READ, "S-1-1-0"), (ACCESS_ALLOWED, READ, "S-1-1-0")]).broad
    assert rules.exposure([(ACCESS_ALLOWED, 0x80000000, "S-1-1-0")]).broad  # GENERIC_READ
    assert rules.exposure(None).broad  # a NULL DACL grants everyone everything
    assert rules.exposure([]) == Exposure(ExposureLevel.LIMITED)  # an empty DACL grants nothing
