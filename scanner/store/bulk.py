"""Bulk writes of plain rows with statements prepared once: the driver's write path.

Why not ``conn.execute(insert(table), rows)``: SQLAlchemy then works on every parameter of
every row in Python (``construct_params``, one bind processor call per value, a JSON encoding
per JSON value), which was a third of the single writer's CPU on a first scan
(docs/performance.md, "Driver alone"). Here the statement text and the conversions of each
column are worked out once per (table, columns, dialect), and a row becomes one tuple handed
to the DB-API: ``executemany`` of the driver on SQLite, ``COPY`` for inserts on PostgreSQL
(one stream per batch instead of one pipelined statement per row).

The values that reach the database are the ones SQLAlchemy would send: each column is
converted by SQLAlchemy's own bind processor for the dialect, columns left out get their
scalar Python default as ``insert()`` would give them, and JSON values are encoded by the
dialect's serializer (``json.dumps`` unless configured), memoised because they repeat
(``[]``, ``["identificatie"]``, ``{"NL_BSN": 1}`` over a million items).
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, DateTime, Table
from sqlalchemy.engine import Connection, Dialect

from scanner.core.memo import remember

UNNEST_COLUMNS = 8
"""Updates of at most this many columns go as one ``UPDATE ... FROM unnest`` on PostgreSQL.
Measured on 1,000 rows: 6 columns (the retention pass) 0.003 ms CPU per row against 0.015 by
executemany; 36 columns (a re-analysed item) 0.053 against 0.021, because psycopg dumps a
Python list into an array value by value in Python."""
MULTI_ROWS = 50
"""Rows per INSERT statement of :meth:`BulkWriter.insert_tuples` outside PostgreSQL's COPY."""
_MAX_PARAMETERS = 999
"""SQLite's smallest limit of parameters per statement (before 3.32)."""
_JSON_MEMO = 4096
"""Distinct JSON values remembered per column (cleared when full)."""

Convert = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Prepared:
    sql: str
    convert: tuple[Convert | None, ...]
    """Per parameter: the conversion to apply, or None to pass the value as it is."""
    names: tuple[str, ...]
    """The row keys, in parameter order."""
    defaults: Mapping[str, Any]
    """Columns not in the rows, with the scalar default ``insert()`` would give them."""
    copy: str | None = None
    """PostgreSQL: the ``COPY ... FROM STDIN`` statement for the same columns."""
    unnest: bool = False
    """PostgreSQL: an update of the whole batch from arrays, one parameter per column."""


def bind_none_cheaply() -> None:
    """Make the sqlite3 module bind ``None`` through an adapter it finds at once.

    Why: for every parameter that is not exactly an int, float, str or bytearray, CPython's
    sqlite3 (3.11) runs its adapter protocol: a dict look-up of ``(type, protocol)``, then
    ``__adapt__`` and ``__conform__`` attribute look-ups that fail, about 3,300 instructions,
    before binding the value as it is. ``None`` is such a parameter, and a first scan binds
    tens of thousands (a finding without a category or a location): 6-7 % of the driver's
    instructions. With an adapter registered for ``NoneType`` the look-up hits and the adapter
    (``{}.get``, a C method that returns ``None`` for any key) gives ``None`` back, which binds
    as NULL exactly as before. The registration is process-wide and changes no value: every
    ``None`` still reaches SQLite as NULL, whoever binds it. Idempotent."""
    import sqlite3

    sqlite3.register_adapter(type(None), _NONE)


_NONE: Callable[[Any], None] = {}.get
"""``{}.get(value)`` is ``None`` for every value: the NoneType adapter of :func:`bind_none_cheaply`."""


