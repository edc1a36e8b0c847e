"""Fixtures for the SMB connector tests: one real Samba server per test session on loopback,
serving the generated share tree of :mod:`smb_tree`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .samba_server import Samba, make_base_dir, start_samba, stop_samba
from .smb_tree import Tree, build_tree, write_file


@pytest.fixture(scope="session")
def samba() -> Iterator[tuple[Samba, Tree]]:
    """Samba with shares: data (the awkward tree), wijzig (small, mutated by tests), homes
    (P-schijf with one folder per teacher), versleuteld (encryption required), verboden (no
    access for our user), schrijf (writable: the only share where a removal may move files)."""
    base = make_base_dir()
    tree = build_tree(base / "data")
    for name in ("wijzig", "homes", "versleuteld", "verboden"):
        (base / name).mkdir(mode=0o755)
        (base / name).chmod(0o755)
    for teacher in ("j.devries", "a.bakker"):
        write_file(base / "homes" / teacher / "cijfers.txt", f"cijfers van {teacher}\n".encode())
        (base / "homes" / teacher).chmod(0o755)
    write_file(base / "homes" / "los-bestand.txt", b"los\n")
    (base / "schrijf").mkdir()
    (base / "schrijf").chmod(0o777)  # the forced user 'nobody' renames and creates folders
    write_file(base / "versleuteld" / "geheim.txt", b"alleen versleuteld\n")
    write_file(base / "verboden" / "x.txt", b"x\n")
    server = start_samba(base, {
        "data": {"path": str(base / "data")},
        "wijzig": {"path": str(base / "wijzig")},
        "persoonlijk": {"path": str(base / "homes")},
        "versleuteld": {"path": str(base / "versleuteld"), "smb encrypt": "required"},
        "verboden": {"path": str(base / "verboden"), "valid users": "iemand-anders"},
        # Folders the forced user creates must stay writable for the logged-in user: Samba
        # checks the NT ACL it derives from the mode, in which our token is not the owner.
        "schrijf": {"path": str(base / "schrijf"), "read only": "no",
                    "directory mask": "0777", "force directory mode": "0777"},
    })
    try:
        yield server, tree
    finally:
        stop_samba(server)
