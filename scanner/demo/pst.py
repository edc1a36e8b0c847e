"""An old Outlook archive for the demo's shared folder, with pupil mails planted in a real .pst.

schoonschip cannot write a .pst, and a home-made one would only show that the reader reads
what the writer writes. So the demo (and the tests) take a real archive, pst-extractor's
``enron.pst`` (npm package pst-extractor@1.12.0, MIT licence, unpacked by
``scripts/fetch-test-data.sh`` into a cache directory; nothing is downloaded at run time), and
replace the plain-text body of a few of its mails in place by Dutch mails about fictional
pupils of the same length:

* a Unicode .pst whose ``bCryptMethod`` is NDB_CRYPT_PERMUTE ([MS-PST] 2.2.2.6) encodes every
  byte of a data block with the permutation of 5.1, so the encoded old body (PidTagBody,
  UTF-16LE) is found in the file and the encoded new body written over it;
* the block's trailer (2.2.2.8.1: ``cb``, ``wSig``, ``dwCRC``, ``bid``) then gets the CRC of
  5.3 over the new data. The block is identified by its stored CRC matching the unchanged
  data, so a wrong guess is refused, never rewritten.

Without the cached sample the demo has no .pst and says so.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

VERSION = "1.12.0"
SAMPLE = "enron.pst"


class PlantError(ValueError):
    """The text cannot be planted here (not in one piece, not a permuted Unicode .pst)."""


def sample_dir() -> Path | None:
    """The unpacked pst-extractor samples, or None when scripts/fetch-test-data.sh has not run."""
    base = os.environ.get("SCHOONSCHIP_TESTDATA") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "schoonschip" / "testdata")
    path = Path(base) / f"pst-extractor-{VERSION}"
    return path if (path / ".complete").is_file() else None


def _decode_table(samples: Path) -> list[int]:
    """[MS-PST] 5.1's decoding permutation, as pst-extractor ships it (dist/PSTUtil.class.js)."""
    source = (samples / "PSTUtil.class.js").read_text(encoding="utf-8")
    match = re.search(r"compEnc = \[([^\]]*)\]", source)
    if not match:
        raise PlantError("no permutation table in PSTUtil.class.js")
    table = [int(v, 16) for v in re.findall(r"0x[0-9a-fA-F]+", match.group(1))][:256]
    if sorted(table) != list(range(256)):
        raise PlantError("the table in PSTUtil.class.js is no permutation")
    return table


def _encoder(samples: Path) -> bytes:
    encode = [0] * 256
    for encoded, plain in enumerate(_decode_table(samples)):
        encode[plain] = encoded
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
    """(start, cb) of the Unicode data block holding ``data[offset:offset+length]``: the first
    64-aligned trailer after it whose cb covers the range and whose stored CRC is the CRC of
    the block's data."""
    end = _align64(offset + length + 1)
    while end <= min(len(data), offset + 8192 + 64):
        cb, _sig, crc = struct.unpack_from("<HHI", data, end - 16)
        start = end - _align64(cb + 16)
        if 0 < cb <= 8176 and start <= offset and offset + length <= start + cb \
                and pst_crc(bytes(data[start:start + cb])) == crc:
            return start, cb
        end += 64
    raise PlantError("no block trailer found around the text")


def replace_encoded(data: bytearray, samples: Path, old_plain: bytes, new_plain: bytes) -> None:
    """Replace the one encoded occurrence of ``old_plain`` by encoded ``new_plain`` (same
    length) and give its block the CRC of its new data."""
    if len(old_plain) != len(new_plain):
        raise PlantError("old and new must have the same length")
    if bytes(data[:4]) != b"!BDN" or bytes(data[10:12]) not in (b"\x17\x00", b"\x24\x00"):
        raise PlantError("not a Unicode .pst")
    if data[513] != 1:
        raise PlantError("not NDB_CRYPT_PERMUTE")
    encode = _encoder(samples)
    old, new = old_plain.translate(encode), new_plain.translate(encode)
    offset = data.find(old)
    if offset < 0:
        raise PlantError("the old text is not in one piece in the file")
    if data.find(old, offset + 1) >= 0:
        raise PlantError("the old text is in the file twice")
    start, cb = _block_of(data, offset, len(old))
    data[offset:offset + len(old)] = new
    struct.pack_into("<I", data, start + _align64(cb + 16) - 12, pst_crc(bytes(data[start:start + cb])))


def plant_bodies(source: Path, target: Path, samples: Path, bodies: dict[str, str]) -> None:
    """Copy ``source`` to ``target`` with each old body (exactly as libpff reads it) replaced
    by its new text, padded with spaces to the same length."""
    data = bytearray(source.read_bytes())
    for old_text, new_text in bodies.items():
        if len(new_text) > len(old_text):
            raise PlantError("the planted text must fit in the old one")
        replace_encoded(data, samples, old_text.encode("utf-16-le"),
                        new_text.ljust(len(old_text)).encode("utf-16-le"))
    target.write_bytes(bytes(data))


def plain_bodies(path: Path) -> Iterator[tuple[int, str, str]]:
    """(node id, subject, plain-text body) of every mail with a plain body, as libpff reads them."""
    import pypff

    archive = pypff.file()
    archive.open(str(path))
    try:
        def walk(folder: Any) -> Iterator[Any]:
            for i in range(folder.number_of_sub_messages):
                yield folder.get_sub_message(i)
            for i in range(folder.number_of_sub_folders):
                yield from walk(folder.get_sub_folder(i))

        for message in walk(archive.get_root_folder()):
            body = message.plain_text_body
            if body:
                yield int(message.identifier), message.subject or "", bytes(body).decode("utf-8", "replace")
    finally:
        archive.close()


def write_planted_archive(target: Path, texts: list[str]) -> list[int] | None:
    """Write ``target``: the sample archive with ``texts`` planted as the bodies of mails long
    enough to hold them (one text per mail, in the archive's order). Returns the node ids of the
    planted mails, or None when the sample is not in the cache."""
    samples = sample_dir()
    if samples is None:
        return None
    source = samples / SAMPLE
    data = bytearray(source.read_bytes())
    planted: list[int] = []
    left = list(texts)
    for identifier, _subject, body in plain_bodies(source):
        if not left:
            break
        if len(body) < len(left[0]):
            continue
        trial = bytearray(data)
        try:
            replace_encoded(trial, samples, body.encode("utf-16-le"),
                            left[0].ljust(len(body)).encode("utf-16-le"))
        except PlantError:
            continue  # spread over blocks, or twice in the file: the next mail
        data = trial
        planted.append(identifier)
        left.pop(0)
    if left:
        raise PlantError("the sample has too few mails long enough for the planted texts")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(bytes(data))
    return planted
