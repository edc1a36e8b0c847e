"""Mail exports on local disk: Maildir, mbox and folders of .eml/.msg files.

These are what a school hands over when it cannot give API access (an export from a former
mail host, a teacher's archive on a USB stick), and they are the demo's sources. All three
stream: discovery reads header blocks only, one message at a time, so memory stays flat as a
mailbox grows.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISREG
from typing import Literal

from pydantic import Field

from connectors.base import Connector, ItemFetchError, SourceConfig, SourceError
from connectors.localwalk import (
    UNREADABLE,
    LocalFile,
    LocalProblem,
    problem_code,
    readable_size,
    root_entries,
    walk_files,
)
from connectors.mailheaders import read_header_block, summarise_headers
from scanner.core.model import (
    Blind,
    CrawlStream,
    Cursor,
    Fetched,
    ItemKind,
    ItemRef,
    Resync,
    Seen,
    Unit,
)

MAILDIR_SUBDIRS = ("new", "cur")


class LocalMailConfig(SourceConfig):
    path: Path = Field(description="Maildir folder, mbox file (or folder of mbox files), or .eml folder.")
    owner: str = Field(description="The teacher whose mail this is (e-mail address).")


class MaildirConfig(LocalMailConfig):
    kind: Literal["maildir"]
    full_listing_days: int = Field(
        default=7, ge=0,
        description="List every folder in full at least every this many days, even when its "
                    "cur/ and new/ did not change (0: every run).",
    )


class MboxConfig(LocalMailConfig):
    kind: Literal["mbox"]


class MessageFolderConfig(LocalMailConfig):
    kind: Literal["eml"]


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


class _LocalMailConnector(Connector):
    config: LocalMailConfig

    def _root(self) -> Path:
        root = Path(self.config.path)
        if not root.exists():
            raise SourceError("not_found", f"pad {root} bestaat niet / path {root} does not exist")
        return root

    def _ref(self, unit: Unit, key: str, folder: str, date: datetime | None, subject: str,
             size: int, change_key: str, locator: str, fallback_date: datetime) -> ItemRef:
        return ItemRef(
            source=self.config.name, item_key=key, kind=ItemKind.MAIL, owner=self.config.owner,
            folder=folder, title=subject, date=date or fallback_date, size=size,
            change_key=change_key, link=locator if not locator.startswith("bytes:") else None,
            unit_key=unit.key, locator=locator,
        )


class MaildirConnector(_LocalMailConnector):
    """A Maildir (Dovecot, Courier, offlineimap) with Maildir++ subfolders (``.Verzonden``).

    Each folder is a unit. The item key is the Maildir unique name, which survives the move
    from ``new/`` to ``cur/`` and flag changes (the ``:2,FLAGS`` suffix is not part of it).
    A unit is a delta unit whose cursor is the folder's fingerprint (:class:`_Fingerprint`):
    an unchanged folder lists nothing; a changed one is listed in full after a ``Resync``.
    """

    kind = "maildir"
    parallel_units = True  # units are folders of their own: independent
    config_model = MaildirConfig
    config: MaildirConfig

    def units(self) -> Iterator[Unit]:
        """INBOX when the root holds ``cur/`` and ``new/``, and one unit per Maildir++ folder.

        A Maildir++ folder that may not be opened is still a unit (its crawl is then a blind
        spot), so its stored messages are not closed as if the folder were deleted. A root
        that is neither a Maildir nor a Maildir++ tree is a configuration error.
        """
        root = Path(self.config.path)
        entries = root_entries(root, what="Maildir")
        names = {entry.name for entry in entries if _is_dir(entry)}
        units = []
        if all(sub in names for sub in MAILDIR_SUBDIRS):
            units.append(Unit(key="INBOX", label="INBOX", owner=self.config.owner, full_listing=False))
        for entry in entries:
            if not entry.name.startswith(".") or entry.name in (".", "..") or not _is_dir(entry):
                continue
            try:
                os.stat(Path(entry.path) / "cur")
            except OSError as exc:
                if problem_code(exc) == "vanished":
                    continue  # a plain dot-folder, not a Maildir++ folder
            folder = entry.name[1:].replace(".", "/")
            if self.config.wants(folder):
                units.append(Unit(key=entry.name, label=folder, owner=self.config.owner, full_listing=False))
        if not units:
            raise SourceError("not_maildir", f"{root} is geen Maildir (geen cur/ en new/) / "
                                             f"{root} is not a Maildir (no cur/ and new/)")
        yield from units

    def _folder_dir(self, unit_key: str) -> Path:
        return self._root() if unit_key == "INBOX" else self._root() / unit_key

    def crawl(self, unit: Unit, cursor: str | None) -> CrawlStream:
        """Nothing when the folder's fingerprint equals the cursor, else the whole folder.

        A Maildir message is never changed in place: delivery is a rename into ``new/``, a flag
        change a rename within ``cur/``, a move or a deletion an unlink. Each changes the mtime
        of the directory it touches, so ``cur/`` and ``new/`` unchanged (mtime, inode, device)
        means the folder holds the same messages as at the last listing. Otherwise the crawl
        says :class:`Resync` and lists everything, so the pipeline closes what it did not see.
        """
        directory = self._folder_dir(unit.key)
        fingerprint, taken = _fingerprint(directory, self._identity(unit))
        stored = _MaildirCursor.parse(cursor)
        reason = self._resync_reason(stored, fingerprint, taken)
        if reason is None:
            yield Cursor(cursor)
            return
        yield Resync(reason)
        safe = fingerprint is not None and not fingerprint.racy(taken)
        for event in self._list(unit, directory):
            if isinstance(event, Blind):
                safe = False  # what could not be read is listed again next run
            yield event
        # The fingerprint taken before the listing: a change during it shows next run.
        yield Cursor(_MaildirCursor(taken // 1_000_000_000, fingerprint).text() if safe and fingerprint else None)

    def _identity(self, unit: Unit) -> str:
        """What else shapes a listed message's metadata (owner, folder label, path): when the
        configuration changes it, the folder is listed again so the store follows."""
        basis = "\0".join((self.config.owner, unit.label, str(self.config.path)))
        return hashlib.sha256(basis.encode("utf-8", "surrogateescape")).hexdigest()[:16]

    def _resync_reason(self, stored: _MaildirCursor | None, fingerprint: _Fingerprint | None,
                       taken: int) -> str | None:
        """Why this folder must be listed this run, or None when it is unchanged."""
        if fingerprint is None:
            return "maildir folder not readable"
        if stored is None:
            return "maildir folder not listed before"
        if stored.fingerprint != fingerprint:
            return "maildir folder changed"
        days = self.config.full_listing_days
        if days == 0 or taken // 1_000_000_000 - stored.listed_at >= days * 86_400:
            return "maildir periodic full listing"
        return None

    def _list(self, unit: Unit, directory: Path) -> CrawlStream:
        for sub in MAILDIR_SUBDIRS:
            folder = directory / sub
            try:
                # Names only, not the DirEntry objects: the listing is consumed in batches while
                # this generator waits, and a folder of 10,000 messages held as entries with
                # their cached stat results cost ~5 KB each (tens of MB over the lanes).
                with os.scandir(folder) as listing:
                    names = sorted(entry.name for entry in listing)
            except OSError as exc:
                code = problem_code(exc)
                if code != "vanished":
                    # Maildir keys carry no folder, so what hides here is the whole unit.
                    yield Blind("", code, f"map '{unit.label}/{sub}' niet leesbaar, berichten bewaard / "
                                          f"folder '{unit.label}/{sub}' unreadable, messages kept")
                continue
            prefix = os.path.join(folder, "")
            for name in names:
                if name.startswith("."):
                    continue
                key = name.split(":", 1)[0]
                path = prefix + name
                try:
                    stat = os.stat(path)
                except OSError as exc:
                    if isinstance(exc, FileNotFoundError) and os.path.islink(path):
                        continue  # a dangling link is no message (DirEntry.is_file() said so too)
                    code = problem_code(exc)
                    if code == "vanished":
                        self.warn(unit.key, "vanished", "bericht verdween tijdens het lezen / message vanished")
                    else:
                        yield Blind(key, code, f"bericht in '{unit.label}' niet leesbaar, bewaard / "
                                               f"message in '{unit.label}' unreadable, kept")
                    continue
                if not S_ISREG(stat.st_mode):
                    continue
                # Listing opens no file: a Maildir message never changes, so its unique name and
                # size say all the triage needs. The subject and the Date header are read by the
                # worker when the message is analysed (an empty title means "not read here").
                # The file's mtime is only the fallback date: converted only when the name
                # carries no delivery time (every listed message of every run passes here).
                date = _delivery_time(key) or datetime.fromtimestamp(stat.st_mtime, tz=UTC)
                yield Seen(self._ref(unit, key, unit.label, date, "", stat.st_size, str(stat.st_size),
                                     path, date))

    def fetch(self, ref: ItemRef) -> Fetched:
        path = Path(ref.locator or "")
        if not path.is_file():
            # Flags changed since discovery: the file was renamed within cur/.
            directory = self._folder_dir(ref.unit_key)
            matches = [p for sub in MAILDIR_SUBDIRS for p in (directory / sub).glob(f"{ref.item_key}*")]
            if not matches:
                raise ItemFetchError("vanished", "bericht bestaat niet meer / message no longer exists")
            path = matches[0]
        return Fetched(name=f"{ref.item_key}.eml", size=readable_size(path), path=path,
                       open=lambda: open(path, "rb"), media_type="message/rfc822")


class MboxConnector(_LocalMailConnector):
    """One mbox file, or a folder of them (Thunderbird, Google Takeout): a file is a unit.

    Messages are found by scanning for ``From `` separator lines, streaming. The key is the
    Message-ID (hashed with the headers when absent), so a message keeps its identity when an
    earlier message is removed and its byte offset (the locator) moves.
    """

    kind = "mbox"
    config_model = MboxConfig

    def units(self) -> Iterator[Unit]:
        """One unit per mbox file. A path that is a file must be an mbox; a folder must hold at
        least one. Unreadable files and folders below a folder root are still units (``<dir>/*``
        for a folder, the pipeline's sign that nothing under that prefix may be closed), whose
        crawl reports the blind spot instead of losing the mailboxes' items."""
        root = Path(self.config.path)
        if root.is_file():
            kind = _mbox_kind(root)
            if kind == "unreadable":
                raise SourceError("access_denied", f"geen leesrecht op {root} / no read access to {root}")
            if kind == "other":
                raise SourceError("not_mbox", f"{root} is geen mbox-bestand (begint niet met 'From ') / "
                                              f"{root} is not an mbox file (does not start with 'From ')")
            yield Unit(key=root.name, label=root.name.removesuffix(".mbox"), owner=self.config.owner)
            return
        root_entries(root, what="mbox-map / mbox folder")
        units = []
        for found in walk_files(root, root, recursive=True):
            if isinstance(found, LocalProblem):
                if found.code in UNREADABLE:
                    key = f"{found.relative}/*" if found.is_dir else found.relative
                    units.append(Unit(key=key, label=found.relative, owner=self.config.owner))
                continue
            if os.path.basename(found.relative).startswith("."):
                continue
            kind = _mbox_kind(Path(found.path))
            if kind in ("mbox", "unreadable") and self.config.wants(found.relative):
                units.append(Unit(key=found.relative, label=found.relative.removesuffix(".mbox"),
                                  owner=self.config.owner))
        if not units:
            raise SourceError("not_mbox", f"geen mbox-bestanden in {root} / no mbox files in {root}")
        yield from units

    def _file(self, unit_key: str) -> Path:
        root = self._root()
        return root if root.is_file() else root / unit_key

    def crawl(self, unit: Unit, cursor: str | None) -> CrawlStream:
        if unit.key.endswith("/*"):
            yield Blind("", "access_denied", f"map '{unit.label}' niet leesbaar, mailboxen bewaard / "
                                             f"folder '{unit.label}' unreadable, mailboxes kept")
            yield Cursor(None)
            return
        path = self._file(unit.key)
        try:
            fallback = _mtime(path)
            seen_keys: dict[str, int] = {}
            for start, end, header_block in _scan_mbox(path):
                summary = summarise_headers(header_block)
                basis = summary.message_id or hashlib.sha256(header_block).hexdigest()
                key = hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()[:24]
                # The same Message-ID twice in one file (a copy): keep both, distinctly.
                count = seen_keys.get(key, 0)
                seen_keys[key] = count + 1
                if count:
                    key = f"{key}-{count}"
                yield Seen(self._ref(unit, key, unit.label, summary.date, summary.subject, end - start,
                                     str(end - start), f"bytes:{start}:{end}", fallback))
        except OSError as exc:
            code = problem_code(exc)
            if code == "vanished":
                raise SourceError("not_found", f"mbox '{unit.label}' bestaat niet meer / no longer exists") from None
            # Items already yielded stay seen; the rest of the file is a blind spot.
            yield Blind("", code, f"mbox '{unit.label}' niet leesbaar, berichten bewaard / "
                                  f"mbox '{unit.label}' unreadable, messages kept")
        yield Cursor(None)

    def fetch(self, ref: ItemRef) -> Fetched:
        path = self._file(ref.unit_key)
        try:
            _, start_text, end_text = (ref.locator or "").split(":")
            start, end = int(start_text), int(end_text)
        except ValueError:
            raise ItemFetchError("corrupt", "onbekende plaats in mbox / unknown mbox position") from None

        def open_range():
            handle = open(path, "rb")  # noqa: SIM115 - the bounded reader owns and closes it
            handle.seek(start)
            first = handle.readline()
            if not first.startswith(b"From "):
                handle.seek(start)
            return _BoundedReader(handle, end - handle.tell())

        return Fetched(name=f"{ref.item_key}.eml", size=end - start, open=open_range,
                       media_type="message/rfc822")


class MessageFolderConnector(_LocalMailConnector):
    """A folder tree of ``.eml`` and Outlook ``.msg`` files; each top-level folder is a unit."""

    kind = "eml"
    parallel_units = True  # units are folders of their own: independent
    config_model = MessageFolderConfig
    SUFFIXES = (".eml", ".msg")

    def units(self) -> Iterator[Unit]:
        entries = root_entries(Path(self.config.path))
        yield Unit(key=".", label="", owner=self.config.owner)
        for entry in entries:
            if not entry.name.startswith(".") and _is_dir(entry) and self.config.wants(entry.name):
                yield Unit(key=entry.name, label=entry.name, owner=self.config.owner)

    def crawl(self, unit: Unit, cursor: str | None) -> CrawlStream:
        root = Path(self.config.path)
        base = root if unit.key == "." else root / unit.key
        if not base.is_dir():  # unmounted or removed since units(): this run closes nothing here
            raise SourceError("not_found", f"map {base} bestaat niet (meer) / folder {base} does not exist")
        for found in walk_files(root, base, recursive=unit.key != "."):
            if isinstance(found, LocalProblem):
                if found.code in UNREADABLE:
                    yield found.blind()
                elif found.code == "vanished":
                    self.warn(unit.key, "vanished", "bestand verdween tijdens het lezen / file vanished")
                continue
            path = Path(found.path)
            if path.suffix.lower() not in self.SUFFIXES or not self.config.wants(found.relative):
                continue
            ref = self._message_ref(unit, found)
            if ref is not None:
                yield Seen(ref)
        yield Cursor(None)

    def _message_ref(self, unit: Unit, found: LocalFile) -> ItemRef | None:
        """Listing metadata of one message file. One that may not be read is still listed
        (with its file name as title), so its stored item is kept; its fetch says why."""
        path, stat = Path(found.path), found.stat
        date, subject = None, ""
        try:
            if path.suffix.lower() == ".eml":
                with open(path, "rb") as handle:
                    summary = summarise_headers(read_header_block(handle))
                date, subject = summary.date, summary.subject
            else:
                date, subject = _msg_summary(path)
        except OSError as exc:
            if problem_code(exc) == "vanished":
                self.warn(unit.key, "vanished", "bestand verdween tijdens het lezen / file vanished")
                return None
        folder = os.path.dirname(found.relative)
        return self._ref(unit, found.relative, folder, date, subject or path.stem, stat.st_size,
                         f"{stat.st_size}:{stat.st_mtime_ns}", str(path),
                         datetime.fromtimestamp(stat.st_mtime, tz=UTC))

    def fetch(self, ref: ItemRef) -> Fetched:
        path = Path(ref.locator or Path(self.config.path) / ref.item_key)
        size = readable_size(path)
        media = "message/rfc822" if path.suffix.lower() == ".eml" else "application/vnd.ms-outlook"
        return Fetched(name=path.name, size=size, path=path,
                       open=lambda: open(path, "rb"), media_type=media)


def _delivery_time(unique_name: str) -> datetime | None:
    """The delivery time a Maildir unique name starts with (``1504893877.M12P34.host``)."""
    head = unique_name.split(".", 1)[0]
    if head.isdigit() and 9 <= len(head) <= 11:
        return datetime.fromtimestamp(int(head), tz=UTC)
    return None


MAILDIR_CURSOR = "md1"
"""Leads a Maildir cursor; raise it when a listed message's metadata changes meaning, so every
folder is listed again once. A cursor without it (``None`` from before fingerprints) lists."""
RACY_NS = 2_000_000_000
"""A directory changed this close to the fingerprint's time (or later) may change again within
the file system's timestamp granularity (1 s on ext3, 2 s on FAT) without its mtime moving:
such a fingerprint is not saved, so the next run lists again (git's "racily clean" rule)."""


@dataclass(frozen=True, slots=True)
class _Fingerprint:
    """``st_dev``, ``st_ino`` and ``st_mtime_ns`` of ``cur/`` and ``new/`` (``-`` for a missing
    one), with a hash of the configuration that shapes the listed metadata."""

    identity: str
    parts: tuple[str, ...]
    mtimes: tuple[int, ...] = field(default=(), compare=False)
    """Only for :meth:`racy`; the cursor keeps them inside ``parts``."""

    def racy(self, taken: int) -> bool:
        return any(taken - mtime < RACY_NS for mtime in self.mtimes)

    def text(self) -> str:
        return ";".join((self.identity, *self.parts))


@dataclass(frozen=True, slots=True)
class _MaildirCursor:
    """What a Maildir unit's cursor holds: when the folder was last listed in full (epoch
    seconds, for ``full_listing_days``) and its fingerprint then."""

    listed_at: int
    fingerprint: _Fingerprint

    def text(self) -> str:
        return f"{MAILDIR_CURSOR};{self.listed_at};{self.fingerprint.text()}"

    @classmethod
    def parse(cls, cursor: str | None) -> _MaildirCursor | None:
        """The stored cursor, or None when there is none or it is not one of this version."""
        fields = (cursor or "").split(";")
        if len(fields) != 3 + len(MAILDIR_SUBDIRS) or fields[0] != MAILDIR_CURSOR or not fields[1].isdigit():
            return None
        return cls(int(fields[1]), _Fingerprint(fields[2], tuple(fields[3:])))


def _fingerprint(directory: Path, identity: str) -> tuple[_Fingerprint | None, int]:
    """The folder's fingerprint now, and the time it was taken (ns). None when a subdirectory
    exists but cannot be opened: an unreadable ``cur/`` is a blind spot, never "unchanged".

    Each subdirectory is opened (not only stat'ed), so a directory whose mode or ACL forbids
    reading fails here as its listing would."""
    parts, mtimes = [], []
    for sub in MAILDIR_SUBDIRS:
        try:
            fd = os.open(directory / sub, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            if problem_code(exc) == "vanished":
                parts.append("-")
                continue
            return None, time.time_ns()
        try:
            st = os.fstat(fd)
        finally:
            os.close(fd)
        parts.append(f"{st.st_dev}:{st.st_ino}:{st.st_mtime_ns}")
        mtimes.append(st.st_mtime_ns)
    return _Fingerprint(identity, tuple(parts), tuple(mtimes)), time.time_ns()


def _msg_summary(path: Path) -> tuple[datetime | None, str]:
    """Date and subject of an Outlook .msg (OLE) file; unknown when it cannot be parsed."""
    try:
        import extract_msg

        with extract_msg.openMsg(str(path), delayAttachments=True) as message:
            date = getattr(message, "date", None)  # a Message attribute, not every MSGFile has it
            if isinstance(date, datetime) and date.tzinfo is None:
                date = date.replace(tzinfo=UTC)
            return (date if isinstance(date, datetime) else None), (getattr(message, "subject", None) or "")
    except Exception:  # noqa: BLE001 - discovery of a broken .msg must not stop the crawl
        return None, ""


def _mbox_kind(path: Path) -> str:
    """``mbox`` (starts with a ``From `` line), ``empty``, ``unreadable`` or ``other``."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(5)
    except OSError as exc:
        return "unreadable" if problem_code(exc) != "vanished" else "other"
    if head == b"From ":
        return "mbox"
    return "empty" if not head else "other"


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _scan_mbox(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """Yield (start, end, header block) for each message, reading the file once, streaming."""
    with open(path, "rb") as handle:
        start: int | None = None
        header: list[bytes] = []
        in_header = False
        header_bytes = 0
        previous_blank = True
        position = 0
        for line in handle:
            if line.startswith(b"From ") and previous_blank:
                if start is not None:
                    yield start, position, b"".join(header)
                start, header, in_header, header_bytes = position, [], True, 0
            elif in_header:
                if line in (b"\n", b"\r\n"):
                    in_header = False
                elif header_bytes < 64 * 1024:
                    header.append(line)
                    header_bytes += len(line)
            previous_blank = line in (b"\n", b"\r\n")
            position += len(line)
        if start is not None:
            yield start, position, b"".join(header)


class _BoundedReader:
    """A read-only stream over the next ``remaining`` bytes of a file handle."""

    def __init__(self, handle, remaining: int) -> None:
        self._handle = handle
        self._remaining = max(remaining, 0)

    def read(self, size: int = -1) -> bytes:
        if self._remaining <= 0:
            return b""
        size = self._remaining if size is None or size < 0 else min(size, self._remaining)
        data = self._handle.read(size)
        self._remaining -= len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        if self._remaining <= 0:
            return b""
        size = self._remaining if size is None or size < 0 else min(size, self._remaining)
        line = self._handle.readline(size)
        self._remaining -= len(line)
        return line

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
