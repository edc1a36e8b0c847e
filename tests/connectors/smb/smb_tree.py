"""The generated share tree for the SMB tests: the awkward cases a school file server has."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

OLD = datetime(2019, 6, 30, 12, 0, 0, tzinfo=UTC)
"""Modification time given to the fixed files, so ItemRef.date can be checked exactly."""
MAPPED_UID = 41104
"""A Unix uid Samba reports as owner SID S-1-22-1-41104 (its 'Unix User' domain)."""
MAPPED_SID = f"S-1-22-1-{MAPPED_UID}"
BIG_DIR_FILES = 10_000
ODD_NAMES = [
    "met spatie.txt",
    "Ünïcødé €uro – 日本.txt",
    "hash#teken.txt",
    "procent%20teken.txt",
    "haakjes (1) [2] {3}.txt",
    "punt.aan.het.eind.",
    "  spaties rondom  .txt",
]
LONG_PARTS = ["Leerlingdossier schooljaar 2019-2020 groep acht",
              "Onderwijskundig rapport en bijlagen"] * 3
LOOP_NAME = "terug-naar-boven"


@dataclass
class Tree:
    """Where the generated files are, relative to the share root."""

    root: Path
    long_file: str
    pst_file: str


def write_file(path: Path, data: bytes, when: datetime = OLD, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp))


def build_tree(root: Path) -> Tree:
    """The 'data' share: normal folders, odd names, a denied folder, a loop, 10,000 files,
    a long path and an old .pst archive."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    write_file(root / "leesmij.txt", b"Welkom op de gedeelde schijf.\n")
    write_file(root / "Zorg" / "OPP Klas 3B.txt", b"Ontwikkelingsperspectief, vertrouwelijk.\n")
    write_file(root / "Zorg" / "van-juf.txt", b"Bestand van een eigenaar met een SID.\n")
    os.chown(root / "Zorg" / "van-juf.txt", MAPPED_UID, -1)
    for name in ODD_NAMES:
        write_file(root / "Raar" / name, f"inhoud van {name}\n".encode())
    # A folder the forced user 'nobody' may not open: real access denied (not for root).
    write_file(root / "Geheim" / "niet-zichtbaar.txt", b"x\n")
    (root / "Geheim").chmod(0o000)
    # A symlink loop: Samba follows symlinks inside the share by default.
    (root / "Lus").mkdir()
    write_file(root / "Lus" / "in-de-lus.txt", b"lus\n")
    os.symlink("..", root / "Lus" / LOOP_NAME)
    big = root / "Groot"
    big.mkdir()
    for i in range(BIG_DIR_FILES):
        (big / f"f{i:05d}.txt").write_bytes(b"")
    long_dir = root.joinpath(*LONG_PARTS)
    long_file = "/".join(LONG_PARTS) + "/eindelijk het bestand met een lange naam.txt"
    write_file(root / long_file, b"diep\n")
    pst_file = "Archief/outlook-2014.pst"
    write_file(root / pst_file, b"!BDN" + b"\0" * 508, when=datetime(2014, 7, 1, tzinfo=UTC))
    for directory in [p for p in root.rglob("*") if p.is_dir() and not p.is_symlink()]:
        if directory.name != "Geheim":
            directory.chmod(0o755)
    assert len(str(long_dir)) > 260
    return Tree(root, long_file, pst_file)
