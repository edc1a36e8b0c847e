"""Mail exports on local disk: Maildir, mbox and folders of .eml/.msg files.

These are what a school hands over when it cannot give API access (an export from a former
mail host, a teacher's archive on a USB stick), and they are the demo's sources. All three
stream: discovery reads header blocks only, one message at a time, so memory stays flat as a
mailbox grows.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import Field

from connectors.base import Connector, ItemFetchError, SourceConfig, SourceError
from connectors.mailheaders import read_header_block, summarise_headers
from scanner.core.model import CrawlStream, Cursor, Fetched, ItemKind, ItemRef, Seen, Unit

MAILDIR_SUBDIRS = ("new", "cur")


class LocalMailConfig(SourceConfig):
    path: Path = Field(description="Maildir folder, mbox file (or folder of mbox files), or .eml folder.")
    owner: str = Field(description="The teacher whose mail this is (e-mail address).")


class MaildirConfig(LocalMailConfig):
    kind: Literal["maildir"]


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
    """

    kind = "maildir"
    config_model = MaildirConfig

    def units(self) -> Iterator[Unit]:
        root = self._root()
        if all((root / sub).is_dir() for sub in MAILDIR_SUBDIRS):
            yield Unit(key="INBOX", label="INBOX", owner=self.config.owner)
        for entry in sorted(os.scandir(root), key=lambda e: e.name):
            if entry.name.startswith(".") and entry.is_dir() and (Path(entry.path) / "cur").is_dir():
                folder = entry.name[1:].replace(".", "/")
                if self.config.wants(folder):
                    yield Unit(key=entry.name, label=folder, owner=self.config.owner)

    def _folder_dir(self, unit_key: str) -> Path:
        return self._root() if unit_key == "INBOX" else self._root() / unit_key

    def crawl(self, unit: Unit, cursor: str | None) -> CrawlStream:
        directory = self._folder_dir(unit.key)
        for sub in MAILDIR_SUBDIRS:
            try:
                entries = sorted(os.scandir(directory / sub), key=lambda e: e.name)
            except OSError as exc:
                self.warn(unit.key, "unreadable", f"map niet leesbaar / folder unreadable ({exc.strerror})")
                continue
            for entry in entries:
                if not entry.is_file() or entry.name.startswith("."):
                    continue
                key = entry.name.split(":", 1)[0]
                try:
                    stat = entry.stat()
                except OSError:
                    self.warn(unit.key, "vanished", "bericht verdween tijdens het lezen / message vanished")
                    continue
                # Listing opens no file: a Maildir message never changes, so its unique name and
                # size say all the triage needs. The subject and the Date header are read by the
                # worker when the message is analysed (an empty title means "not read here").
                yield Seen(self._ref(unit, key, unit.label, _delivery_time(key), "",
                                     stat.st_size, str(stat.st_size), entry.path,
                                     datetime.fromtimestamp(stat.st_mtime, tz=UTC)))
        yield Cursor(None)

    def fetch(self, ref: ItemRef) -> Fetched:
        path = Path(ref.locator or "")
        if not path.is_file():
            # Flags changed since discovery: the file was renamed within cur/.
            directory = self._folder_dir(ref.unit_key)
            matches = [p for sub in MAILDIR_SUBDIRS for p in (directory / sub).glob(f"{ref.item_key}*")]
            if not matches:
                raise ItemFetchError("vanished", "bericht bestaat niet meer / message no longer exists")
            path = matches[0]
        return Fetched(name=f"{ref.item_key}.eml", size=path.stat().st_size, path=path,
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
        root = self._root()
        files = [root] if root.is_file() else sorted(
            p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".") and _is_mbox(p))
        for path in files:
            rel = path.name if root.is_file() else str(path.relative_to(root))
            if self.config.wants(rel):
                yield Unit(key=rel, label=rel.removesuffix(".mbox"), owner=self.config.owner)

    def _file(self, unit_key: str) -> Path:
        root = self._root()
        return root if root.is_file() else root / unit_key

    def crawl(self, unit: Unit, cursor: str | None) -> CrawlStream:
        path = self._file(unit.key)
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
    config_model = MessageFolderConfig
    SUFFIXES = (".eml", ".msg")

    def units(self) -> Iterator[Unit]:
        root = self._root()
        yield Unit(key=".", label="", owner=self.config.owner)
        for entry in sorted(os.scandir(root), key=lambda e: e.name):
            if entry.is_dir() and not entry.name.startswith(".") and self.config.wants(entry.name):
                yield Unit(key=entry.name, label=entry.name, owner=self.config.owner)

    def crawl(self, unit: Unit, cursor: str | None) -> CrawlStream:
        root = self._root()
        base = root if unit.key == "." else root / unit.key
        paths = (sorted(p for p in base.iterdir() if p.is_file()) if unit.key == "."
                 else sorted(p for p in base.rglob("*") if p.is_file()))
        for path in paths:
            if path.suffix.lower() not in self.SUFFIXES:
                continue
            rel = str(path.relative_to(root))
            if not self.config.wants(rel):
                continue
            try:
                stat = path.stat()
                if path.suffix.lower() == ".eml":
                    with open(path, "rb") as handle:
                        summary = summarise_headers(read_header_block(handle))
                    date, subject = summary.date, summary.subject
                else:
                    date, subject = _msg_summary(path)
            except OSError:
                self.warn(unit.key, "vanished", "bestand verdween tijdens het lezen / file vanished")
                continue
            folder = str(Path(rel).parent) if str(Path(rel).parent) != "." else ""
            yield Seen(self._ref(unit, rel, folder, date, subject or path.stem, stat.st_size,
                                 f"{stat.st_size}:{stat.st_mtime_ns}", str(path),
                                 datetime.fromtimestamp(stat.st_mtime, tz=UTC)))
        yield Cursor(None)

    def fetch(self, ref: ItemRef) -> Fetched:
        path = Path(ref.locator or Path(self.config.path) / ref.item_key)
        if not path.is_file():
            raise ItemFetchError("vanished", "bestand bestaat niet meer / file no longer exists")
        media = "message/rfc822" if path.suffix.lower() == ".eml" else "application/vnd.ms-outlook"
        return Fetched(name=path.name, size=path.stat().st_size, path=path,
                       open=lambda: open(path, "rb"), media_type=media)


def _delivery_time(unique_name: str) -> datetime | None:
    """The delivery time a Maildir unique name starts with (``1504893877.M12P34.host``)."""
    head = unique_name.split(".", 1)[0]
    if head.isdigit() and 9 <= len(head) <= 11:
        return datetime.fromtimestamp(int(head), tz=UTC)
    return None


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


def _is_mbox(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(5) == b"From "
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
