"""A thin, per-connector wrapper around smbprotocol's ``smbclient`` for one file server.

Why a wrapper: ``smbclient`` keeps connections in a process-wide pool keyed by server and port,
so two sources on the same server (different service accounts) would share a session, and
closing one would close the other. Each :class:`SmbClient` keeps its own connection cache, opens
it lazily on first use (connectors are built on the driver and on workers alike) and closes
exactly its own connection in :meth:`close`.

It also translates smbprotocol's many exception types into the two stable error kinds of the
connector contract, with Dutch-first messages that name no file.
"""

from __future__ import annotations

import errno
import importlib.util
import logging
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

import smbclient
from smbclient._io import SMBFileIO, SMBFileTransaction, SMBRawIO
from smbprotocol.connection import Connection
from smbprotocol.exceptions import (
    AccessDenied,
    BadNetworkName,
    LogonFailure,
    PasswordExpired,
    SMBAuthenticationError,
    SMBConnectionClosed,
    SMBOSError,
    SMBResponseException,
    WrongPassword,
)
from smbprotocol.file_info import InfoType
from smbprotocol.header import NtStatus
from smbprotocol.open import FilePipePrinterAccessMask, SMB2QueryInfoRequest, SMB2QueryInfoResponse
from smbprotocol.security_descriptor import SMB2CreateSDBuffer

from connectors.base import SourceError
from connectors.smb.config import SmbConfig

log = logging.getLogger(__name__)

FILE_ATTRIBUTE_DIRECTORY = 0x10
FILE_ATTRIBUTE_REPARSE_POINT = 0x400
FILE_ATTRIBUTE_OFFLINE = 0x1000
FILE_ATTRIBUTE_RECALL_ON_OPEN = 0x40000
FILE_ATTRIBUTE_RECALL_ON_DATA_ACCESS = 0x400000
OFFLINE_ATTRIBUTES = (
    FILE_ATTRIBUTE_OFFLINE | FILE_ATTRIBUTE_RECALL_ON_OPEN | FILE_ATTRIBUTE_RECALL_ON_DATA_ACCESS
)
"""Cloud-tiered or archived files (Azure File Sync, HSM): reading them recalls the content."""
_OWNER_SECURITY_INFORMATION = 0x1  # [MS-DTYP] 2.4.7; smbprotocol's constant is misspelt
_DACL_SECURITY_INFORMATION = 0x4

# Raw values where smbprotocol's NtStatus lacks a name ([MS-ERREF] 2.3.1).
_AUTH_STATUSES = {
    NtStatus.STATUS_LOGON_FAILURE,
    NtStatus.STATUS_WRONG_PASSWORD,
    NtStatus.STATUS_PASSWORD_EXPIRED,
    0xC0000072,  # STATUS_ACCOUNT_DISABLED
    0xC0000234,  # STATUS_ACCOUNT_LOCKED_OUT
    0xC000006E,  # STATUS_ACCOUNT_RESTRICTION
    0xC0000224,  # STATUS_PASSWORD_MUST_CHANGE
}
_GONE_SESSION_STATUSES = {
    NtStatus.STATUS_USER_SESSION_DELETED,
    0xC000035C,  # STATUS_NETWORK_SESSION_EXPIRED
}
_NOT_FOUND_STATUSES = {
    NtStatus.STATUS_OBJECT_NAME_NOT_FOUND,
    NtStatus.STATUS_OBJECT_PATH_NOT_FOUND,
    NtStatus.STATUS_NOT_FOUND,
    NtStatus.STATUS_NO_SUCH_FILE,
    NtStatus.STATUS_BAD_NETWORK_NAME,
    NtStatus.STATUS_DELETE_PENDING,
    0xC0000123,  # STATUS_FILE_DELETED
}
_DENIED_STATUSES = {NtStatus.STATUS_ACCESS_DENIED, NtStatus.STATUS_PRIVILEGE_NOT_HELD}
_LOCKED_STATUSES = {NtStatus.STATUS_SHARING_VIOLATION, 0xC0000054}  # + FILE_LOCK_CONFLICT


def _status(exc: BaseException) -> int | None:
    if isinstance(exc, SMBOSError):
        return exc.ntstatus
    if isinstance(exc, SMBResponseException):
        return exc.status
    return None


