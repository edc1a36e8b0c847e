"""Streaming writers for the three local mail layouts: Maildir(++), mbox and a folder of .eml.

Each ``write`` puts one message on disk and forgets it, so memory does not grow with the corpus.
File modification times are set to the mail's date (deterministic bytes *and* metadata).
"""

from __future__ import annotations

import os
import re
import time
from datetime import datetime
from pathlib import Path

_FROM_LINE = re.compile(rb"^(>*From )", re.MULTILINE)
_FOLDER_MARKER_TS = 1501545600.0  # 2017-08-01 00:00 UTC: fixed, so reruns give identical trees
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def _touch(path: Path, ts: float) -> None:
    os.utime(path, (ts, ts))


class MaildirWriter:
    """A Maildir++ mailbox: INBOX in ``cur``/``new``, sub-folders as ``.Name`` directories.

    File names follow the usual ``<time>.M<seq>P<pid>.<host>,S=<size>:2,<flags>`` pattern with
    a fixed host and the seed as "pid", so names are unique and stable.
    """

    def __init__(self, root: Path, seed: int) -> None:
        self.root = root
        self.seed = seed
        self._made: set[str] = set()

    def _folder_dir(self, folder: str) -> Path:
        path = self.root if folder in ("", "INBOX") else self.root / f".{folder}"
        if folder not in self._made:
            for sub in ("cur", "new", "tmp"):
                (path / sub).mkdir(parents=True, exist_ok=True)
            if path != self.root:
                marker = path / "maildirfolder"
                marker.touch()
                _touch(marker, _FOLDER_MARKER_TS)
            self._made.add(folder)
        return path

    def write(self, folder: str, data: bytes, ts: float, seq: int, unread: bool = False) -> Path:
        base = self._folder_dir(folder)
        name = f"{int(ts)}.M{seq:06d}P{self.seed}.demoschool,S={len(data)}"
        path = base / "new" / name if unread else base / "cur" / f"{name}:2,S"
        path.write_bytes(data)
        _touch(path, ts)
        return path


class MboxWriter:
    """One mbox file (mboxrd quoting of body lines starting with "From ")."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fh = path.open("wb")
        self.count = 0
        self._last_ts = 0.0

    def write(self, data: bytes, ts: float, sender: str) -> int:
        stamp = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(ts))
        if self.count:
            self._fh.write(b"\n")
        self._fh.write(f"From {sender} {stamp}\n".encode("ascii"))
        body = _FROM_LINE.sub(rb">\1", data.replace(b"\r\n", b"\n"))
        self._fh.write(body if body.endswith(b"\n") else body + b"\n")
        self.count += 1
        self._last_ts = max(self._last_ts, ts)
        return self.count - 1

    def close(self) -> None:
        self._fh.close()
        if self._last_ts:
            _touch(self.path, self._last_ts)


class EmlWriter:
    """A folder tree of .eml files as saved from Outlook or Thunderbird (CRLF line ends)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, folder: str, data: bytes, when: datetime, ts: float, subject: str, seq: int) -> Path:
        directory = self.root / folder
        directory.mkdir(parents=True, exist_ok=True)
        safe = _UNSAFE.sub("_", subject).strip(" .")[:60] or "bericht"
        path = directory / f"{when:%Y-%m-%d %H%M} {safe} ({seq}).eml"
        path.write_bytes(data)
        _touch(path, ts)
        return path


def sanitize_filename(name: str) -> str:
    return _UNSAFE.sub("_", name).strip(" .") or "bestand"
