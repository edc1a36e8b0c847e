"""Alembic environment: uses the engine handed over by scanner.store.migrate, or -x url=."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from scanner.store.migrate import include_object
from scanner.store.schema import metadata

config = context.config


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        url = context.get_x_argument(as_dictionary=True).get("url")
        if not url:
            raise SystemExit("geef -x url=... / pass -x url=...")
        engine = create_engine(url)
    with engine.begin() as connection:
        # include_object keeps autogenerate away from the job store's table, which
        # APScheduler creates and writes itself (scanner.store.schema.external).
        context.configure(connection=connection, target_metadata=metadata, include_object=include_object,
                          render_as_batch=connection.dialect.name == "sqlite")
        context.run_migrations()


run_migrations()