def classify(exc: BaseException) -> str:
    """Map any exception raised while talking SMB to a stable error code.

    ``unreachable`` (no TCP connection, connection dropped), ``auth_failed``, ``access_denied``,
    ``not_found``, ``locked`` (sharing violation) or ``protocol`` (anything else the server said).
    """
    status = _status(exc)
    if status is not None:
        if status in _AUTH_STATUSES:
            return "auth_failed"
        if status in _GONE_SESSION_STATUSES:
            return "unreachable"
        if status in _DENIED_STATUSES:
            return "access_denied"
        if status in _NOT_FOUND_STATUSES:
            return "not_found"
        if status in _LOCKED_STATUSES:
            return "locked"
        return "protocol"
    if isinstance(exc, (LogonFailure, WrongPassword, PasswordExpired, SMBAuthenticationError)):
        return "auth_failed"
    if isinstance(exc, AccessDenied):
        return "access_denied"
    if isinstance(exc, BadNetworkName):
        return "not_found"
    if isinstance(exc, (SMBConnectionClosed, ConnectionError, TimeoutError, socket.error)):
        return "unreachable"
    if type(exc).__module__.startswith("spnego"):
        # pyspnego raises its own errors for bad credentials, no Kerberos ticket, unknown realm.
        return "auth_failed"
    if isinstance(exc, ValueError) and "Failed to connect" in str(exc):
        return "unreachable"  # smbprotocol's transport wraps socket errors in ValueError
    return "protocol"


_MESSAGES = {
    "unreachable": "server niet bereikbaar / server unreachable",
    "auth_failed": "aanmelden mislukt (gebruikersnaam, wachtwoord of Kerberos-ticket) / "
    "authentication failed (user name, password or Kerberos ticket)",
    "access_denied": "geen toegang / access denied",
    "not_found": "niet gevonden / not found",
    "locked": "in gebruik door een ander programma / in use by another program",
    "protocol": "SMB-fout / SMB error",
}


def describe(code: str, where: str, exc: BaseException | None = None) -> str:
    """Dutch-first message for ``code`` at ``where`` (server or share, never a file name)."""
    status = _status(exc) if exc is not None else None
    detail = f" (NTSTATUS 0x{status:08x})" if status is not None else ""
    return f"{where}: {_MESSAGES.get(code, _MESSAGES['protocol'])}{detail}"


@dataclass(frozen=True, slots=True)
class DirEntry:
    """What one directory listing says about one entry; no handle is opened per entry."""

    name: str
    is_dir: bool
    is_reparse_point: bool
    is_offline: bool
    size: int
    mtime: datetime
    mtime_ns: int
    file_id: int


def _to_ns(value: datetime) -> int:
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


