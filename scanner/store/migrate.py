"""Schema migrations with Alembic, run programmatically.

Every release ships its migrations inside the package (``scanner/store/migrations``) and the
store upgrades the database to ``head`` when it opens it, so a school that updates the
package never runs a manual migration step. ``alembic`` on the command line works too, with
``-x url=...``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from scanner.store.schema import EXTERNAL_TABLES

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic ``include_object`` hook: autogenerate must not drop (or alter) the tables that
    their owners create themselves, i.e. APScheduler's job store."""
    if type_ == "table" and name in EXTERNAL_TABLES:
        return False
    table = getattr(obj, "table", None)
    return not (type_ in ("index", "column", "unique_constraint", "foreign_key_constraint")
                and table is not None and table.name in EXTERNAL_TABLES)


def alembic_config(engine: Engine | None = None, keys: Any = None) -> Config:
    """``keys`` (:class:`scanner.store.keys.StoreKeys`) are what migration 0004 encrypts the
    stored names with and keys the item ids by."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    if keys is not None:
        config.attributes["store_keys"] = keys
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@functools.cache
def head_revision() -> str | None:
    """The newest migration shipped with this package. Cached: the scripts cannot change under
    a running process, and reading them (Alembic imports every revision file) cost ~14 ms per
    store opened, a fifth of an unchanged scan of a 2,000-mail Maildir (docs/performance.md)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(engine: Engine, keys: Any = None) -> None:
    """Upgrade the database behind ``engine`` to the newest schema (no-op when current)."""
    if current_revision(engine) == head_revision():
        return
    command.upgrade(alembic_config(engine, keys), "head")
