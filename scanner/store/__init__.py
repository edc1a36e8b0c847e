"""Persistence: schema, migrations, the Store and the run lock."""

from scanner.store.crypt import StoreKeyError
from scanner.store.rows import StoredItem
from scanner.store.store import KnownItem, Store, open_store

__all__ = ["KnownItem", "Store", "StoreKeyError", "StoredItem", "open_store"]
