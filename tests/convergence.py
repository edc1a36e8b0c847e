"""Compare what two stores know, for convergence tests of the pipeline and the connectors.

The property every source kind must have (issue 15): whatever transient faults a run met,
once they stop the next run leaves the store equal to the store of a clean run over the same
source state. "Equal" is :func:`store_snapshot`: the active items with everything the teacher
digest, the FG statistics and retention read (state, change key, content hash, verdict,
categories, entity counts, retention status and due date, owner, folder, title, findings as
masked samples and keyed hashes), and nothing that only says *when* or *in which run* it was
learnt (run ids, timestamps), which differs between two stores by nature.

Closed items are left out on purpose: a clean store never saw what was deleted before it
started, so "nothing active that is gone" is checked by the active sets being equal, and
"nothing closed that exists" by the same equality (an existing item is active in the clean
store, so it must be active in the other).

:func:`assert_stores_converged` is the whole check for tests that hold two stores (or their
settings): with ``deleted_meanwhile`` false the closed items must match too (nothing was
deleted, so the faulted store may have closed nothing the clean one did not); with it true the
faulted store may hold more than the clean one, but only closed items (what was deleted between
the runs, which a clean run never saw).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from sqlalchemy import select, text

ITEM_FIELDS = (
    "source", "item_key", "unit_key", "kind", "owner", "department", "folder", "title", "link", "size",
    "change_key", "content_hash", "labels", "state", "student_data", "categories", "entity_counts",
    "reasons", "error_codes", "retention_status", "due_date", "rule_id", "action", "exempt_reason",
    "attempts", "last_error", "stale",
)
FINDING_FIELDS = ("entity", "category", "part", "location", "start", "end", "score", "masked", "value_hash")


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _plain(v)) for k, v in value.items()))
    return value


def _opened(store: Any, table: str, row: Any) -> dict[str, Any]:
    """A row with its encrypted columns (:data:`scanner.store.schema.ENCRYPTED`) opened."""
    from scanner.store import schema as s

    opened = dict(row)
    for column in s.ENCRYPTED.get(table, {}):
        if column in opened:
            opened[column] = store._open(opened[column])
    return opened


def store_snapshot(store: Any, *, include_closed: bool = False) -> dict[tuple[str, str], dict[str, Any]]:
    """Canonical dump of a store (a :class:`scanner.store.Store`, or the settings of one, which
    carry its key files): (source, item_key) -> item fields and sorted findings, names opened.

    Not a database URL: names are ciphertext in the database, and a URL carries no key."""
    from scanner.store import Store, open_store

    if isinstance(store, Store):
        return _snapshot(store, include_closed)
    if isinstance(store, str):
        raise TypeError("store_snapshot needs a Store or its settings: a URL alone cannot open the names")
    opened = open_store(store, create=False)
    try:
        return _snapshot(opened, include_closed)
    finally:
        opened.close()


def _snapshot(store: Any, include_closed: bool) -> dict[tuple[str, str], dict[str, Any]]:
    from scanner.store import schema as s

    items: dict[tuple[str, str], dict[str, Any]] = {}
    with store.engine.connect() as conn:
        query = select(s.items)
        if not include_closed:
            query = query.where(s.items.c.state == "actief")
        by_id: dict[str, tuple[str, str]] = {}
        for stored in conn.execute(query).mappings():
            row = _opened(store, "items", stored)  # names are ciphertext in the database
            key = (row["source"], row["item_key"])
            items[key] = {name: _plain(row[name]) for name in ITEM_FIELDS if name in row}
            items[key]["findings"] = []
            by_id[row["id"]] = key
        for stored in conn.execute(select(s.findings)).mappings():
            key = by_id.get(stored["item_id"])
            if key is not None:
                row = _opened(store, "findings", stored)
                items[key]["findings"].append(tuple(_plain(row[name]) for name in FINDING_FIELDS))
    for item in items.values():
        item["findings"] = tuple(sorted(item["findings"], key=repr))
    return items


def assert_converged(actual: dict, expected: dict) -> None:
    """Fail with a short, readable difference: which items are missing, extra or different,
    and in which fields (values are masked samples and hashes only, never content)."""
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    differing = {}
    for key in sorted(set(actual) & set(expected)):
        fields = {name: (actual[key].get(name), expected[key].get(name))
                  for name in expected[key] if actual[key].get(name) != expected[key].get(name)}
        if fields:
            differing[key] = fields
    problems = []
    if missing:
        problems.append(f"missing (active in the clean store): {missing[:10]}")
    if extra:
        problems.append(f"extra (active but not in the clean store): {extra[:10]}")
    for key, fields in list(differing.items())[:10]:
        problems.append(f"{key}: " + ", ".join(f"{n}={a!r} (clean: {b!r})" for n, (a, b) in fields.items()))
    assert not problems, "stores differ:\n  " + "\n  ".join(problems)


def states(store: Any) -> dict[tuple[str, str], str]:
    """(source, item_key) -> state of every item, closed ones included."""
    return {key: item["state"] for key, item in store_snapshot(store, include_closed=True).items()}


def assert_stores_converged(actual: Any, clean: Any, *, deleted_meanwhile: bool = False) -> None:
    """Two stores (or their settings) hold the same knowledge; see the module docstring for
    what ``deleted_meanwhile`` allows."""
    if not deleted_meanwhile:
        assert_converged(store_snapshot(actual, include_closed=True), store_snapshot(clean, include_closed=True))
        return
    everything = store_snapshot(actual, include_closed=True)
    expected = store_snapshot(clean)
    assert_converged({k: v for k, v in everything.items() if v["state"] == "actief"}, expected)
    beyond = {key: item["state"] for key, item in everything.items() if key not in expected}
    assert all(state == "opgeruimd" for state in beyond.values()), f"not closed, not in the clean store: {beyond}"


def scan(settings: Any, *, around: Callable[[], AbstractContextManager[Any]] = nullcontext
         ) -> tuple[Any, list[dict[str, Any]]]:
    """One scan of the store of ``settings``; its summary and its problems: source errors
    (warnings included) and item errors as ``{"code": ..., "message": ...}`` (messages opened by
    the store). ``around`` wraps the run (tests.permissions.permissions_apply for file modes)."""
    from scanner.pipeline import ScanRunner
    from scanner.store import open_store

    store = open_store(settings)
    try:
        with around():
            summary = ScanRunner(settings, store).run()
        with store.engine.connect() as conn:
            item_errors = [dict(code=code, message=store._open(message)) for code, message in conn.execute(text(
                "select code, message from item_errors where run_id = :run"), {"run": summary.run_id})]
        return summary, store.source_errors(summary.run_id) + item_errors
    finally:
        store.close()


def scan_totals(settings: Any) -> dict[str, Any]:
    """One scan of the store of ``settings``; its figures."""
    summary, _ = scan(settings)
    return summary.totals()
