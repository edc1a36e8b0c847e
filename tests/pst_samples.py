"""Real Outlook archives for tests, and pupil data planted in them.

The samples come from the npm package pst-extractor@1.12.0 (MIT licence), unpacked by
``scripts/fetch-test-data.sh`` (run by scripts/test.sh) into a cache directory; a test that
needs them is skipped with that script's name when they are missing. ``output.txt`` in the
package is pst-extractor's own listing of the samples: an expected listing that does not come
from the reader under test.

Pupil data is planted by same-length in-place substitution of a mail's body, with the
[MS-PST] permutation and block CRC (:mod:`scanner.demo.pst`, which the demo uses too).
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from scanner.demo.pst import SAMPLE, plant_bodies, replace_encoded, sample_dir

ENRON = SAMPLE
OSTS = ("pstextractortest@outlook.com.ost", "pstextractortestpdf@outlook.com.ost")


def samples_dir() -> Path:
    """The unpacked samples; skips the test (naming the install script) when absent."""
    path = sample_dir()
    if path is None:
        pytest.skip("run scripts/fetch-test-data.sh for the .pst/.ost samples")
    return path


# --- pst-extractor's own listing -------------------------------------------------------------

_TREE_LINE = re.compile(r"^ ((?:\|  )*)\|- (.*)$")


def expected_listing(name: str) -> list[tuple[str, str]]:
    """(folder path, subject) of every mail pst-extractor listed for sample ``name``, folder
    paths below the archive's internal top folder (as schoonschip shows them)."""
    lines = (samples_dir() / "output.txt").read_text(encoding="utf-8").splitlines()
    start = lines.index(f"./testdata/{name}")
    found: list[tuple[str, str]] = []
    stack: list[str] = []
    for line in lines[start + 2:]:
        if line.startswith("./testdata/"):
            break
        match = _TREE_LINE.match(line)
        if not match:
            continue
        depth = len(match.group(1)) // 3
        text = match.group(2)
        if text.startswith("Sender: ") and ", Subject:" in text:
            found.append(("/".join(stack[:depth]), text.split(", Subject:", 1)[1].strip()))
        else:
            del stack[depth:]
            stack.append(text)
    return [(_shown(folder), subject) for folder, subject in found]


_INTERNAL = {"top of personal folders", "root - mailbox", "ipm_subtree"}


def _shown(folder: str) -> str:
    return "/".join(p for p in folder.split("/") if p.lower() not in _INTERNAL)


# --- planting (scanner/demo/pst.py: the demo plants the same way) --------------------------------

def plant(source: Path, target: Path, old_text: str, new_text: str) -> None:
    """Copy ``source`` to ``target`` with ``old_text`` (a mail body, exactly as the reader
    gives it) replaced by ``new_text``, padded with spaces to the same length."""
    plant_bodies(source, target, samples_dir(), {old_text: new_text})


def set_store_password(source: Path, target: Path) -> None:
    """Copy ``source`` with PidTagPstPassword (0x67FF, PtypInteger32) set: its BTH record in the
    message store's property context is ``wPropId wPropType dwValue`` (2.3.3.3), the value
    inline. Outlook stores a CRC of the password there; any non-zero value means "protected"."""
    data = bytearray(source.read_bytes())
    record = struct.pack("<HHI", 0x67FF, 0x0003, 0)
    replace_encoded(data, samples_dir(), record, struct.pack("<HHI", 0x67FF, 0x0003, 0x5C1E0B7A))
    target.write_bytes(bytes(data))


def body_of(path: Path, subject: str) -> str:
    """The plain-text body of the (only) mail with ``subject`` in the archive, as libpff reads it."""
    import pypff

    archive = pypff.file()
    archive.open(str(path))
    try:
        def walk(folder):
            for i in range(folder.number_of_sub_messages):
                yield folder.get_sub_message(i)
            for i in range(folder.number_of_sub_folders):
                yield from walk(folder.get_sub_folder(i))

        bodies = [m.plain_text_body for m in walk(archive.get_root_folder()) if m.subject == subject]
        assert len(bodies) == 1, f"{len(bodies)} mails with that subject"
        return bytes(bodies[0]).decode("utf-8")
    finally:
        archive.close()