class BulkWriter:
    """Inserts and updates of many plain dict rows for one engine's dialect.

    All rows of one call must have the same keys (as for SQLAlchemy's executemany, which
    compiles the statement from the first row)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self._postgres = dialect.name == "postgresql" and dialect.driver == "psycopg"
        self._prepared: dict[tuple[str, str, tuple[str, ...]], _Prepared] = {}
        self._nullable: dict[str, frozenset[str]] = {}

    def insert(self, conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Columns that are None in every row and would be NULL without a value too (no
        default, not JSON) are left out of the statement: the sqlite3 module passes every
        None parameter through its adapter look-up (a tuple, a dict look-up and two attribute
        look-ups per value), a tenth of the driver's instructions per new item on SQLite,
        whose row has ~10 of them (no department, link, close date, exposure, error...)."""
        if not rows:
            return
        names = tuple(rows[0])
        first, empty = rows[0], self._left_out(table)
        unset = [name for name in names if name in empty and first[name] is None]
        if unset:
            unset = [name for name in unset if all(row[name] is None for row in rows)]
            names = tuple(name for name in names if name not in unset)
        prepared = self._prepared_insert(table, names)
        self._write(conn, prepared, self._tuples(prepared, rows))

    def _left_out(self, table: Table) -> frozenset[str]:
        """The columns of ``table`` an INSERT may leave out for NULL: no Python or server
        default, and not JSON (a JSON None is the text ``null`` unless the type says otherwise)."""
        found = self._nullable.get(table.name)
        if found is None:
            found = self._nullable[table.name] = frozenset(
                column.name for column in table.columns
                if column.default is None and column.server_default is None and not column.primary_key
                and not isinstance(column.type, JSON))
        return found

    def insert_tuples(self, conn: Connection, table: Table, names: tuple[str, ...],
                      rows: Sequence[tuple[Any, ...]]) -> None:
        """:meth:`insert` of rows given as tuples of the columns ``names``, in that order: for
        the many small rows of a batch (a mail has ~13 findings), where making a dict per row
        and taking it apart again was most of the Python per row. The same conversions and
        defaults apply."""
        if not rows:
            return
        prepared = self._prepared_insert(table, names)
        values = self._from_tuples(prepared, rows)
        if prepared.copy is None and len(values) >= MULTI_ROWS:
            self._write_multi(conn, prepared, values)
        else:
            self._write(conn, prepared, values)

    def _write_multi(self, conn: Connection, prepared: _Prepared, values: list[tuple[Any, ...]]) -> None:
        """The rows as INSERTs of ``MULTI_ROWS`` rows each (one ``VALUES`` list), the rest one
        by one: per row, executemany's reset and re-run of the statement cost about as much as
        its binding (~9 % of inserting a first scan's finding rows). The rows go in in the same
        order, so they get the same row ids."""
        width = len(prepared.convert)
        per = max(1, min(MULTI_ROWS, _MAX_PARAMETERS // max(1, width)))
        full = len(values) // per * per
        if full:
            group = ", (" + ", ".join([self._mark] * width) + ")"
            sql = prepared.sql + group * (per - 1)
            chained = itertools.chain.from_iterable
            conn.exec_driver_sql(sql, [tuple(chained(values[k:k + per])) for k in range(0, full, per)])
        if full < len(values):
            conn.exec_driver_sql(prepared.sql, values[full:])

    def _prepared_insert(self, table: Table, names: tuple[str, ...]) -> _Prepared:
        prepared = self._prepared.get(("insert", table.name, names))
        if prepared is None:
            prepared = self._prepared[("insert", table.name, names)] = self._prepare_insert(table, names)
        return prepared

    def _write(self, conn: Connection, prepared: _Prepared, values: list[tuple[Any, ...]]) -> None:
        if prepared.copy is not None:
            cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                with cursor.copy(prepared.copy) as copy:
                    for row in values:
                        copy.write_row(row)
            finally:
                cursor.close()
        else:
            conn.exec_driver_sql(prepared.sql, values)

    def update(self, conn: Connection, table: Table, key: str, rows: Sequence[Mapping[str, Any]],
               *, by: str = "b_id", columns: Sequence[str] | None = None) -> None:
        """``UPDATE table SET <columns> WHERE <key> = row[by]`` for every row (``columns``:
        the row's other keys unless given). Should two rows name the same key, the last one
        stands, as with one statement per row in order.

        PostgreSQL, up to ``UNNEST_COLUMNS`` columns: one statement for the whole batch
        (``UPDATE ... FROM unnest(arrays)``) instead of one pipelined statement per row."""
        if not rows:
            return
        names = (*(columns if columns is not None else [k for k in rows[0] if k != by]), by)
        shape = ("update", f"{table.name}.{key}.{by}", names)
        prepared = self._prepared.get(shape)
        if prepared is None:
            prepared = self._prepared[shape] = self._prepare_update(table, key, names)
        values = self._tuples(prepared, rows)
        if prepared.unnest:
            last = {row[-1]: row for row in values}  # in order: the last row of a key wins
            conn.exec_driver_sql(prepared.sql, tuple(list(column) for column in zip(*last.values(), strict=True)))
        else:
            conn.exec_driver_sql(prepared.sql, values)

    # --- preparing -----------------------------------------------------------------------

    def _prepare_insert(self, table: Table, names: tuple[str, ...]) -> _Prepared:
        defaults: dict[str, Any] = {}
        for column in table.columns:
            if column.name in names or column.default is None:
                continue
            if not column.default.is_scalar:
                raise ValueError(f"column {table.name}.{column.name} has a default that is not a "
                                 "constant: insert it with SQLAlchemy")
            defaults[column.name] = column.default.arg  # type: ignore[attr-defined]
        order = names + tuple(defaults)
        quote = self.dialect.identifier_preparer.quote
        columns = ", ".join(quote(name) for name in order)
        sql = (f"INSERT INTO {quote(table.name)} ({columns}) "
               f"VALUES ({', '.join([self._mark] * len(order))})")
        copy = f"COPY {quote(table.name)} ({columns}) FROM STDIN" if self._postgres else None
        return _Prepared(sql, tuple(self._converter(table, name) for name in order), names, defaults, copy)

    def _prepare_update(self, table: Table, key: str, names: tuple[str, ...]) -> _Prepared:
        quote = self.dialect.identifier_preparer.quote
        sets, target = names[:-1], quote(table.name)
        convert = tuple(self._converter(table, name) for name in (*sets, key))
        unnest = self._postgres and len(sets) <= UNNEST_COLUMNS
        if unnest:
            types = [table.columns[name].type.compile(dialect=self.dialect) for name in (*sets, key)]
            aliases = [f"v{i}" for i in range(len(names))]
            sql = (f"UPDATE {target} SET "
                   + ", ".join(f"{quote(name)} = v.{alias}" for name, alias in zip(sets, aliases, strict=False))
                   + " FROM unnest(" + ", ".join(f"%s::{kind}[]" for kind in types)
                   + f") AS v({', '.join(aliases)}) WHERE {target}.{quote(key)} = v.{aliases[-1]}")
        else:
            sql = (f"UPDATE {target} SET " + ", ".join(f"{quote(name)} = {self._mark}" for name in sets)
                   + f" WHERE {quote(key)} = {self._mark}")
        return _Prepared(sql, convert, names, {}, unnest=unnest)

    def _converter(self, table: Table, name: str) -> Convert | None:
        column = table.columns[name]
        if isinstance(column.type, JSON):
            return _JsonEncoder(column.type, self.dialect)
        processor: Convert | None = column.type.dialect_impl(self.dialect).bind_processor(self.dialect)
        if processor is not None and isinstance(column.type, DateTime):
            return _SameAsLast(processor)
        return processor

    @staticmethod
    def _tuples(prepared: _Prepared, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        names = prepared.names
        if len(names) == 1:
            name = names[0]
            return BulkWriter._from_tuples(prepared, [(row[name],) for row in rows])
        pick = itemgetter(*names)  # one C call per row for the values in parameter order
        return BulkWriter._from_tuples(prepared, [pick(row) for row in rows])

    @staticmethod
    def _from_tuples(prepared: _Prepared, rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """The parameter tuples of rows already in ``prepared.names`` order: conversions
        applied, defaults appended; rows needing neither are passed as they are."""
        convert = prepared.convert
        count = len(prepared.names)
        tail = tuple(c(v) if c is not None else v
                     for c, v in zip(convert[count:], prepared.defaults.values(), strict=True))
        if all(c is None for c in convert[:count]):
            if not tail:
                return rows if isinstance(rows, list) else list(rows)
            return [(*row, *tail) for row in rows]
        return _row_converter(convert[:count])(rows, tail)


@functools.lru_cache(maxsize=256)
def _row_converter(convert: tuple[Convert | None, ...]) -> Callable[[Sequence[tuple[Any, ...]], tuple[Any, ...]],
                                                                      list[tuple[Any, ...]]]:
    """A function that applies ``convert`` to every row (one list comprehension, generated
    once per statement shape): the loop over the conversions of each row in Python was
    the larger half of the write path's Python per item on a first scan (an item row has 13
    converted columns on SQLite). The generated text holds only parameter positions."""
    names = [f"v{i}" for i in range(len(convert))]
    values = ", ".join(f"c{i}({name})" if c is not None else name
                       for i, (c, name) in enumerate(zip(convert, names, strict=True)))
    target = ", ".join(names) + ("," if len(names) == 1 else "")
    namespace: dict[str, Any] = {f"c{i}": c for i, c in enumerate(convert) if c is not None}
    source = (f"def rows_of(rows, tail):\n"
              f"    if tail:\n"
              f"        return [({values},) + tail for {target} in rows]\n"
              f"    return [({values},) for {target} in rows]\n")
    exec(compile(source, "<bulk row converter>", "exec"), namespace)  # the text holds positions only
    function: Callable[[Sequence[tuple[Any, ...]], tuple[Any, ...]], list[tuple[Any, ...]]] = namespace["rows_of"]
    return function


class _SameAsLast:
    """A timestamp column's processor that gives the last value's text again for the same
    object: a batch's rows share one ``analysed_at`` (SQLite formats every timestamp in
    Python, a dict and a ``%`` format per value). The pair is one attribute, so a writer in
    another thread never sees one value with another's text."""

    __slots__ = ("_process", "_last")

    def __init__(self, process: Convert) -> None:
        self._process = process
        self._last: tuple[Any, Any] = (None, process(None))

    def __call__(self, value: Any) -> Any:
        last = self._last
        if value is last[0]:
            return last[1]
        text = self._process(value)
        self._last = (value, text)
        return text


class _JsonEncoder:
    """A JSON column's value as the text SQLAlchemy would send: the dialect's serializer
    (``None`` is JSON ``null`` unless the type says ``none_as_null``), memoised for lists and
    dicts of plain scalars (what the item rows hold)."""

    __slots__ = ("_memo", "_none", "_dumps", "_empty_list", "_empty_dict")

    def __init__(self, json_type: JSON, dialect: Dialect) -> None:
        self._dumps: Callable[[Any], str] = getattr(dialect, "_json_serializer", None) or json.dumps
        self._none: str | None = None if json_type.none_as_null else self._dumps(None)
        self._memo: dict[Any, str] = {}
        self._empty_list: str = self._dumps([])
        self._empty_dict: str = self._dumps({})

    def __call__(self, value: Any) -> str | None:
        if value is None:
            return self._none
        kind = type(value)
        if not value and (kind is list or kind is dict):  # most item values: [] and {}
            return self._empty_list if kind is list else self._empty_dict
        # The key holds the element types: [1] and [True] are equal tuples, unequal JSON.
        if kind is list:
            types = tuple(map(type, value))
            key: Any = (kind, tuple(value), types)
        elif kind is dict:
            types = (*map(type, value), *map(type, value.values()))
            key = (kind, tuple(value.items()), types)
        else:
            return self._dumps(value)
        if not _PLAIN.issuperset(types):  # nested values: not memoised
            return self._dumps(value)
        text = self._memo.get(key)
        if text is None:
            text = remember(self._memo, key, self._dumps(value), _JSON_MEMO)
        return text


_PLAIN = frozenset({str, int, float, bool, type(None)})
"""Element types whose JSON text the memo key pins down (types are part of the key)."""
