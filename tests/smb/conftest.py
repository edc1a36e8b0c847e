"""Fixtures for the SMB connector tests: one real Samba server per test session on loopback,
serving the generated share tree of :mod:`smb_tree`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from samba_server import Samba, make_base_dir, start_samba, stop_samba
from smb_tree import Tree, build_tree, write_file


@pytest.fixture(scope="session")
def samba() -> Iterator[tuple[Samba, Tree]]:
    """Samba with shares: data (the awkward tree), wijzig (small, mutated by tests), homes
    (P-schijf with one folder per teacher), versleuteld (encryption required), verboden (no
    access for our user)."""
    base = make_base_dir()
    tree = build_tree(base / "data")
    for name in ("wijzig", "homes", "versleuteld", "verboden"):
        (base / name).mkdir(mode=0o755)
        (base / name).chmod(0o755)
    for teacher in ("j.devries", "a.bakker"):
        write_file(base / "homes" / teacher / "cijfers.txt", f"cijfers van {teacher}\n".encode())
        (base / "homes" / teacher).chmod(0o755)
    write_file(base / "homes" / "los-bestand.txt", b"los\n")
    write_file(base / "versleuteld" / "geheim.txt", b"alleen versleuteld\n")
    write_file(base / "verboden" / "x.txt", b"x\n")
    server = start_samba(base, {
        "data": {"path": str(base / "data")},
        "wijzig": {"path": str(base / "wijzig")},
        "persoonlijk": {"path": str(base / "homes")},
        "versleuteld": {"path": str(base / "versleuteld"), "smb encrypt": "required"},
        "verboden": {"path": str(base / "verboden"), "valid users": "iemand-anders"},
    })
    try:
        yield server, tree
    finally:
        stop_samba(server)
