"""What went wrong with the machine, said in one line: a full or read-only disk, a database file
that is no database, a ``state_dir`` that is a file, a secret that cannot be read or is not the
right one.

IT reads these at 03:00 in a cron mail. "OperationalError" and a 40-line traceback say nothing
to them; "schijf vol" does. :func:`explain` recognises these failures of the environment (not
bugs) wherever they surface (SQLite, PostgreSQL, the file system) and returns the sentence, in
the CLI's language; anything it does not recognise returns ``None`` and stays a bug report.
Messages name paths, never content.
"""

from __future__ import annotations

import errno
from pathlib import Path

MESSAGES: dict[str, dict[str, str]] = {
    "disk_full": {"nl": "Schijf vol: {where} kan niet worden geschreven. Maak ruimte vrij en start opnieuw; "
                        "wat al verwerkt is blijft bewaard.",
                  "en": "Disk full: {where} cannot be written. Free some space and start again; what was "
                        "already processed is kept."},
    "read_only": {"nl": "Alleen-lezen: {where} kan niet worden beschreven (rechten of een alleen-lezen schijf).",
                  "en": "Read-only: {where} cannot be written (permissions or a read-only disk)."},
    "not_a_database": {"nl": "{where} is geen (of een beschadigde) schoonschip-database. Zet een reservekopie "
                             "terug of verplaats het bestand; schoonschip overschrijft het niet.",
                       "en": "{where} is not a schoonschip database (or a damaged one). Restore a backup or "
                             "move the file away; schoonschip does not overwrite it."},
    "cannot_open": {"nl": "De database {where} kan niet worden geopend (bestaat de map, mag schoonschip erin?).",
                    "en": "The database {where} cannot be opened (does the folder exist, may schoonschip use it?)."},
    "not_a_folder": {"nl": "{where} is een bestand, geen map: controleer state_dir in de configuratie.",
                     "en": "{where} is a file, not a folder: check state_dir in the configuration."},
    "no_access": {"nl": "Geen toegang tot {where}: controleer eigenaar en rechten.",
                  "en": "No access to {where}: check its owner and permissions."},
    "secret.unreadable": {"nl": "De geheime sleutel {where} is niet leesbaar: controleer eigenaar en rechten (0600).",
                          "en": "The secret key {where} is not readable: check its owner and permissions (0600)."},
    "secret.missing": {"nl": "De geheime sleutel {where} ontbreekt, maar de database bevat hashes die ermee "
                             "gemaakt zijn. Zet het oorspronkelijke bestand terug; een nieuwe sleutel wordt niet "
                             "gemaakt.",
                       "en": "The secret key {where} is missing, but the database holds hashes made with it. "
                             "Restore the original file; no new key is made."},
    "secret.replaced": {"nl": "De geheime sleutel {where} is niet de sleutel waarmee deze database gevuld is. "
                              "Zet de oorspronkelijke sleutel terug.",
                        "en": "The secret key {where} is not the key this database was filled with. Restore "
                              "the original key."},
    "internal": {"nl": "Interne fout ({error}); draai opnieuw met --verbose voor details.",
                 "en": "Internal error ({error}); run again with --verbose for details."},
}


_database: str | None = None


def remember_database(url: str | None) -> None:
    """The database of this command, named in messages whose driver error carries no path
    (the CLI sets it once the configuration is loaded)."""
    global _database
    _database = url


def message(key: str, **values: str) -> str:
    from scanner.i18n import language

    return MESSAGES[key][language()].format(**values)


def explain(exc: BaseException, *, database: str | None = None) -> str | None:
    """One line for a failure of the environment, or ``None`` when ``exc`` is not one.
    ``database`` names the database for messages that come from the driver without a path."""
    from scanner.core.privacy import SecretError

    database = database or _database
    where_db = _database_name(database)
    if isinstance(exc, SecretError):
        return message(f"secret.{exc.code}", where=str(exc.path))
    driver_text = _driver_text(exc)
    if driver_text is not None:
        lowered = driver_text.lower()
        if "full" in lowered and ("disk" in lowered or "database" in lowered) or "no space" in lowered:
            return message("disk_full", where=where_db)
        if "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
            return message("read_only", where=where_db)
        if "not a database" in lowered or "malformed" in lowered or "file is encrypted" in lowered:
            return message("not_a_database", where=where_db)
        if "unable to open database" in lowered:
            return message("read_only" if _read_only(database) else "cannot_open", where=where_db)
        if "disk i/o error" in lowered:
            return message("disk_full" if _disk_full(database) else "read_only", where=where_db)
        return None
    if isinstance(exc, OSError):
        where = exc.filename or where_db
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return message("disk_full", where=str(where))
        if exc.errno == errno.EROFS:
            return message("read_only", where=str(where))
        if isinstance(exc, (NotADirectoryError, FileExistsError)):
            return message("not_a_folder", where=str(_first_file(where)))
        if isinstance(exc, PermissionError):
            return message("no_access", where=str(where))
    return None


def internal(exc: BaseException) -> str:
    return message("internal", error=type(exc).__name__)


def _driver_text(exc: BaseException) -> str | None:
    """The database driver's own message (SQLAlchemy wraps sqlite3/psycopg errors)."""
    import sqlite3

    try:
        from sqlalchemy.exc import DBAPIError
    except ImportError:  # pragma: no cover - SQLAlchemy is a dependency
        DBAPIError = ()  # type: ignore[assignment,misc]  # noqa: N806 - stands in for the class
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return str(exc.orig)
    if isinstance(exc, sqlite3.DatabaseError):
        return str(exc)
    cause = exc.__cause__ or exc.__context__
    if cause is not None and cause is not exc and isinstance(cause, (sqlite3.DatabaseError,)):
        return str(cause)
    return None


def _database_name(url: str | None) -> str:
    if not url:
        return "de database / the database"
    if url.startswith("sqlite:///"):
        return url.removeprefix("sqlite:///")
    # A server URL: name host and database, never the password.
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
        return f"{parsed.drivername}://{parsed.host or ''}/{parsed.database or ''}"
    except Exception:  # noqa: BLE001 - an odd URL still gets a message
        return "de database / the database"


def _first_file(path: object) -> Path:
    """The part of ``path`` that is a file where a folder was expected."""
    candidate = Path(str(path))
    for part in (candidate, *candidate.parents):
        if part.exists() and not part.is_dir():
            return part
    return candidate


def _read_only(database: str | None) -> bool:
    """Whether the SQLite database's folder is on a read-only file system or not writable
    (SQLite then cannot create its -wal/-shm files and only says "unable to open")."""
    import os

    if not database or not database.startswith("sqlite:///"):
        return False
    folder = Path(database.removeprefix("sqlite:///")).parent
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY) or not os.access(folder, os.W_OK)
    except OSError:
        return False


def _disk_full(database: str | None) -> bool:
    import shutil

    if not database or not database.startswith("sqlite:///"):
        return False
    try:
        return shutil.disk_usage(Path(database.removeprefix("sqlite:///")).parent).free < 1024 * 1024
    except OSError:
        return False