class SmbClient:
    """Lazily connected SMB session to one server, owned by one connector instance."""

    def __init__(self, config: SmbConfig) -> None:
        self._config = config
        self._cache: dict[str, Connection] = {}
        self._lock = threading.Lock()
        self._kwargs: dict[str, Any] | None = None
        self.encrypted: bool = False
        """Whether the session encrypts all traffic (known after the first connection)."""

    # --- connection -------------------------------------------------------------------------

    def unc(self, relative: str) -> str:
        """``share/dir/file`` -> ``\\\\server\\share\\dir\\file``."""
        return "\\\\" + self._config.server + "\\" + relative.replace("/", "\\")

    def connect(self) -> dict[str, Any]:
        """Open the connection and session once; return the kwargs every smbclient call needs.

        Encryption: when the server offers SMB3 encryption it is always used; with
        ``require_encryption`` a server without it is refused instead of being read in clear.
        """
        with self._lock:
            if self._kwargs is not None:
                return self._kwargs
            cfg = self._config
            where = f"SMB-server {cfg.server}:{cfg.port}"
            if cfg.auth_protocol == "kerberos" and importlib.util.find_spec("gssapi") is None:
                # pyspnego needs python-gssapi for Kerberos on Linux; without it the logon would
                # fail with an opaque error at 03:00, so say what to install.
                raise SourceError(
                    "auth_failed",
                    f"{where}: Kerberos vraagt het Python-pakket gssapi (pip install "
                    "'pyspnego[kerberos]') / Kerberos needs the gssapi package",
                )
            try:
                connection = Connection(
                    smbclient.ClientConfig().client_guid, cfg.server, cfg.port,
                    require_signing=cfg.require_signing,
                )
                connection.connect(timeout=cfg.connection_timeout)
            except Exception:  # noqa: BLE001 - every failure here means unreachable
                log.warning("%s", describe("unreachable", where))
                raise SourceError("unreachable", describe("unreachable", where)) from None
            supports = bool(connection.supports_encryption)
            if cfg.require_encryption and not supports:
                connection.disconnect()
                raise SourceError(
                    "protocol",
                    f"{where}: server biedt geen SMB3-versleuteling / "
                    "server does not offer SMB3 encryption",
                )
            self._cache[f"{cfg.server.lower()}:{cfg.port}"] = connection
            kwargs: dict[str, Any] = {
                "username": cfg.username,
                "password": cfg.password.get() if cfg.password is not None else None,
                "port": cfg.port,
                "encrypt": True if supports else None,
                "connection_timeout": cfg.connection_timeout,
                "connection_cache": self._cache,
                "auth_protocol": cfg.auth_protocol,
                "require_signing": cfg.require_signing,
            }
            try:
                session = smbclient.register_session(cfg.server, **kwargs)
            except Exception as exc:  # noqa: BLE001
                code = classify(exc)
                if code in {"protocol", "access_denied"}:
                    code = "auth_failed"  # a failed session setup is a logon problem
                self._drop()
                raise SourceError(code, describe(code, where, exc)) from None
            self.encrypted = bool(session.encrypt_data)
            self._kwargs = kwargs
            return kwargs

    def _drop(self) -> None:
        smbclient.reset_connection_cache(fail_on_error=False, connection_cache=self._cache)

    def close(self) -> None:
        """Close this client's connection (and only it)."""
        with self._lock:
            self._drop()
            self._kwargs = None

    # --- operations ---------------------------------------------------------------------------

    def list_dir(self, relative: str) -> list[DirEntry]:
        """All entries of one directory, read completely before the caller recurses, so no
        directory handle stays open while subfolders are walked. Raises ``OSError``/
        smbprotocol exceptions for the caller to classify."""
        kwargs = self.connect()
        entries: list[DirEntry] = []
        with smbclient.scandir(self.unc(relative), **kwargs) as iterator:
            for entry in iterator:
                info = entry.smb_info
                attrs = int(info.file_attributes)
                entries.append(DirEntry(
                    name=entry.name,
                    is_dir=bool(attrs & FILE_ATTRIBUTE_DIRECTORY),
                    is_reparse_point=bool(attrs & FILE_ATTRIBUTE_REPARSE_POINT),
                    is_offline=bool(attrs & OFFLINE_ATTRIBUTES),
                    size=int(info.end_of_file),
                    mtime=info.last_write_time,
                    mtime_ns=_to_ns(info.last_write_time),
                    file_id=int(info.file_id or 0),
                ))
        return entries

    def owner_sid(self, relative: str) -> str:
        """Owner SID from the security descriptor, in one compound round trip
        (create with READ_CONTROL + query security info + close).

        smbclient has no public call for this (smbprotocol issue #349); this uses the same
        transaction helper its own ``stat`` uses.
        """
        descriptor = self._security_descriptor(relative, _OWNER_SECURITY_INFORMATION, 4096)
        return str(descriptor.get_owner())

    def dacl(self, relative: str) -> list[tuple[int, int, str]] | None:
        """The file's DACL as (ACE type, access mask, SID) in order, in the same one round trip
        (SMB2 QUERY_INFO, SECURITY_INFORMATION with DACL_SECURITY_INFORMATION, [MS-SMB2]
        2.2.37); ``None`` for a NULL DACL ("no DACL present": everyone has full access).
        ACE types smbprotocol does not parse (object ACEs) are skipped: they grant on AD
        objects, not on files."""
        descriptor = self._security_descriptor(relative, _DACL_SECURITY_INFORMATION, 65536)
        acl = descriptor.get_dacl()
        if acl is None:
            return None
        out: list[tuple[int, int, str]] = []
        for ace in acl["aces"].get_value():
            if isinstance(ace, bytes):
                continue
            out.append((int(ace["ace_type"].get_value()), int(ace["mask"].get_value()), str(ace["sid"].get_value())))
        return out

    def _security_descriptor(self, relative: str, information: int, length: int) -> SMB2CreateSDBuffer:
        kwargs = self.connect()
        raw = SMBRawIO(
            self.unc(relative), mode="r", share_access="rwd",
            desired_access=FilePipePrinterAccessMask.READ_CONTROL
            | FilePipePrinterAccessMask.FILE_READ_ATTRIBUTES,
            **kwargs,
        )
        request = SMB2QueryInfoRequest()
        request["info_type"] = InfoType.SMB2_0_INFO_SECURITY
        request["output_buffer_length"] = length
        request["additional_information"] = information
        request["file_id"] = b"\xff" * 16  # compound: use the handle of the preceding create

        def receive(sent: Any) -> SMB2CreateSDBuffer:
            response = raw.fd.connection.receive(sent)
            query = SMB2QueryInfoResponse()
            query.unpack(response["data"].get_value())
            descriptor = SMB2CreateSDBuffer()
            descriptor.unpack(query["buffer"].get_value())
            return descriptor

        transaction = SMBFileTransaction(raw)
        transaction += (request, receive)
        transaction.commit()
        return transaction.results[0]

    def file_id(self, relative: str) -> int:
        """The server's file id of a folder or file (0 when the server reports none)."""
        kwargs = self.connect()
        return int(smbclient.stat(self.unc(relative), **kwargs).st_ino or 0)

    def probe(self, relative: str) -> int:
        """Open the file for reading and close it again; return its current size.

        Opening (not just a stat) is the honest check that the content can be read: it fails
        now on access denied, a vanished file or a sharing violation (a .pst open in Outlook),
        instead of later inside extraction. Nothing is read.
        """
        kwargs = self.connect()
        raw = SMBFileIO(self.unc(relative), mode="r", share_access="rwd", **kwargs)
        raw.open()
        try:
            return int(raw.fd.end_of_file)
        finally:
            raw.close()

    def exists(self, relative: str) -> bool:
        """Whether a file or folder is there; only "not found" is False, every other failure
        (denied, connection) raises for the caller to classify."""
        kwargs = self.connect()
        try:
            smbclient.lstat(self.unc(relative), **kwargs)
        except Exception as exc:
            if classify(exc) == "not_found":
                return False
            raise
        return True

    def makedirs(self, relative: str) -> None:
        """Create a folder and its parents below the share (existing ones are fine).

        Top down, one level at a time: ``smbclient.makedirs`` climbs up from the leaf and
        ends trying to create the share itself, which Samba refuses with access denied."""
        kwargs = self.connect()
        parts = relative.split("/")
        for depth in range(2, len(parts) + 1):
            folder = "/".join(parts[:depth])
            try:
                smbclient.mkdir(self.unc(folder), **kwargs)
            except OSError as exc:
                if not (isinstance(exc, FileExistsError) or exc.errno == errno.EEXIST):
                    raise

    def rename(self, source: str, target: str) -> None:
        """Rename within one share (SMB2 SET_INFO FileRenameInformation, ReplaceIfExists
        false): the server refuses to overwrite, and a file another program holds open
        without delete sharing gives a sharing violation (``locked``)."""
        kwargs = self.connect()
        smbclient.rename(self.unc(source), self.unc(target), **kwargs)

    def open(self, relative: str) -> BinaryIO:
        """A fresh buffered binary stream; other programs may keep reading and writing.

        Errors become a plain ``OSError`` with a Dutch-first message: smbprotocol's own
        exceptions carry the full UNC path (a file name) in their text, which must not reach
        an extraction error or a log line.
        """
        kwargs = self.connect()
        try:
            return smbclient.open_file(self.unc(relative), mode="rb", share_access="rwd", **kwargs)
        except Exception as exc:  # noqa: BLE001
            code = classify(exc)
            errno_value = exc.errno if isinstance(exc, OSError) and exc.errno else None
            message = _MESSAGES.get(code, _MESSAGES["protocol"])
            raise OSError(errno_value, f"SMB: {message}") from None


__all__ = ["SmbClient", "DirEntry", "classify", "describe"]
