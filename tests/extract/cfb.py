"""A small writer for Microsoft compound files (CFB v3), so the tests can build real .msg
files and password-protected Office containers without binary fixtures.

Only what readers need: 512-byte sectors, a FAT, one directory chain, a mini stream for
streams under 4096 bytes. Siblings are laid out as a right-leaning chain, which is a valid
(if unbalanced) search tree in CFB's name order.
"""

from __future__ import annotations

import struct
from itertools import pairwise

SECTOR = 512
MINI = 64
CUTOFF = 4096
FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF

Tree = dict  # name -> bytes (stream) or Tree (storage)


class _Entry:
    def __init__(self, name: str, kind: int, data: bytes = b"") -> None:
        self.name, self.kind, self.data = name, kind, data
        self.left = self.right = self.child = NOSTREAM
        self.start, self.size = END, len(data)


def _order(name: str) -> tuple[int, str]:
    return (len(name), name.upper())


def write(tree: Tree) -> bytes:
    entries = [_Entry("Root Entry", 5)]

    def add(storage_index: int, children: Tree) -> None:
        indices = []
        for name in sorted(children, key=_order):
            value = children[name]
            entry = _Entry(name, 1 if isinstance(value, dict) else 2,
                           b"" if isinstance(value, dict) else value)
            entries.append(entry)
            index = len(entries) - 1
            indices.append(index)
            if isinstance(value, dict):
                add(index, value)
        if indices:
            entries[storage_index].child = indices[0]
            for a, b in pairwise(indices):
                entries[a].right = b

    add(0, tree)
    # mini stream for small streams
    mini = bytearray()
    minifat: list[int] = []
    for entry in entries:
        if entry.kind == 2 and 0 < entry.size < CUTOFF:
            entry.start = len(mini) // MINI
            count = -(-entry.size // MINI)
            minifat.extend(range(entry.start + 1, entry.start + count))
            minifat.append(END)
            mini += entry.data + bytes(count * MINI - entry.size)
    big = [e for e in entries if e.kind == 2 and e.size >= CUTOFF]
    dir_sectors = -(-len(entries) * 128 // SECTOR)
    minifat_sectors = -(-len(minifat) * 4 // SECTOR)
    mini_sectors = -(-len(mini) // SECTOR)
    big_sectors = sum(-(-e.size // SECTOR) for e in big)
    payload = dir_sectors + minifat_sectors + mini_sectors + big_sectors
    fat_sectors = 1
    while fat_sectors * (SECTOR // 4) < payload + fat_sectors:
        fat_sectors += 1
    assert fat_sectors <= 109
    fat: list[int] = [FATSECT] * fat_sectors
    sectors: list[bytes] = []

    def chain(data: bytes) -> int:
        count = -(-len(data) // SECTOR)
        start = fat_sectors + len(sectors)
        for i in range(count):
            sectors.append(data[i * SECTOR:(i + 1) * SECTOR].ljust(SECTOR, b"\x00"))
            fat.append(start + i + 1 if i < count - 1 else END)
        return start if count else END

    dir_start = fat_sectors  # directory written first, content filled in below
    for _ in range(dir_sectors):
        sectors.append(b"")
        fat.append(0)
    for i in range(dir_sectors):
        fat[dir_start + i] = dir_start + i + 1 if i < dir_sectors - 1 else END
    minifat_start = chain(b"".join(struct.pack("<I", v) for v in minifat)) if minifat else END
    root = entries[0]
    root.start = chain(bytes(mini)) if mini else END
    root.size = len(mini)
    for entry in big:
        entry.start = chain(entry.data)
    directory = bytearray()
    for entry in entries:
        name = entry.name.encode("utf-16-le") + b"\x00\x00"
        directory += (name.ljust(64, b"\x00") + struct.pack("<HBBIII", len(name), entry.kind, 1,
                                                             entry.left, entry.right, entry.child)
                      + bytes(16) + bytes(4) + bytes(16) + struct.pack("<IQ", entry.start, entry.size))
    directory += b"\x00" * (dir_sectors * SECTOR - len(directory))
    for i in range(dir_sectors):
        sectors[i] = bytes(directory[i * SECTOR:(i + 1) * SECTOR])
    fat += [FREE] * (fat_sectors * (SECTOR // 4) - len(fat))
    difat = list(range(fat_sectors)) + [FREE] * (109 - fat_sectors)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
              + struct.pack("<IIIIIIIII", 0, fat_sectors, dir_start, 0, CUTOFF, minifat_start,
                            minifat_sectors, END, 0)
              + b"".join(struct.pack("<I", v) for v in difat))
    fat_bytes = b"".join(struct.pack("<I", v) for v in fat)
    return header + fat_bytes + b"".join(sectors)


# --- Outlook .msg --------------------------------------------------------------------------------


def _unicode(text: str) -> bytes:
    return text.encode("utf-16-le")


def _props(header: bytes, props: list[tuple[int, int]]) -> bytes:
    """A property stream: ``header`` then fixed-size entries (tag, flags, 8-byte value)."""
    return header + b"".join(struct.pack("<IIQ", tag, 6, value) for tag, value in props)


def _message_streams(subject: str, body: str, attachments: list[tuple[str, bytes | Tree]],
                     top: bool) -> Tree:
    count = len(attachments)
    header = (bytes(8) + struct.pack("<IIII", 0, count, 0, count) + bytes(8)) if top else \
        (bytes(8) + struct.pack("<IIII", 0, count, 0, count))
    tree: Tree = {
        "__properties_version1.0": _props(header, [(0x0E070003, 0)]),
        "__substg1.0_001A001F": _unicode("IPM.Note"),
        "__substg1.0_0037001F": _unicode(subject),
        "__substg1.0_1000001F": _unicode(body),
    }
    if top:
        tree["__nameid_version1.0"] = {"__substg1.0_00020102": b"", "__substg1.0_00030102": b"",
                                       "__substg1.0_00040102": b""}
    for index, (name, content) in enumerate(attachments):
        embedded = isinstance(content, dict)
        storage: Tree = {
            "__properties_version1.0": _props(bytes(8), [(0x37050003, 5 if embedded else 1),
                                                         (0x0E200003, 0)]),
            "__substg1.0_3707001F": _unicode(name),
            "__substg1.0_3704001F": _unicode(name[:8]),
            "__substg1.0_3001001F": _unicode(name),
        }
        if embedded:
            storage["__substg1.0_3701000D"] = content
        else:
            storage["__substg1.0_37010102"] = content
        tree[f"__attach_version1.0_#{index:08X}"] = storage
    return tree


def msg_bytes(subject: str, body: str, attachments: list[tuple[str, bytes]] | None = None,
              embedded: tuple[str, str, list[tuple[str, bytes]]] | None = None) -> bytes:
    """An Outlook .msg with attachments and optionally one embedded .msg (subject, body,
    attachments)."""
    items: list[tuple[str, bytes | Tree]] = list(attachments or [])
    if embedded is not None:
        inner_subject, inner_body, inner_attachments = embedded
        items.append((inner_subject, _message_streams(inner_subject, inner_body,
                                                      list(inner_attachments), top=False)))
    return write(_message_streams(subject, body, items, top=True))


def encrypted_office() -> bytes:
    """What Office writes for a password-protected .docx/.xlsx: an OLE container with an
    EncryptionInfo and an EncryptedPackage stream (contents random here: never decrypted)."""
    return write({"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00" + bytes(200),
                  "EncryptedPackage": struct.pack("<Q", 5000) + bytes(range(256)) * 20})


# --- legacy Excel (.xls, BIFF8) ---------------------------------------------------------------


def _record(kind: int, data: bytes) -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def xls_bytes(sheet: str, rows: list[list[object]]) -> bytes:
    """A minimal BIFF8 workbook with one sheet: strings through the SST, numbers as NUMBER."""
    strings: list[str] = []
    for row in rows:
        for value in row:
            if isinstance(value, str) and value not in strings:
                strings.append(value)
    bof = lambda kind: _record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 6))  # noqa: E731
    sst = struct.pack("<II", len(strings), len(strings)) + b"".join(
        struct.pack("<HB", len(s), 1) + s.encode("utf-16-le") for s in strings)
    name = sheet.encode("utf-16-le")
    boundsheet_len = 4 + 8 + len(name)
    head = bof(0x0005) + _record(0x0042, struct.pack("<H", 1200))
    tail = _record(0x00FC, sst) + _record(0x000A, b"")
    offset = len(head) + boundsheet_len + len(tail)
    boundsheet = _record(0x0085, struct.pack("<IHBB", offset, 0, len(sheet), 1) + name)
    cells = b""
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, str):
                cells += _record(0x00FD, struct.pack("<HHHI", r, c, 0, strings.index(value)))
            elif value is not None:
                cells += _record(0x0203, struct.pack("<HHHd", r, c, 0, float(value)))
    width = max((len(r) for r in rows), default=0)
    sheet_stream = (bof(0x0010) + _record(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, width, 0))
                    + cells + _record(0x000A, b""))
    workbook = head + boundsheet + tail + sheet_stream
    return write({"Workbook": workbook.ljust(CUTOFF, b"\x00") if len(workbook) < CUTOFF else workbook})
