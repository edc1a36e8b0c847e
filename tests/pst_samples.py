"""Real Outlook archives for tests, and pupil data planted in them.

The samples come from the npm package pst-extractor@1.12.0 (MIT licence), unpacked by
``scripts/fetch-test-data.sh`` (run by scripts/test.sh) into a cache directory; a test that
needs them is skipped with that script's name when they are missing. ``output.txt`` in the
package is pst-extractor's own listing of the samples: an expected listing that does not come
from the reader under test.

We cannot write a .pst, so pupil data is planted the way [MS-PST] allows without one: a mail's
plain-text body (PidTagBody, UTF-16LE in a Unicode .pst) is replaced in place by a Dutch text of
the same length. Data blocks of a .pst with ``bCryptMethod`` NDB_CRYPT_PERMUTE (2.2.2.6) are
encoded byte by byte with the permutation of 5.1, so the encoded old text is found in the file
and the encoded new text written over it; then the block's BLOCKTRAILER (2.2.2.8.1: ``cb``,
``wSig``, ``dwCRC``, ``bid``) gets the CRC of 5.3 over the new data. The block is identified by
its stored CRC matching the unchanged data, so a wrong guess is never rewritten.
"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path

import pytest

VERSION = "1.12.0"
ENRON = "enron.pst"
OSTS = ("pstextractortest@outlook.com.ost", "pstextractortestpdf@outlook.com.ost")


def samples_dir() -> Path:
    """The unpacked samples; skips the test (naming the install script) when absent."""
    base = os.environ.get("SCHOONSCHIP_TESTDATA") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "schoonschip" / "testdata")
    path = Path(base) / f"pst-extractor-{VERSION}"
    if not (path / ".complete").is_file():
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


# --- planting --------------------------------------------------------------------------------

def _decode_table() -> list[int]:
    """[MS-PST] 5.1's decoding permutation, as pst-extractor ships it (dist/PSTUtil.class.js)."""
    source = (samples_dir() / "PSTUtil.class.js").read_text(encoding="utf-8")
    match = re.search(r"compEnc = \[([^\]]*)\]", source)
    assert match, "no permutation table in PSTUtil.class.js"
    table = [int(v, 16) for v in re.findall(r"0x[0-9a-fA-F]+", match.group(1))]
    assert sorted(table[:256]) == list(range(256)), "the table is no permutation"
    return table[:256]


def _encoder() -> bytes:
    decode = _decode_table()
    encode = [0] * 256
    for plain_from, plain in enumerate(decode):
        encode[plain] = plain_from
    return bytes(encode)


def _crc_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC = _crc_table()


def pst_crc(data: bytes) -> int:
    """[MS-PST] 5.3 ComputeCRC with dwCRC = 0: the reflected CRC-32 table, no final XOR."""
    crc = 0
    for byte in data:
        crc = _CRC[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


def _align64(n: int) -> int:
    return (n + 63) // 64 * 64


def _block_of(data: bytearray, offset: int, length: int) -> tuple[int, int]:
    """(start, cb) of the Unicode data block holding ``data[offset:offset+length]``, found by
    its trailer: the first 64-aligned trailer after it whose cb covers the range and whose
    stored CRC is the CRC of the block's data."""
    end = _align64(offset + length + 1)
    while end <= min(len(data), offset + 8192 + 64):
        cb, _sig, crc = struct.unpack_from("<HHI", data, end - 16)
        start = end - _align64(cb + 16)
        if 0 < cb <= 8176 and start <= offset and offset + length <= start + cb \
                and pst_crc(bytes(data[start:start + cb])) == crc:
            return start, cb
        end += 64
    raise AssertionError("no block trailer found for the planted text")


def _replace_encoded(data: bytearray, old_plain: bytes, new_plain: bytes) -> None:
    """Replace the one encoded occurrence of ``old_plain`` by encoded ``new_plain`` (same
    length) and give its block the CRC of its new data."""
    assert len(old_plain) == len(new_plain)
    assert data[:4] == b"!BDN" and data[10:12] in (b"\x17\x00", b"\x24\x00"), "not a Unicode .pst"
    assert data[513] == 1, "not NDB_CRYPT_PERMUTE"
    encode = _encoder()
    old, new = old_plain.translate(encode), new_plain.translate(encode)
    offset = data.find(old)
    assert offset >= 0, "the old bytes are not in one piece in the file"
    assert data.find(old, offset + 1) < 0, "the old bytes are in the file twice"
    start, cb = _block_of(data, offset, len(old))
    data[offset:offset + len(old)] = new
    struct.pack_into("<I", data, start + _align64(cb + 16) - 12, pst_crc(bytes(data[start:start + cb])))


def plant(source: Path, target: Path, old_text: str, new_text: str) -> None:
    """Copy ``source`` to ``target`` with ``old_text`` (a mail body, exactly as the reader
    gives it) replaced by ``new_text``, padded with spaces to the same length."""
    assert len(new_text) <= len(old_text), "the planted text must fit in the old one"
    data = bytearray(source.read_bytes())
    _replace_encoded(data, old_text.encode("utf-16-le"), new_text.ljust(len(old_text)).encode("utf-16-le"))
    target.write_bytes(bytes(data))


def set_store_password(source: Path, target: Path) -> None:
    """Copy ``source`` with PidTagPstPassword (0x67FF, PtypInteger32) set: its BTH record in the
    message store's property context is ``wPropId wPropType dwValue`` (2.3.3.3), the value
    inline. Outlook stores a CRC of the password there; any non-zero value means "protected"."""
    data = bytearray(source.read_bytes())
    record = struct.pack("<HHI", 0x67FF, 0x0003, 0)
    _replace_encoded(data, record, struct.pack("<HHI", 0x67FF, 0x0003, 0x5C1E0B7A))
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
