"""Persistence: schema, migrations, the Store and the run lock."""

from scanner.store.rows import StoredItem
from scanner.store.store import KnownItem, Store, item_id

__all__ = ["KnownItem", "Store", "StoredItem", "item_id"]
