"""Exposure of files in a local or mounted tree from POSIX mode and access ACL (issue 20).

Real modes and a real ``system.posix_acl_access`` extended attribute on the test's file system
(the kernel's binary ACL form, as ``setfacl`` writes it); the pipeline part counts how often a
file's permissions are read: for new and changed files and after a chmod, never for an
unchanged rescan.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from connectors.folder import FolderConfig, FolderConnector
from connectors.posixacl import (
    TAG_GROUP,
    TAG_GROUP_OBJ,
    TAG_MASK,
    TAG_OTHER,
    PosixRules,
    acl_bytes,
    read_acl,
)
from scanner.config import load_config
from scanner.core.model import Cursor, Exposure, ExposureLevel, Seen
from scanner.jobs import run_scan
from scanner.store import open_store

SCHOOL_GID = 4242  # a whole-school group ("alle-medewerkers"), by gid
TODAY = datetime(2025, 3, 1, 12, tzinfo=UTC)
USER_OBJ = 0x01


def tree(root: Path) -> None:
    (root / "Gedeeld" / "Klas 3B").mkdir(parents=True)
    (root / "Prive").mkdir()
    for folder in (root, root / "Gedeeld", root / "Gedeeld" / "Klas 3B"):
        folder.chmod(0o755)
    (root / "Prive").chmod(0o750)
    (root / "Gedeeld" / "Klas 3B" / "lijst.csv").write_text("Naam;BSN\nDaan de Vries;111222333\n")
    (root / "Gedeeld" / "Klas 3B" / "lijst.csv").chmod(0o644)
    (root / "Gedeeld" / "eigen.txt").write_text("notitie\n")
    (root / "Gedeeld" / "eigen.txt").chmod(0o600)
    (root / "Prive" / "los.txt").write_text("notitie\n")
    (root / "Prive" / "los.txt").chmod(0o644)  # o+r, but others cannot enter Prive


def acl_supported(path: Path) -> bool:
    try:
        os.setxattr(path, "system.posix_acl_access", acl_bytes(
            [(USER_OBJ, 6, 0xFFFFFFFF), (TAG_GROUP_OBJ, 0, 0xFFFFFFFF), (TAG_MASK, 0, 0xFFFFFFFF),
             (TAG_OTHER, 0, 0xFFFFFFFF)]))
    except OSError:
        return False
    return True


def test_mode_decides_world_readable_only_where_others_can_reach(tmp_path) -> None:
    tree(tmp_path)
    rules = PosixRules([str(SCHOOL_GID)])
    assert rules.exposure(tmp_path, "Gedeeld/Klas 3B/lijst.csv") == Exposure(ExposureLevel.BROAD, ("world_readable",))
    assert rules.exposure(tmp_path, "Gedeeld/eigen.txt") == Exposure(ExposureLevel.LIMITED)
    assert rules.exposure(tmp_path, "Prive/los.txt") == Exposure(ExposureLevel.LIMITED)
    assert rules.exposure(tmp_path, "Gedeeld/weg.txt") == Exposure.unknown()  # cannot be read: unknown
    # A CIFS mount's mode bits are the mount's: IT can switch the o+r rule off.
    mounted = PosixRules([], world_readable=False)
    assert mounted.exposure(tmp_path, "Gedeeld/Klas 3B/lijst.csv") == Exposure(ExposureLevel.LIMITED)


def test_a_named_group_acl_entry_for_a_school_group_is_broad(tmp_path) -> None:
    tree(tmp_path)
    path = tmp_path / "Gedeeld" / "eigen.txt"
    if not acl_supported(path):
        pytest.skip("file system without POSIX ACLs")
    entries = [(USER_OBJ, 6, 0xFFFFFFFF), (TAG_GROUP_OBJ, 0, 0xFFFFFFFF), (TAG_GROUP, 4, SCHOOL_GID),
               (TAG_MASK, 4, 0xFFFFFFFF), (TAG_OTHER, 0, 0xFFFFFFFF)]
    os.setxattr(path, "system.posix_acl_access", acl_bytes(entries))
    assert read_acl(path) == entries
    assert PosixRules([str(SCHOOL_GID)]).exposure(tmp_path, "Gedeeld/eigen.txt").reasons == ("broad_group",)
    assert PosixRules(["4243"]).exposure(tmp_path, "Gedeeld/eigen.txt").level is ExposureLevel.LIMITED
    # The mask takes the read right away again: not broad.
    masked = [(t, 0 if t == TAG_MASK else p, i) for t, p, i in entries]
    os.setxattr(path, "system.posix_acl_access", acl_bytes(masked))
    assert PosixRules([str(SCHOOL_GID)]).exposure(tmp_path, "Gedeeld/eigen.txt").level is ExposureLevel.LIMITED


def test_the_owning_group_counts_when_it_is_a_school_group(tmp_path) -> None:
    tree(tmp_path)
    path = tmp_path / "Gedeeld" / "eigen.txt"
    path.chmod(0o640)
    gid = os.stat(path).st_gid
    assert PosixRules([str(gid)]).exposure(tmp_path, "Gedeeld/eigen.txt").reasons == ("broad_group",)


def test_the_listing_carries_a_sharing_key_that_a_chmod_moves(tmp_path) -> None:
    tree(tmp_path)
    connector = FolderConnector(FolderConfig(name="g", kind="folder", path=tmp_path, owner="x@s.nl"))

    def keys() -> dict[str, str | None]:
        out = {}
        for unit in connector.units():
            for event in connector.crawl(unit, None):
                if isinstance(event, Seen):
                    out[event.ref.item_key] = event.ref.sharing_key
                else:
                    assert isinstance(event, Cursor)
        return out

    before = keys()
    (tmp_path / "Gedeeld" / "eigen.txt").chmod(0o644)
    after = keys()
    assert before["Gedeeld/eigen.txt"] != after["Gedeeld/eigen.txt"]
    assert before["Gedeeld/Klas 3B/lijst.csv"] == after["Gedeeld/Klas 3B/lijst.csv"]


def test_the_pipeline_reads_permissions_only_for_what_changed(tmp_path, monkeypatch) -> None:
    root = tmp_path / "share"
    root.mkdir()
    tree(root)
    data = {"state_dir": str(tmp_path / "state"), "secret_file": str(tmp_path / "hmac.key"),
            "school": {"name": "Test"}, "detection": {"spacy_model": "none"},
            "sources": [{"name": "share", "kind": "folder", "path": str(root), "owner": "ib@school.nl"}]}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    config = load_config(tmp_path / "c.yaml")
    reads: list[str] = []
    original = PosixRules.exposure

    def counting(self, base, relative):  # counts on the connector's side of the boundary
        reads.append(relative)
        return original(self, base, relative)

    monkeypatch.setattr(PosixRules, "exposure", counting)

    def stored() -> dict[str, tuple[str | None, bool | None]]:
        store = open_store(config)
        try:
            return {i.item_key: (i.exposure, i.broadly_shared) for i in store.iter_items()}
        finally:
            store.close()

    run_scan(config, progress=False, echo=lambda line: None, today=TODAY)
    assert sorted(reads) == ["Gedeeld/Klas 3B/lijst.csv", "Gedeeld/eigen.txt", "Prive/los.txt"]
    assert stored()["Gedeeld/Klas 3B/lijst.csv"] == ("breed_gedeeld", True)
    assert stored()["Gedeeld/eigen.txt"][0] == "beperkt"
    reads.clear()
    run_scan(config, progress=False, echo=lambda line: None, today=TODAY)
    assert reads == []
    (root / "Gedeeld" / "Klas 3B" / "lijst.csv").chmod(0o600)  # the share is narrowed
    run_scan(config, progress=False, echo=lambda line: None, today=TODAY)
    assert reads == ["Gedeeld/Klas 3B/lijst.csv"]
    assert stored()["Gedeeld/Klas 3B/lijst.csv"] == ("beperkt", False)
