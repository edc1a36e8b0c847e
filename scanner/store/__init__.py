"""Persistence: schema, migrations, the Store and the run lock."""

from scanner.store.store import KnownItem, Store, item_id

__all__ = ["KnownItem", "Store", "item_id"]
