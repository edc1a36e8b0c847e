"""The store: all reads and writes of the database go through :class:`Store`.

Names, paths, keys, links and owners are encrypted on their way in and opened on their way out
(:data:`scanner.store.schema.ENCRYPTED`, :mod:`scanner.store.crypt`): callers see clear values,
the database file holds none.

The pipeline driver is the only writer. Writes happen in small transactions (a batch of
analysed items, a unit's completion), so a run killed at any point loses at most the batch in
flight, which the resumed run analyses again; because an item's findings are replaced, never
appended, nothing is counted twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import (
    String,
    and_,
    any_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    null,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine

from scanner.core.dates import as_utc
from scanner.core.memo import remember
from scanner.core.model import (
    RETRYABLE_ERRORS,
    AnalysisResult,
    Exposure,
    ItemRef,
    ItemState,
    RetentionStatus,
    is_retryable,
)
from scanner.store import schema as s
from scanner.store.bulk import BulkWriter, bind_none_cheaply
from scanner.store.crypt import FieldCipher, StoreKeyError
from scanner.store.keys import StoreKeys, default_files, load_keys
from scanner.store.rows import RetentionRow, StoredItem, aware


def utcnow() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    """Store every timestamp in UTC: SQLite keeps no offset, and reading assumes UTC."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def open_store(settings: Any, *, create: bool = True) -> Store:
    """The store of a configuration (:class:`scanner.config.Settings`), with its key files."""
    return Store(settings.database_url, create=create, key_file=settings.key_path,
                 secret_file=settings.secret_path)


@dataclass(frozen=True, slots=True)
class KnownItem:
    id: str
    change_key: str | None
    state: str
    last_seen_run: int
    analysed: bool
    folder: str | None
    unit_key: str
    labels: tuple[str, ...]
    content_hash: str | None = None
    owner: str | None = None
    link: str | None = None
    attempts: int = 0
    """Consecutive failed attempts (retryable errors); 0 after a successful analysis."""
    last_error: str | None = None
    analysed_run: int | None = None
    student_data: bool = False
    stale: bool = False
    sharing_key: str | None = None

    def retry_due(self, max_attempts: int) -> bool:
        """The last attempt failed with a retryable error and attempts are left."""
        return self.last_error is not None and 0 < self.attempts < max_attempts


@dataclass
class SavedBatch:
    """What :meth:`Store.save_results` did with a batch, for the run's figures."""

    failed: dict[str, int] = field(default_factory=dict)
    """Ids whose attempt failed with a retryable error -> attempts now spent."""
    stale: set[str] = field(default_factory=set)
    """Ids whose last good analysis was kept."""


_ID_MEMO = 8192
"""At most this many item ids are memoised per store (a few MB; cleared when full)."""

RETENTION_COLUMNS = ("retention_status", "due_date", "rule_id", "action", "exempt_reason")
"""The columns of an item's retention outcome, in the order of a :data:`RetentionOutcome`."""
RetentionOutcome = tuple[str, date | None, str, str, str | None]
"""An item's retention outcome: status, due date, rule id, action, exempt reason."""
RetentionJudge = Callable[[Mapping[str, Any], AnalysisResult], RetentionOutcome | None]
"""Judges a new item's retention as it is written (:meth:`Store.save_result_groups`), from
the clear column values of its row (``items`` column names) and its analysis result; None
leaves the outcome to the retention pass. Lives outside the store
(:class:`scanner.retention_pass.WriteJudge`): the store only writes what it is given."""


class Store:
    """Typed access to the schoonschip database (SQLite or PostgreSQL)."""

    def __init__(self, url: str, *, create: bool = True, key_file: Path | None = None,
                 secret_file: Path | None = None, keys: StoreKeys | None = None) -> None:
        """``key_file`` and ``secret_file``: the store key and the HMAC secret (default: next
        to a SQLite file; other databases must name them). A missing or wrong key is refused
        with :class:`StoreKeyError`; with ``create=False`` (``status``, which must change
        nothing) nothing is created and a key problem is raised only by what needs the key."""
        self.url = url
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            _private_sqlite_file(Path(url.removeprefix("sqlite:///")))
        shared = _shared_engine(url)
        self.engine: Engine = shared.engine
        self._keys: StoreKeys | None = keys
        self._key_problem: str | None = None
        self._ids: dict[tuple[str, str], str] = {}
        self._bulk = shared.bulk
        if keys is None:
            if url == "sqlite:///:memory:":
                self._keys = StoreKeys.ephemeral()
            else:
                defaults = default_files(url)
                key_file = key_file or (defaults[0] if defaults else None)
                secret_file = secret_file or (defaults[1] if defaults else None)
                if key_file is None or secret_file is None:
                    raise StoreKeyError("geef key_file en secret_file voor deze database / pass key_file and "
                                        "secret_file for this database")
                if create:
                    self._keys = load_keys(self.engine, key_file, secret_file)
                else:
                    try:
                        self._keys = load_keys(self.engine, key_file, secret_file, create=False)
                    except StoreKeyError as exc:
                        self._key_problem = str(exc)
        if create:
            self.create_schema()

    @property
    def key_problem(self) -> str | None:
        """Why the store's key could not be loaded (only with ``create=False``), else None."""
        return self._key_problem

    def keys_in_use(self) -> StoreKeys:
        if self._keys is None:
            raise StoreKeyError(self._key_problem or "geen sleutel / no key")
        return self._keys

    @property
    def _cipher(self) -> FieldCipher:
        return self.keys_in_use().cipher

    def item_id(self, source: str, item_key: str) -> str:
        """Stable, opaque id of an item: the same source and key give the same id on every run,
        and without the installation's secret nobody can compute it for a guessed path.

        Memoised in a small bounded map: a driver asks for the id of each listed item several
        times within one batch (triage, saving, the run's bookkeeping), each an HMAC."""
        got = self._ids.get((source, item_key))
        if got is None:
            got = remember(self._ids, (source, item_key), self.keys_in_use().item_id(source, item_key), _ID_MEMO)
        return got

    def _tag(self, value: str | None) -> str | None:
        return self._cipher.tag(value)

    def _seal(self, value: str | None) -> str | None:
        return self._cipher.seal(value)

    def _open(self, value: str | None) -> str | None:
        return self._cipher.open(value)

    def _open_text(self, value: str) -> str:
        """Open a value of a NOT NULL column."""
        return self._cipher.open(value) or ""

    def _among(self, column: Any, values: Sequence[str]) -> Any:
        """``column IN values`` for a batch of ids. On PostgreSQL ``= ANY(array)``: one
        parameter and one statement text whatever the batch size, where an IN list renders a
        new text per size that psycopg parses again (measured: benchmarks/bench_driver.py)."""
        if self.engine.dialect.name == "postgresql":
            return column == any_(bindparam(None, list(values), type_=ARRAY(String)))
        return column.in_(values)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def create_schema(self) -> None:
        """Bring the schema to the newest version (Alembic when available, else create_all)."""
        from scanner.store.migrate import upgrade

        upgrade(self.engine, self.keys_in_use())

    def close(self) -> None:
        self.engine.dispose()

    def has_value_hashes(self) -> bool:
        """Whether any finding holds a keyed hash (made with the installation secret)."""
        with self.engine.connect() as conn:
            return conn.execute(select(s.findings.c.item_id).limit(1)).first() is not None

    # --- runs ---------------------------------------------------------------------------

    def begin_run(self, kind: str, *, pid: int, host: str, detection_mode: str | None = None,
                  detection_notice: str | None = None) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(insert(s.runs).values(
                kind=kind, status="running", started_at=utcnow(), pid=pid, host=host,
                detection_mode=detection_mode, detection_notice=detection_notice, stats={}))
            key = result.inserted_primary_key
            assert key is not None  # an INSERT always has one
            return int(key[0])

    def unfinished_run(self, kind: str) -> dict[str, Any] | None:
        """The newest run of ``kind`` that never finished (killed): it is resumed, not restarted."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(s.runs).where(s.runs.c.kind == kind, s.runs.c.status.in_(("running", "interrupted")))
                .order_by(s.runs.c.id.desc()).limit(1)).mappings().first()
            return dict(row) if row else None

    def reopen_run(self, run_id: int, *, pid: int, host: str, detection_mode: str | None,
                   detection_notice: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(s.runs).where(s.runs.c.id == run_id).values(
                status="running", pid=pid, host=host, detection_mode=detection_mode,
                detection_notice=detection_notice))

    def set_detection_mode(self, run_id: int, mode: str | None, notice: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(s.runs).where(s.runs.c.id == run_id).values(
                detection_mode=mode, detection_notice=notice))

    def last_detection_mode(self) -> tuple[str, str | None]:
        """The detection mode of the latest scan that recorded one (a run that analysed nothing
        reports the engine that produced the stored findings)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(s.runs.c.detection_mode, s.runs.c.detection_notice).where(
                s.runs.c.kind == "scan", s.runs.c.detection_mode.is_not(None))
                .order_by(s.runs.c.id.desc()).limit(1)).first()
        return (row.detection_mode, row.detection_notice) if row else ("-", None)

    def finish_run(self, run_id: int, status: str, stats: dict[str, Any], error: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(s.runs).where(s.runs.c.id == run_id).values(
                status=status, finished_at=utcnow(), stats=stats, error=error))

    def run(self, run_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(s.runs).where(s.runs.c.id == run_id)).mappings().first()
            return dict(row) if row else None

    def runs(self, kind: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        query = select(s.runs).order_by(s.runs.c.id.desc()).limit(limit)
        if kind:
            query = query.where(s.runs.c.kind == kind)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # --- units and cursors --------------------------------------------------------------

    def cursor(self, source: str, unit_key: str) -> str | None:
        with self.engine.connect() as conn:
            return self._open(conn.execute(select(s.units.c.cursor).where(
                s.units.c.source == source, s.units.c.unit_key == self._tag(unit_key))).scalar())

    def cursors(self, source: str) -> dict[str, str | None]:
        """Every stored cursor of ``source`` by unit key, in one query: the driver reads them
        once per source, not once per unit (an unchanged scan costs per unit, see
        docs/performance.md)."""
        with self.engine.connect() as conn:
            return {self._open_text(key): self._open(cursor) for key, cursor in conn.execute(
                select(s.units.c.unit_key, s.units.c.cursor).where(s.units.c.source == source))}

    def cursors_by_source(self) -> dict[str, dict[str, str | None]]:
        """:meth:`cursors` of every source in one query, by source (an unchanged run asked
        once per source, and again for :meth:`unit_keys`, which are these keys)."""
        out: dict[str, dict[str, str | None]] = {}
        with self.engine.connect() as conn:
            for source, key, cursor in conn.execute(select(s.units.c.source, s.units.c.unit_key,
                                                           s.units.c.cursor)):
                out.setdefault(source, {})[self._open_text(key)] = self._open(cursor)
        return out

    def done_units(self, run_id: int, source: str) -> set[str]:
        with self.engine.connect() as conn:
            return {self._open_text(key) for key in conn.execute(select(s.run_units.c.unit_key).where(
                s.run_units.c.run_id == run_id, s.run_units.c.source == source,
                s.run_units.c.status == "done")).scalars()}

    def reopen_blind_units(self, run_id: int, source: str) -> list[tuple[str, dict[str, Any], int]]:
        """Take back the units of ``source`` that ``run_id`` finished with a blind spot, so a
        resumed run crawls them again: the fault that hid a folder may be gone, and a resumed
        run is the next run (it must leave the store of a clean run). Their blind-spot warnings
        go too (the new crawl reports them again if they remain). Returns per unit its key, the
        figures it had saved and how many warnings were withdrawn, so the run subtracts them."""
        runs, errors = s.run_units.c, s.source_errors.c
        blind = (errors.run_id == run_id) & (errors.source == source) & errors.item_prefix.is_not(None)
        with self.engine.begin() as conn:
            warned: dict[str, int] = dict(conn.execute(select(errors.unit_key, func.count()).where(
                blind, errors.unit_key.is_not(None)).group_by(errors.unit_key)).all())
            if not warned:
                return []
            done = {row.unit_key: row.stats or {} for row in conn.execute(select(runs.unit_key, runs.stats).where(
                runs.run_id == run_id, runs.source == source, runs.status == "done",
                runs.unit_key.in_(list(warned))))}
            if not done:
                return []
            conn.execute(delete(s.run_units).where(
                runs.run_id == run_id, runs.source == source, runs.unit_key.in_(list(done))))
            conn.execute(delete(s.source_errors).where(blind, errors.unit_key.in_(list(done))))
        return [(key, stats, int(warned[key])) for key, stats in sorted(done.items())]

    def complete_unit(self, run_id: int, source: str, unit_key: str, label: str, owner: str | None,
                      cursor: str | None, stats: dict[str, int], *, close: Sequence[str] = (),
                      run_stats: dict[str, Any] | None = None) -> None:
        """Save a unit's new cursor and mark it done for this run, in one transaction, together
        with closing what its full listing did not see (``close``) and the run's figures so
        far (``run_stats``): a kill at any point leaves either all of it or none, so a resumed
        run neither closes twice nor loses the count."""
        now = utcnow()
        tagged = self._tag(unit_key)
        with self.engine.begin() as conn:
            if close:
                self.close_ids(close, now, conn)
            if run_stats is not None:
                conn.execute(update(s.runs).where(s.runs.c.id == run_id).values(stats=run_stats))
            values = dict(label=self._seal(label), owner=self._tag(owner), cursor=self._seal(cursor),
                          last_completed_run=run_id, updated_at=now)
            # Update first: every unit of a nightly run exists already (one statement, not a
            # look-up and a write); only a new unit gets its row inserted.
            if not conn.execute(update(s.units).where(
                    s.units.c.source == source, s.units.c.unit_key == tagged).values(**values)).rowcount:
                conn.execute(insert(s.units).values(source=source, unit_key=tagged, **values))
            conn.execute(delete(s.run_units).where(
                s.run_units.c.run_id == run_id, s.run_units.c.source == source,
                s.run_units.c.unit_key == tagged))
            conn.execute(insert(s.run_units).values(run_id=run_id, source=source, unit_key=tagged,
                                                    status="done", stats=stats, finished_at=now))

    def complete_units(self, run_id: int, units: Sequence[dict[str, Any]], *,
                       run_stats: dict[str, Any] | None = None) -> None:
        """:meth:`complete_unit` for many units that close nothing, in one transaction and a
        few statements (executemany): each of ``units`` has ``source``, ``unit_key``, ``label``,
        ``owner``, ``cursor`` and ``stats``."""
        if not units:
            return
        from sqlalchemy import bindparam

        now = utcnow()
        rows = [dict(b_source=u["source"], b_key=self._tag(u["unit_key"]), label=self._seal(u["label"]),
                     owner=self._tag(u["owner"]), cursor=self._seal(u["cursor"]), last_completed_run=run_id,
                     updated_at=now, stats=u["stats"]) for u in units]
        c, r = s.units.c, s.run_units.c
        with self.engine.begin() as conn:
            if run_stats is not None:
                conn.execute(update(s.runs).where(s.runs.c.id == run_id).values(stats=run_stats))
            # Which rows exist, for all sources at once (one query per 500 keys, not per source:
            # a key is a keyed hash, so another source's equal key is told apart by its source).
            existing: set[tuple[str, str]] = set()
            keys = sorted({row["b_key"] for row in rows})
            for start in range(0, len(keys), 500):
                existing.update((source, key) for source, key in conn.execute(select(c.source, c.unit_key).where(
                    c.unit_key.in_(keys[start:start + 500]))))
            old = [row for row in rows if (row["b_source"], row["b_key"]) in existing]
            new = [row for row in rows if (row["b_source"], row["b_key"]) not in existing]
            fields = ("label", "owner", "cursor", "last_completed_run", "updated_at")
            if old:
                conn.execute(update(s.units).where(c.source == bindparam("b_source"), c.unit_key == bindparam("b_key"))
                             .values({name: bindparam(name) for name in fields}),
                             [{k: row[k] for k in ("b_source", "b_key", *fields)} for row in old])
            if new:
                conn.execute(insert(s.units), [dict(source=row["b_source"], unit_key=row["b_key"],
                                                    **{name: row[name] for name in fields}) for row in new])
            conn.execute(delete(s.run_units).where(
                r.run_id == run_id, r.source == bindparam("b_source"), r.unit_key == bindparam("b_key")),
                [{"b_source": row["b_source"], "b_key": row["b_key"]} for row in rows])
            conn.execute(insert(s.run_units), [dict(run_id=run_id, source=row["b_source"], unit_key=row["b_key"],
                                                    status="done", stats=row["stats"], finished_at=now)
                                               for row in rows])

    def unit_keys(self, source: str) -> set[str]:
        """Units of ``source`` that completed in some earlier run."""
        with self.engine.connect() as conn:
            return {self._open_text(key) for key in conn.execute(
                select(s.units.c.unit_key).where(s.units.c.source == source)).scalars()}

    def unit_item_count(self, source: str, unit_keys: Iterable[str] | None = None,
                        protect: Sequence[str] = ()) -> int:
        """Active items of ``source`` (of the given units only, when given), not counting
        items under a protected prefix."""
        c = s.items.c
        query = select(c.item_key).where(c.source == source, c.state == ItemState.ACTIVE.value)
        if unit_keys is not None:
            keys = list(unit_keys)
            if not keys:
                return 0
            query = query.where(c.unit_key.in_([self._tag(key) for key in keys]))
        prefixes = tuple(protect)
        with self.engine.connect() as conn:
            if not prefixes:
                return int(conn.execute(select(func.count()).select_from(query.subquery())).scalar() or 0)
            return sum(1 for key in conn.execute(query.execution_options(yield_per=5000)).scalars()
                       if not self._open_text(key).startswith(prefixes))  # item keys are sealed

    def close_unit(self, source: str, unit_key: str, run_id: int, *, protect: Sequence[str] = (),
                   run_stats: Callable[[int], dict[str, Any]] | None = None) -> int:
        """A unit that is gone at the source (a deleted folder or home directory): close its
        items and forget its cursor. Items under a ``protect`` prefix (a blind spot of this
        run) stay, and so does the unit's row, so the next run looks again. ``run_stats``
        builds the run's figures from the number closed; they are saved in the same
        transaction. Item keys are sealed: the prefix check opens them."""
        c = s.items.c
        prefixes = tuple(p for p in protect if p)
        tagged = self._tag(unit_key)
        with self.engine.begin() as conn:
            rows = conn.execute(select(c.id, c.item_key).where(
                c.source == source, c.unit_key == tagged, c.state == ItemState.ACTIVE.value)).all()
            ids = [r.id for r in rows if not (prefixes and self._open_text(r.item_key).startswith(prefixes))]
            for start in range(0, len(ids), 500):
                conn.execute(update(s.items).where(c.id.in_(ids[start:start + 500])).values(
                    state=ItemState.CLEANED.value, closed_at=utcnow(), last_seen_run=run_id))
            if len(ids) == len(rows):
                conn.execute(delete(s.units).where(s.units.c.source == source, s.units.c.unit_key == tagged))
            if run_stats is not None:
                conn.execute(update(s.runs).where(s.runs.c.id == run_id).values(stats=run_stats(len(ids))))
            return len(ids)

    def save_run_stats(self, run_id: int, stats: dict[str, Any]) -> None:
        """The run's figures so far (finished units and source-level events), so a resumed run
        reports the whole run."""
        with self.engine.begin() as conn:
            conn.execute(update(s.runs).where(s.runs.c.id == run_id).values(stats=stats))

    # --- items ----------------------------------------------------------------------------

    def known_items(self, source: str, keys: Sequence[str]) -> dict[str, KnownItem]:
        """Look up what is stored for a batch of item keys of one source (one query per 500).

        The triage of every listed item of every scan comes through here, so the statement is
        built once per store (an expanding ``IN`` parameter) instead of per call, and the opens
        of the tagged columns go straight to the cipher's cache: an unchanged scan's cost is
        this loop (docs/performance.md, "Unchanged second scan")."""
        if not keys:
            return {}
        item_id = self.item_id
        ids = {item_id(source, key): key for key in keys}
        statement = self._known_statement
        open_ = self._cipher.open
        out: dict[str, KnownItem] = {}
        with self.engine.connect() as conn:
            id_list = list(ids)
            for start in range(0, len(id_list), 500):
                for row in conn.execute(statement, {"ids": id_list[start:start + 500]}):
                    out[ids[row[0]]] = KnownItem(
                        id=row[0], change_key=row[1], state=row[2],
                        last_seen_run=row[3], analysed=row[4] is not None,
                        folder=open_(row[5]), unit_key=open_(row[6]) or "",
                        labels=tuple(row[7] or ()), content_hash=row[8],
                        owner=open_(row[9]), link=open_(row[10]),
                        attempts=row[11] or 0, last_error=row[12],
                        analysed_run=row[4], student_data=bool(row[13]),
                        stale=bool(row[14]), sharing_key=row[15])
        return out

    @cached_property
    def _known_statement(self) -> Any:
        """The one SELECT of :meth:`known_items`, columns in the order the loop reads them."""
        from sqlalchemy import bindparam

        cols = s.items.c
        return select(cols.id, cols.change_key, cols.state, cols.last_seen_run, cols.analysed_run,
                      cols.folder, cols.unit_key, cols.labels, cols.content_hash, cols.owner,
                      cols.link, cols.attempts, cols.last_error, cols.student_data, cols.stale,
                      cols.sharing_key).where(cols.id.in_(bindparam("ids", expanding=True)))

    def touch_items(self, run_id: int, refs: Iterable[ItemRef], refresh_change_key: bool = False) -> int:
        """Mark unchanged items as seen in this run, keeping their findings.

        Metadata that can change without the content changing (folder after a move, labels,
        owner mapping, link) is refreshed; an item that had been closed and shows up again is
        reopened. The title is not: see the comment below.
        """
        # Only keys the statement sets: SQLAlchemy adds any other key that names a column to
        # the SET clause, and the date a listing reports is not always the stored one (Maildir).
        tag, seal = self._tag, self._seal
        rows = [dict(b_id=self.item_id(r.source, r.item_key), folder=tag(r.folder),
                     labels=list(r.labels), unit_key=tag(r.unit_key), link=seal(r.link), owner=tag(r.owner),
                     last_seen_run=run_id, state=ItemState.ACTIVE.value, closed_at=None,
                     **({"change_key": r.change_key, "item_date": _utc(r.date), "attempts": 0,
                         "last_error": None, "stale": False} if refresh_change_key else {}))
                for r in refs]
        if not rows:
            return 0
        from sqlalchemy import bindparam

        # No title: it is written when the item is analysed, with detected values masked
        # (only the worker knows them); a listing's raw subject must not overwrite it.
        values: dict[str, Any] = dict(
            folder=bindparam("folder"), labels=bindparam("labels"),
            unit_key=bindparam("unit_key"), link=bindparam("link"), owner=bindparam("owner"),
            last_seen_run=bindparam("last_seen_run"), state=bindparam("state"),
            closed_at=bindparam("closed_at"))
        if refresh_change_key:
            # Read again and found the same bytes: a successful attempt.
            values.update(change_key=bindparam("change_key"), item_date=bindparam("item_date"),
                          attempts=bindparam("attempts"), last_error=bindparam("last_error"),
                          stale=bindparam("stale"))
        statement = update(s.items).where(s.items.c.id == bindparam("b_id")).values(**values)
        with self.engine.begin() as conn:
            conn.execute(statement, rows)
        return len(rows)

    def set_exposure(self, updates: Sequence[tuple[ItemRef, Exposure | None]]) -> int:
        """Store the exposure read for items whose content was not analysed again (a sharing
        change the listing announced, or a changed key with the same bytes). The retention
        status is left alone (exposure orders the digest, it does not move a due date)."""
        rows = [dict(b_id=self.item_id(ref.source, ref.item_key), exposure=_exposure_level(exposure),
                     exposure_reasons=list(exposure.reasons) if exposure else None, sharing_key=ref.sharing_key)
                for ref, exposure in updates]
        if not rows:
            return 0
        from sqlalchemy import bindparam

        statement = update(s.items).where(s.items.c.id == bindparam("b_id")).values(
            exposure=bindparam("exposure"), exposure_reasons=bindparam("exposure_reasons"),
            sharing_key=bindparam("sharing_key"))
        with self.engine.begin() as conn:
            conn.execute(statement, rows)
        return len(rows)

    def save_results(self, run_id: int, results: Sequence[AnalysisResult], *, source_kind: str,
                     department: str | None) -> SavedBatch:
        """Store a batch of analysed items of one source kind and department (see
        :meth:`save_result_groups`)."""
        return self.save_result_groups(run_id, [(results, source_kind, department)])

    def save_result_groups(self, run_id: int,
                           groups: Sequence[tuple[Sequence[AnalysisResult], str, str | None]], *,
                           judge: RetentionJudge | None = None) -> SavedBatch:
        """Store analysed items, given as groups of (results, source kind, department): upsert
        item rows, replace findings and errors.

        One transaction for all groups, and one executemany per statement kind (not one
        statement per item, nor one transaction per executor batch): the driver is the single
        writer, so its cost per item bounds the whole cluster, and a commit (an fsync on
        SQLite) is the largest part of that cost.

        An attempt that failed with a retryable error (:data:`~scanner.core.model.RETRYABLE_ERRORS`)
        counts in ``attempts`` and names its code in ``last_error``. If the item has a good
        analysis from an earlier run, that analysis is kept (findings, categories, student
        data, content hash, title) and the item is marked ``stale``: a read failure never wipes
        what we know. The change key of the version that failed is stored, so an item that
        used up its attempts is not fetched night after night while it does not change.

        ``judge``: the retention outcome of each *new* item is written with its row, so the
        retention pass at the end of the run need not read it back and update it (on a first
        scan that pass read and rewrote every item: a third of the driver's instructions).
        Items that existed before keep a NULL status, as without a judge: their owner's mark
        lives in the store, not in the result.
        """
        # One row per item: should an item come twice (listed again in the same write), its
        # last result stands, and its findings are not written twice.
        latest = {self.item_id(result.ref.source, result.ref.item_key): (result, kind, department)
                  for results, kind, department in groups for result in results}
        if not latest:
            return SavedBatch()
        now, bulk = utcnow(), self._bulk
        ids, tagged = list(latest), list(latest.values())
        # The cipher's own methods (the Store's wrappers look the keys up per call: ~15 calls
        # per item, most of them tags of finding parts, which the cipher memoises).
        cipher = self._cipher
        tag, seal = cipher.tag, cipher.seal
        encrypted = tuple((column, tag if mode == "tag" else seal) for column, mode in s.ENCRYPTED["items"].items())
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        keeps: list[dict[str, Any]] = []
        finding_rows: list[tuple[Any, ...]] = []
        finding_memo = _FindingRows(tag)
        error_rows: list[dict[str, Any]] = []
        outcome = SavedBatch()
        inserted: set[str] = set()
        c = s.items.c
        with self.engine.begin() as conn:
            existing = {row.id: row for row in conn.execute(select(
                c.id, c.attempts, c.stale, c.analysed_run, c.error_codes).where(self._among(c.id, ids)))}
            replaced: list[str] = []
            for ident, (result, source_kind, department) in zip(ids, tagged, strict=True):
                failure = next((e.code for e in result.errors if is_retryable(e.code)), None) if result.errors else None
                old = existing.get(ident)
                attempts = 0
                if failure:
                    attempts = (old.attempts or 0) + 1 if old is not None else 1
                    outcome.failed[ident] = attempts
                if failure and old is not None and old.analysed_run is not None and (
                        not (old.attempts or 0) or bool(old.stale)):  # a good analysis before
                    # Keep the last good analysis; refresh where the item is, which version failed
                    # (its change key and listed size, so a retry built from the store asks for
                    # that version), and what failed.
                    outcome.stale.add(ident)
                    ref = result.ref
                    codes = set(old.error_codes or ()) - RETRYABLE_ERRORS | {e.code for e in result.errors}
                    keeps.append(dict(
                        b_id=ident, unit_key=tag(ref.unit_key), owner=tag(ref.owner), department=department,
                        folder=tag(ref.folder), link=seal(ref.link), change_key=ref.change_key, size=ref.size,
                        labels=list(ref.labels),
                        state=ItemState.ACTIVE.value, closed_at=None, last_seen_run=run_id,
                        error_codes=sorted(codes), attempts=attempts, last_error=failure, stale=True,
                        retention_status=None))
                    for error in result.errors:
                        error_rows.append(dict(item_id=ident, run_id=run_id, code=error.code,
                                               part=tag(error.part[:1024]), message=seal(error.message[:2000])))
                    continue
                if old is not None:  # a new item has no findings or errors to replace
                    replaced.append(ident)
                values = _item_values(result, run_id, now, source_kind, department, attempts, failure)
                fresh = old is None and ident not in inserted
                if fresh and judge is not None:  # judged from the clear values, before sealing
                    values.update(zip(RETENTION_COLUMNS, judge(values, result) or _NOT_JUDGED, strict=True))
                for column, code in encrypted:
                    values[column] = code(values[column])
                # The keys of the row itself last (all rows of one statement share the key order).
                if not fresh:
                    values["b_id"] = ident
                    updates.append(values)
                else:
                    values["id"], values["first_seen_run"] = ident, run_id
                    inserts.append(values)
                    inserted.add(ident)
                if result.verdict is not None and result.verdict.findings:
                    finding_rows.extend(finding_memo.rows(ident, result.verdict.findings))
                for error in result.errors:
                    error_rows.append(dict(item_id=ident, run_id=run_id, code=error.code,
                                           part=tag(error.part[:1024]), message=seal(error.message[:2000])))
            if replaced:
                conn.execute(delete(s.findings).where(self._among(s.findings.c.item_id, replaced)))
                conn.execute(delete(s.item_errors).where(self._among(s.item_errors.c.item_id, replaced)))
            if keeps:
                # The errors of earlier failed attempts make way for this one's; the errors of the
                # kept analysis (an encrypted attachment, a truncated text) stay with it.
                conn.execute(delete(s.item_errors).where(
                    s.item_errors.c.item_id.in_([k["b_id"] for k in keeps]),
                    s.item_errors.c.code.in_(sorted(RETRYABLE_ERRORS))))
                bulk.update(conn, s.items, "id", keeps)
            # Plain rows through statements prepared once (scanner.store.bulk), not SQLAlchemy's
            # per-parameter processing: the same values, a third of the CPU.
            bulk.insert(conn, s.items, inserts)
            bulk.update(conn, s.items, "id", updates)
            bulk.insert_tuples(conn, s.findings, _FINDING_COLUMNS, finding_rows)
            bulk.insert(conn, s.item_errors, error_rows)
        return outcome

    def retry_candidates(self, source: str, unit_key: str, max_attempts: int,
                         exclude: set[str] | None = None) -> list[ItemRef]:
        """Active items of a unit whose last attempt failed with a retryable error and that
        have attempts left, as refs built from what is stored: the pipeline queues them
        whatever the connector's delta says (a delta never lists an item again just because
        our download of it failed)."""
        c = s.items.c
        with self.engine.connect() as conn:
            rows = [StoredItem.from_row(row, self._open) for row in conn.execute(select(s.items).where(
                c.source == source, c.unit_key == self._tag(unit_key), c.state == ItemState.ACTIVE.value,
                c.last_error.is_not(None), c.attempts >= 1, c.attempts < max_attempts))]
        return [replace(item.ref(), stored_hash=item.content_hash if item.stale else None)
                for item in rows if not (exclude and item.id in exclude)]

    def retry_units(self, source: str, max_attempts: int) -> set[str]:
        """Unit keys of ``source`` that hold at least one :meth:`retry_candidates` item, in one
        query: the pipeline asks a unit for its candidates only when it is among these (a
        nightly run has hundreds of units and hardly ever a failed item)."""
        return self.retry_units_by_source(max_attempts, source).get(source, set())

    def retry_units_by_source(self, max_attempts: int, source: str | None = None) -> dict[str, set[str]]:
        """:meth:`retry_units` of every source (or of ``source``) in one query, by source: the
        pipeline asks once per run instead of once per source (each a pass over the source's
        items: ~0.45 ms per source of an unchanged scan on 2,000 items)."""
        c = s.items.c
        query = select(c.source, c.unit_key).distinct().where(
            c.state == ItemState.ACTIVE.value, c.last_error.is_not(None), c.attempts >= 1,
            c.attempts < max_attempts)
        if source is not None:
            query = query.where(c.source == source)
        out: dict[str, set[str]] = {}
        with self.engine.connect() as conn:
            for name, key in conn.execute(query):
                out.setdefault(name, set()).add(self._open_text(key))
        return out

    def given_up(self, max_attempts: int) -> dict[tuple[str, str], int]:
        """Active items that used up their attempts, per (source, last error code): permanent
        errors, shown in the run report and ``status`` until the item changes or is read."""
        c = s.items.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(c.source, c.last_error, func.count()).where(
                c.state == ItemState.ACTIVE.value, c.last_error.is_not(None), c.attempts >= max_attempts)
                .group_by(c.source, c.last_error)).all()
        return {(source, code): int(count) for source, code, count in rows}

    def stale_count(self) -> dict[str, int]:
        """Active items per source whose stored analysis is the last good one (stale)."""
        c = s.items.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(c.source, func.count()).where(
                c.state == ItemState.ACTIVE.value, c.stale.is_(True)).group_by(c.source)).all()
        return {source: int(count) for source, count in rows}

    def close_items(self, source: str, keys: Iterable[str], run_id: int, when: datetime | None = None) -> int:
        """Close items that were removed at the source (delta crawls): deletion evidence.

        Returns how many of ``keys`` this run closed, including those an interrupted earlier
        attempt of the same run already closed (a resumed run replays the delta from the old
        cursor), so a resumed run's figures count the whole run."""
        ids = [self.item_id(source, key) for key in keys]
        if not ids:
            return 0
        c = s.items.c
        with self.engine.begin() as conn:
            conn.execute(update(s.items).where(
                c.id.in_(ids), c.state == ItemState.ACTIVE.value).values(
                state=ItemState.CLEANED.value, closed_at=when or utcnow(), last_seen_run=run_id))
            return int(conn.execute(select(func.count()).select_from(s.items).where(
                c.id.in_(ids), c.state == ItemState.CLEANED.value, c.last_seen_run == run_id)).scalar() or 0)

    def unseen_items(self, source: str, unit_key: str, run_id: int, seen: set[str] | None = None,
                     protect: Sequence[str] = ()) -> tuple[list[str], int]:
        """What closing a fully listed unit would close, and how many active items it holds.

        Unseen: active items neither written in this run (``last_seen_run``) nor in ``seen``
        (the ids the pipeline found unchanged and therefore did not write). Items whose key
        starts with one of ``protect`` (blind spots of the listing) are never among them. The
        total lets the pipeline recognise a suspected outage before anything is closed."""
        prefixes = tuple(protect)
        if "" in prefixes:
            prefixes = ("",)
        gone: list[str] = []
        total = 0
        with self.engine.connect() as conn:
            rows = conn.execute(self._unit_items_statement, {"b_source": source, "b_unit": self._tag(unit_key)})
            for ident, key, last_seen in rows:
                total += 1
                if last_seen == run_id or (seen and ident in seen):
                    continue
                if prefixes and self._open_text(key).startswith(prefixes):  # item keys are sealed
                    continue
                gone.append(ident)
        return gone, total

    @cached_property
    def _unit_items_statement(self) -> Any:
        """The active items of one unit (:meth:`unseen_items`), built once: every fully listed
        unit of every scan asks it."""
        from sqlalchemy import bindparam

        c = s.items.c
        return (select(c.id, c.item_key, c.last_seen_run)
                .where(c.source == bindparam("b_source"), c.unit_key == bindparam("b_unit"),
                       c.state == ItemState.ACTIVE.value)
                .execution_options(yield_per=5000))

    def close_ids(self, ids: Sequence[str], when: datetime | None = None, conn: Any = None) -> int:
        """Close the given items (see :meth:`unseen_items`)."""
        if conn is None:
            with self.engine.begin() as conn:
                return self.close_ids(ids, when, conn)
        c = s.items.c
        for start in range(0, len(ids), 500):
            conn.execute(update(s.items).where(c.id.in_(list(ids[start:start + 500])),
                                               c.state == ItemState.ACTIVE.value).values(
                state=ItemState.CLEANED.value, closed_at=when or utcnow()))
        return len(ids)

    def close_unseen(self, source: str, unit_key: str, run_id: int, seen: set[str] | None = None,
                     when: datetime | None = None, protect: Sequence[str] = ()) -> int:
        """Close active items of a fully listed unit that this run did not see (see
        :meth:`unseen_items`)."""
        gone, _ = self.unseen_items(source, unit_key, run_id, seen, protect)
        return self.close_ids(gone, when)

    def absorb_moves(self, run_id: int) -> dict[str, int]:
        """Recognise moves: an item first seen in this run whose content equals an item of the
        same source that this run closed is the same item in a new place (a file moved to
        another folder, a message filed by a connector without stable ids). The old row is
        removed instead of counting as deletion evidence, and the new one keeps its history
        (first seen, the owner's mark and answers). Returns the number of moves per source: the run's
        "cleaned up" figure counts only real deletions.

        An item the answer service moved at its source (a standing *verwijderen* answer with
        outcome "moved") was closed before this run: found again with the same content (mail in
        Verwijderde items / Trash, which is scanned) it is the same item too, so the teacher's
        answer travels with it. Such a pairing is not counted: this run did not close it."""
        cols = s.items.c
        with self.engine.begin() as conn:
            started = conn.execute(select(s.runs.c.started_at).where(s.runs.c.id == run_id)).scalar()
            if started is None:
                return {}
            a = s.answers.c
            removed = select(a.item_id).where(a.action == "verwijderen", a.outcome == "moved",
                                              a.reversed_at.is_(None))
            gone = and_(cols.state == ItemState.CLEANED.value, cols.content_hash.is_not(None),
                        or_(cols.closed_at >= started, cols.id.in_(removed)))
            # From the closed side: what this run closed (and what answers moved) is few; what
            # it first saw is every item on a first scan, which must not be held in memory.
            hashes = list(conn.execute(select(cols.content_hash).where(gone).distinct()).scalars())
            moves: dict[str, int] = {}
            for start in range(0, len(hashes), 500):
                chunk = hashes[start:start + 500]
                wanted = {(row.source, row.content_hash): row.id for row in conn.execute(
                    select(cols.id, cols.source, cols.content_hash).where(
                        cols.first_seen_run == run_id, cols.state == ItemState.ACTIVE.value,
                        cols.content_hash.in_(chunk)))}
                if not wanted:
                    continue
                closed = conn.execute(select(
                    cols.id, cols.source, cols.content_hash, cols.first_seen_run, cols.owner_mark, cols.tagged,
                    cols.closed_at).where(gone, cols.content_hash.in_(chunk))).all()
                for old in closed:
                    new_id = wanted.pop((old.source, old.content_hash), None)
                    if new_id is None or new_id == old.id:
                        continue
                    # The carried mark is a retention fact: an outcome judged as the new row was
                    # written did not know it (NULL, as a new row was before the pass).
                    conn.execute(update(s.items).where(s.items.c.id == new_id).values(
                        first_seen_run=old.first_seen_run, owner_mark=old.owner_mark, tagged=old.tagged,
                        **dict.fromkeys(RETENTION_COLUMNS)))
                    conn.execute(update(s.answers).where(s.answers.c.item_id == old.id).values(item_id=new_id))
                    conn.execute(update(s.digest_listings).where(
                        s.digest_listings.c.item_id == old.id).values(item_id=new_id))
                    conn.execute(delete(s.findings).where(s.findings.c.item_id == old.id))
                    conn.execute(delete(s.item_errors).where(s.item_errors.c.item_id == old.id))
                    conn.execute(delete(s.items).where(s.items.c.id == old.id))
                    if old.closed_at is not None and old.closed_at >= started:  # closed by this run
                        moves[old.source] = moves.get(old.source, 0) + 1
            return moves

    def mark_tagged(self, ident: str, label: str, new_change_key: str | None) -> None:
        """Record that our own label was put on an item (and its new change key, if the
        source bumped it), so the next crawl neither tags it again nor re-analyses it."""
        with self.engine.begin() as conn:
            row = conn.execute(select(s.items.c.labels).where(s.items.c.id == ident)).first()
            labels = sorted(set(row.labels or ()) | {label}) if row else [label]
            values: dict[str, Any] = {"tagged": True, "labels": labels}
            if new_change_key:
                values["change_key"] = new_change_key
            conn.execute(update(s.items).where(s.items.c.id == ident).values(**values))

    def item(self, ident: str) -> StoredItem | None:
        """One item by id (or by a unique id prefix of at least 6 characters)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(s.items).where(s.items.c.id == ident)).first()
            if row is None and len(ident) >= 6:
                rows = conn.execute(select(s.items).where(s.items.c.id.like(f"{ident}%")).limit(2)).all()
                row = rows[0] if len(rows) == 1 else None
            return StoredItem.from_row(row, self._open) if row else None

    def findings_of(self, ident: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(
                select(s.findings).where(s.findings.c.item_id == ident).order_by(s.findings.c.id)).mappings()]
        for row in rows:
            row["part"], row["location"] = self._open(row["part"]), self._open(row["location"])
        return rows

    def finding_hashes(self, ids: Sequence[str]) -> dict[str, set[tuple[str, str]]]:
        """The (entity, value hash) pairs each item's findings hold, for masking what a digest
        shows (:mod:`scanner.digest_mask`)."""
        c = s.findings.c
        out: dict[str, set[tuple[str, str]]] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                for ident, entity, value_hash in conn.execute(select(c.item_id, c.entity, c.value_hash).where(
                        c.item_id.in_(list(ids[start:start + 500])))):
                    out.setdefault(ident, set()).add((entity, value_hash))
        return out

    def value_hashes(self, item_ids: Sequence[str], entity: str) -> dict[str, set[str]]:
        """The keyed hashes of one entity's findings per item, for the given items (the
        retention pass maps roster hashes to pupils' lifecycles; no value is ever stored)."""
        out: dict[str, set[str]] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(item_ids), 500):
                query = select(s.findings.c.item_id, s.findings.c.value_hash).where(
                    s.findings.c.item_id.in_(list(item_ids[start:start + 500])),
                    s.findings.c.entity == entity)
                for item_id, value_hash in conn.execute(query):
                    out.setdefault(item_id, set()).add(value_hash)
        return out

    def iter_items(self, *, active_only: bool = False, student_data_only: bool = False,
                   owner: str | None = None, unevaluated_only: bool = False,
                   batch: int = 2000) -> Iterator[StoredItem]:
        """Stream item rows in id order (keyset pagination: flat memory on any size)."""
        last = ""
        while True:
            query = select(s.items).where(s.items.c.id > last).order_by(s.items.c.id).limit(batch)
            if active_only:
                query = query.where(s.items.c.state == ItemState.ACTIVE.value)
            if student_data_only:
                query = query.where(s.items.c.student_data.is_(True))
            if owner:
                query = query.where(s.items.c.owner == self._tag(owner))
            if unevaluated_only:
                query = query.where(s.items.c.retention_status.is_(None))
            with self.engine.connect() as conn:
                rows = [StoredItem.from_row(r, self._open) for r in conn.execute(query)]
            if not rows:
                return
            yield from rows
            last = rows[-1].id

    def iter_retention_rows(self, *, unevaluated_only: bool = False, titles: bool = True,
                            skip_judged: int | None = None, batch: int = 2000) -> Iterator[RetentionRow]:
        """Active items as the retention pass reads them (:class:`RetentionRow`), in id order.

        ``titles=False`` leaves the title out (``None``): it is sealed, so opening it is one
        decryption per row, and the policy reads it only when a rule matches on titles (a first
        scan's pass spent ~8 % of its CPU on titles nobody looked at). On SQLite the JSON
        columns are read as text and decoded once per distinct text (they repeat: ``[]``,
        ``["identificatie"]``, ``{"NL_BSN": 1}``), with the dialect's own deserializer, as
        SQLAlchemy's result processor would; on PostgreSQL the driver decodes them.

        ``skip_judged``: a run id; the items that run analysed and whose outcome is stored
        (judged as they were written, :meth:`save_result_groups`) are left out."""
        c = s.items.c
        sqlite = self.engine.dialect.name == "sqlite"
        json_columns: tuple[Any, ...] = (c.labels, c.categories, c.entity_counts)
        if sqlite:
            json_columns = tuple(type_coerce(column, String) for column in json_columns)
        columns = (c.id, c.source, c.source_kind, c.kind, c.folder, c.title if titles else null(), c.item_date,
                   *json_columns, c.student_data, c.owner_mark, c.retention_status,
                   c.due_date, c.rule_id, c.action, c.exempt_reason)
        last = ""
        reveal = self._open
        # SQLite: JSON text decoded here, once per distinct text; PostgreSQL: values decoded
        # by the driver, only made a tuple and a fresh dict
        tuples: Callable[[Any], tuple[Any, ...]] = _as_tuple
        mapping: Callable[[Any], dict[str, Any]] = _as_dict
        if sqlite:
            decode = _JsonTexts(self.engine.dialect)
            tuples, mapping = decode.as_tuple, decode.as_dict
        while True:
            query = select(*columns).where(c.id > last, c.state == ItemState.ACTIVE.value).order_by(
                c.id).limit(batch)
            if unevaluated_only:
                query = query.where(c.retention_status.is_(None))
            if skip_judged is not None:
                query = query.where(or_(c.analysed_run.is_(None), c.analysed_run != skip_judged,
                                        c.retention_status.is_(None)))
            with self.engine.connect() as conn:
                rows = [RetentionRow(
                    r[0], r[1], r[2], r[3], reveal(r[4]), reveal(r[5]), aware(r[6]), tuples(r[7]), r[10],
                    tuples(r[8]), mapping(r[9]), r[11], r[12], r[13], r[14], r[15], r[16])
                    for r in conn.execute(query)]
            if not rows:
                return
            yield from rows
            last = rows[-1].id

    def update_retention(self, updates: Sequence[dict[str, Any]]) -> None:
        """Bulk update retention fields: dicts with b_id, retention_status, due_date, rule_id,
        action, exempt_reason."""
        if not updates:
            return
        columns = ("retention_status", "due_date", "rule_id", "action", "exempt_reason")
        with self.engine.begin() as conn:
            for start in range(0, len(updates), 1000):
                self._bulk.update(conn, s.items, "id", updates[start:start + 1000], columns=columns)

    def forget_judged(self, run_id: int) -> None:
        """Take back the outcome of every item ``run_id`` first saw and analysed: what was
        judged as it was written, when no pass vouches that it would judge the same (other
        rules or another day than the judge had, a failed run, or a resumed one, whose earlier
        attempt judged with rules of its own). All five columns are NULL again, as such an
        item was stored before write-time judging, so the next pass evaluates it in full."""
        c = s.items.c
        with self.engine.begin() as conn:
            conn.execute(update(s.items).where(c.first_seen_run == run_id, c.analysed_run == run_id,
                                               c.rule_id.is_not(None))
                         .values(dict.fromkeys(RETENTION_COLUMNS)))

    def invalidate_retention(self, ids: Iterable[str]) -> None:
        """Mark items whose retention facts changed (moved folder, new labels, reopened): the
        next retention pass evaluates them in full. Persisted, so a resumed run still sees it."""
        ids = list(ids)
        with self.engine.begin() as conn:
            for start in range(0, len(ids), 500):
                conn.execute(update(s.items).where(s.items.c.id.in_(ids[start:start + 500]))
                             .values(retention_status=None))

    def shift_retention(self, today: date, soon_limit: date, fixed_rules: Sequence[str]) -> None:
        """Move every evaluated, dated item to the status its stored due date gives today, in
        one statement: ``verlopen`` after the due date, ``binnenkort`` from ``soon_limit`` on.
        Rules in ``fixed_rules`` (due at once) are left as they are.

        Only rows whose status moves are written (``retention_status`` differs from the one
        the date gives): on most nights that is none, and rewriting every dated row with its
        own value cost an unchanged scan ~4 ms of SQLite work (and as many WAL pages)."""
        from sqlalchemy import case, literal

        c = s.items.c
        status = case((c.due_date < today, literal(RetentionStatus.OVERDUE.value)),
                      (c.due_date <= soon_limit, literal(RetentionStatus.DUE_SOON.value)),
                      else_=literal(RetentionStatus.OK.value))
        query = update(s.items).where(
            c.state == ItemState.ACTIVE.value, c.due_date.is_not(None), c.exempt_reason.is_(None),
            c.retention_status.is_not(None), c.retention_status != status).values(retention_status=status)
        if fixed_rules:
            query = query.where(c.rule_id.not_in(list(fixed_rules)))
        with self.engine.begin() as conn:
            conn.execute(query)

    # --- owners' answers (issue 18) -------------------------------------------------------

    def record_answers(self, answers: Sequence[dict[str, Any]], marks: dict[str, str | None],
                       moved: Sequence[str] = (), when: datetime | None = None) -> None:
        """Store answers (dicts with the columns of ``answers`` but ``id``) and set each item's
        ``owner_mark`` in ``marks`` (None clears it), in one transaction; the items' retention
        is invalidated so the next pass decides with the mark. The answer service is the one
        writer here besides the pipeline; both write small transactions, so neither waits long
        for the other, and the pipeline never writes ``owner_mark`` except to carry it on a
        move. Items in ``moved`` were moved to the recycle place by their source on the
        owner's answer: they are closed (cleaned up) now, so the next listing that misses them
        is no suspected outage (a teacher who empties a whole folder is not a storage failure)."""
        with self.engine.begin() as conn:
            if answers:
                conn.execute(insert(s.answers), [{**a, "origin": self._seal(a.get("origin"))} for a in answers])
            if moved:
                self.close_ids(list(moved), when, conn)
            for ident, mark in marks.items():
                conn.execute(update(s.items).where(s.items.c.id == ident)
                             .values(owner_mark=mark, retention_status=None))

    def spend_link(self, nonce: str) -> bool:
        """Spend a single-use link before it acts: False when it was spent before (a replay).
        The primary key makes this atomic, also for two clicks at the same moment."""
        from sqlalchemy.exc import IntegrityError

        try:
            with self.engine.begin() as conn:
                conn.execute(insert(s.used_links).values(nonce=nonce, used_at=utcnow()))
        except IntegrityError:
            return False
        return True

    def link_used(self, nonce: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(s.used_links.c.nonce).where(s.used_links.c.nonce == nonce)).first() is not None

    def answers_of(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """Every answer given for the items ``ids``, oldest first."""
        out: list[dict[str, Any]] = []
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                out += [dict(r) for r in conn.execute(select(s.answers).where(
                    s.answers.c.item_id.in_(list(ids[start:start + 500]))).order_by(s.answers.c.id)).mappings()]
        for row in out:
            for key in ("answered_at", "reversed_at"):
                if row[key] is not None:
                    row[key] = _utc(row[key])
            row["origin"] = self._open(row.get("origin"))
        return sorted(out, key=lambda r: r["id"])

    def reverse_answers(self, answer_ids: Sequence[int], marks: dict[str, str | None],
                        when: datetime | None = None, reopen: Sequence[str] = ()) -> int:
        """Mark answers as reversed and put the items' ``owner_mark`` back (``marks``), in one
        transaction; returns how many answers were reversed (already reversed ones are not).
        Items in ``reopen`` were put back at their source (an undone move): active again,
        their retention decided anew."""
        when = when or utcnow()
        with self.engine.begin() as conn:
            done = conn.execute(update(s.answers).where(
                s.answers.c.id.in_(list(answer_ids)), s.answers.c.reversed_at.is_(None))
                .values(reversed_at=_utc(when))).rowcount
            if reopen:
                conn.execute(update(s.items).where(s.items.c.id.in_(list(reopen))).values(
                    state=ItemState.ACTIVE.value, closed_at=None, retention_status=None))
            for ident, mark in marks.items():
                conn.execute(update(s.items).where(s.items.c.id == ident)
                             .values(owner_mark=mark, retention_status=None))
        return int(done or 0)

    def meta_get(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(s.meta.c.setting).where(s.meta.c.key == key)).scalar()

    def meta_set(self, key: str, value: str) -> None:
        with self.engine.begin() as conn:
            if conn.execute(select(s.meta.c.key).where(s.meta.c.key == key)).first():
                conn.execute(update(s.meta).where(s.meta.c.key == key).values(setting=value, updated_at=utcnow()))
            else:
                conn.execute(insert(s.meta).values(key=key, setting=value, updated_at=utcnow()))

    def retention_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(s.items.c.retention_status, func.count()).where(
                s.items.c.state == ItemState.ACTIVE.value, s.items.c.student_data.is_(True))
                .group_by(s.items.c.retention_status)).all()
        counts = {status.value: 0 for status in RetentionStatus}
        for status, count in rows:
            if status:
                counts[status] = count
        return counts

    def count_items(self, **filters: Any) -> int:
        query = select(func.count()).select_from(s.items)
        for key, value in filters.items():
            if s.ENCRYPTED["items"].get(key) == "tag":
                value = self._tag(value)
            elif key in s.ENCRYPTED["items"]:
                raise ValueError(f"{key} is sealed: it cannot be counted by value")
            query = query.where(getattr(s.items.c, key) == value)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    # --- errors ---------------------------------------------------------------------------

    def record_source_error(self, run_id: int, source: str, unit_key: str | None, code: str, message: str,
                            *, severity: str = "error", item_prefix: str | None = None) -> None:
        """Record a problem of a source or unit. ``severity`` 'warning' is for what the run
        handled safely (a blind spot whose items were protected, a suspected outage that closed
        nothing): reported, but not a failing run. ``item_prefix`` records a blind spot's place
        so a resumed run still protects it."""
        with self.engine.begin() as conn:
            conn.execute(insert(s.source_errors).values(
                run_id=run_id, source=source, unit_key=self._tag(unit_key), code=code,
                message=self._seal(message[:2000]), at=utcnow(), severity=severity,
                item_prefix=self._seal(item_prefix)))

    def source_errors(self, run_id: int, severity: str | None = None) -> list[dict[str, Any]]:
        query = select(s.source_errors).where(s.source_errors.c.run_id == run_id)
        if severity is not None:
            query = query.where(s.source_errors.c.severity == severity)
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query.order_by(s.source_errors.c.id)).mappings()]
        for row in rows:
            row["unit_key"], row["message"] = self._open(row["unit_key"]), self._open(row["message"])
            row["item_prefix"] = self._open(row["item_prefix"])
        return rows

    def source_error_counts(self, run_id: int) -> dict[tuple[str, str, str], int]:
        """Source errors of a run per (source, code, severity): needs no key."""
        c = s.source_errors.c
        with self.engine.connect() as conn:
            return {(source, code, severity): count for source, code, severity, count in conn.execute(
                select(c.source, c.code, c.severity, func.count()).where(c.run_id == run_id)
                .group_by(c.source, c.code, c.severity))}

    def blind_prefixes(self, run_id: int, source: str) -> set[str]:
        """Item key prefixes that listings of ``source`` could not see in this run (all attempts)."""
        c = s.source_errors.c
        with self.engine.connect() as conn:
            return {self._open_text(prefix) for prefix in conn.execute(select(c.item_prefix).where(
                c.run_id == run_id, c.source == source, c.item_prefix.is_not(None))).scalars()}

    def warned_in_previous_run(self, run_id: int, source: str, unit_key: str | None, code: str) -> bool:
        """Did the scan before ``run_id`` record warning ``code`` for this source and unit? (A
        suspected outage that a second consecutive run sees again is taken as real.)"""
        with self.engine.connect() as conn:
            previous = conn.execute(select(s.runs.c.id).where(
                s.runs.c.kind == "scan", s.runs.c.id < run_id, s.runs.c.finished_at.is_not(None))
                .order_by(s.runs.c.id.desc()).limit(1)).scalar()
            if previous is None:
                return False
            c = s.source_errors.c
            query = select(c.id).where(c.run_id == previous, c.source == source, c.code == code)
            query = query.where(c.unit_key.is_(None) if unit_key is None else c.unit_key == self._tag(unit_key))
            return conn.execute(query.limit(1)).first() is not None

    def item_error_counts(self, run_id: int) -> dict[str, int]:
        with self.engine.connect() as conn:
            # not dict(result): a Result has keys(), so dict() would read it as a mapping
            return {code: count for code, count in conn.execute(  # noqa: C416
                select(s.item_errors.c.code, func.count()).where(s.item_errors.c.run_id == run_id)
                .group_by(s.item_errors.c.code))}

    def consecutive_failing_runs(self, source: str, limit: int = 10) -> int:
        """How many of the latest finished scans in a row recorded an error for ``source``."""
        with self.engine.connect() as conn:
            run_ids = list(conn.execute(select(s.runs.c.id).where(
                s.runs.c.kind == "scan", s.runs.c.finished_at.is_not(None))
                .order_by(s.runs.c.id.desc()).limit(limit)).scalars())
            # Warnings (a blind spot, a suspected outage) are not failures.
            failing = set(conn.execute(select(s.source_errors.c.run_id).where(
                s.source_errors.c.source == source, s.source_errors.c.run_id.in_(run_ids),
                s.source_errors.c.severity == "error")).scalars()) if run_ids else set()
        streak = 0
        for run_id in run_ids:
            if run_id not in failing:
                break
            streak += 1
        return streak

    # --- deliveries (the digest ledger) ---------------------------------------------------

    def already_sent(self, owner: str, period: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(s.deliveries.c.status).where(
                s.deliveries.c.owner == self._tag(owner), s.deliveries.c.period == period)).scalar() == "sent"

    def record(self, owner: str, period: str, status: str, reason: str | None) -> None:
        owner = self._tag(owner) or ""
        with self.engine.begin() as conn:
            row = conn.execute(select(s.deliveries.c.attempts, s.deliveries.c.status).where(
                s.deliveries.c.owner == owner, s.deliveries.c.period == period)).first()
            values = dict(status=status, reason=self._seal((reason or None) and reason[:2000]), updated_at=utcnow())
            if row:
                # "sending" opens an attempt; the "sent" or "failed" that closes it is the same one.
                closes = row.status == "sending" and status in ("sent", "failed")
                conn.execute(update(s.deliveries).where(and_(
                    s.deliveries.c.owner == owner, s.deliveries.c.period == period)).values(
                    attempts=row.attempts + (0 if closes else 1), **values))
            else:
                conn.execute(insert(s.deliveries).values(owner=owner, period=period, attempts=1, **values))

    def record_listed(self, owner: str, period: str, item_ids: Sequence[str],
                      moves: Mapping[str, date] | None = None) -> None:
        """Remember that the digest of ``owner`` for ``period`` names ``item_ids``
        (:class:`reports.ledger.ListingLedger`), and for the items in ``moves`` the date it
        announced they will be moved by the school's policy; again for the same period
        adds no row; its announced dates become this rendering's, the one about to be sent (a
        period is rendered again only while it is not yet delivered)."""
        moves = moves or {}
        if not item_ids:
            return
        tagged = self._tag(owner) or ""
        c = s.digest_listings.c
        wanted = list(dict.fromkeys(item_ids))
        with self.engine.begin() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                known = set(conn.execute(select(c.item_id).where(
                    c.period == period, c.item_id.in_(chunk))).scalars())
                fresh = [dict(item_id=i, period=period, owner=tagged, move_on=moves.get(i))
                         for i in chunk if i not in known]
                if fresh:
                    conn.execute(insert(s.digest_listings), fresh)
                for ident in known:
                    conn.execute(update(s.digest_listings).where(c.period == period, c.item_id == ident)
                                 .values(move_on=moves.get(ident)))

    def announced_moves(self, item_ids: Sequence[str]) -> dict[str, date]:
        """The move date a *delivered* digest announced for each item (the earliest, if several
        did); items no sent digest announced a move for are absent. The only licence the
        nightly enforcement has to move an item (:mod:`scanner.enforcement`)."""
        c = s.digest_listings.c
        return self._earliest_sent(item_ids, c.move_on, c.move_on.is_not(None))

    def answers_by(self, owner_key: str, since: datetime | None = None) -> list[dict[str, Any]]:
        """Standing answers given by ``owner_key`` (e.g. the school's policy), with the owner of
        each item (opened), newest last: what the next digest tells a teacher was moved."""
        a, i = s.answers.c, s.items.c
        query = select(a.item_id, a.answered_at, a.place, a.rule, i.owner).join(
            s.items, i.id == a.item_id).where(a.owner_key == owner_key, a.reversed_at.is_(None))
        if since is not None:
            query = query.where(a.answered_at >= _utc(since))
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query.order_by(a.id)).mappings()]
        for row in rows:
            row["owner"] = self._open(row["owner"])
            row["answered_at"] = _utc(row["answered_at"])
        return rows

    def first_digests(self, item_ids: Sequence[str]) -> dict[str, datetime]:
        """When each item was first named in a digest that was delivered (the delivery's
        "sent" time); items never named by a sent digest are absent."""
        return {ident: as_utc(sent) for ident, sent in
                self._earliest_sent(item_ids, s.deliveries.c.updated_at).items()}

    def _earliest_sent(self, item_ids: Sequence[str], column: Any, *where: Any) -> dict[str, Any]:
        """Per item, the least ``column`` over the digest listings of it whose delivery was
        sent (and that meet ``where``); items without one are absent."""
        c, d = s.digest_listings.c, s.deliveries.c
        out: dict[str, Any] = {}
        ids = list(dict.fromkeys(item_ids))
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                rows = conn.execute(select(c.item_id, func.min(column)).join(
                    s.deliveries, and_(d.owner == c.owner, d.period == c.period)).where(
                    c.item_id.in_(ids[start:start + 500]), d.status == "sent", *where).group_by(c.item_id)).all()
                out.update({row[0]: row[1] for row in rows if row[1] is not None})
        return out

    def deliveries(self, period: str | None = None) -> list[dict[str, Any]]:
        query = select(s.deliveries)
        if period:
            query = query.where(s.deliveries.c.period == period)
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        for row in rows:
            row["owner"], row["reason"] = self._open(row["owner"]), self._open(row["reason"])
        return rows

    # --- IT notifications (scanner.notify) ------------------------------------------------

    def it_notifications(self) -> dict[str, dict[str, Any]]:
        """Every problem IT has been told about, open or solved, by its key."""
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(select(s.it_notifications)).mappings()]
        for row in rows:
            row["first_seen"], row["last_seen"] = as_utc(row["first_seen"]), as_utc(row["last_seen"])
        return {row["key"]: row for row in rows}

    def save_it_notifications(self, problems: Sequence[dict[str, Any]], solved: Iterable[str] = ()) -> None:
        """Write the current problems and close the solved ones, in one transaction.

        Each problem is its ``key`` and the columns to set; a key not stored yet is inserted
        (it then needs every column that is not nullable, ``first_seen`` among them).
        """
        table = s.it_notifications
        closed = list(solved)
        with self.engine.begin() as conn:
            stored = set(conn.execute(select(table.c.key)).scalars())
            for problem in problems:
                values = {k: _utc(v) if isinstance(v, datetime) else v for k, v in problem.items() if k != "key"}
                if problem["key"] in stored:
                    conn.execute(update(table).where(table.c.key == problem["key"]).values(**values))
                else:
                    conn.execute(insert(table).values(key=problem["key"], **values))
            if closed:
                conn.execute(update(table).where(table.c.key.in_(closed)).values(active=False))

    # --- the database itself (schoonschip status) -----------------------------------------

    def table_names(self) -> set[str]:
        """The tables that exist (status reads a database it must not create or migrate)."""
        from sqlalchemy import inspect

        return set(inspect(self.engine).get_table_names())

    def lock_holder(self, name: str) -> dict[str, Any] | None:
        """Who holds the lock ``name``: ``pid``, ``host``, ``acquired_at``, ``heartbeat_at``."""
        with self.engine.connect() as conn:
            row = conn.execute(select(s.locks.c.pid, s.locks.c.host, s.locks.c.acquired_at,
                                      s.locks.c.heartbeat_at).where(s.locks.c.name == name)).mappings().first()
        if row is None:
            return None
        return {**row, "acquired_at": as_utc(row["acquired_at"]), "heartbeat_at": as_utc(row["heartbeat_at"])}

    def planned_jobs(self) -> dict[str, datetime | None]:
        """The scheduler service's jobs and their next run time (UTC; None: paused), read from
        APScheduler's job table without unpickling the jobs."""
        jobs = s.schedule_jobs
        with self.engine.connect() as conn:
            return {job_id: datetime.fromtimestamp(ts, UTC) if ts is not None else None
                    for job_id, ts in conn.execute(select(jobs.c.id, jobs.c.next_run_time))}

    def size_bytes(self) -> int | None:
        """How much disk the database takes (SQLite: the file with its WAL; PostgreSQL: the
        database), None for other databases."""
        if self.dialect == "sqlite":
            path = Path(self.url.removeprefix("sqlite:///"))
            if not path.exists():
                return 0
            return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())
        if self.dialect == "postgresql":
            from sqlalchemy import text

            with self.engine.connect() as conn:
                return int(conn.execute(text("select pg_database_size(current_database())")).scalar() or 0)
        return None


_NOT_JUDGED: RetentionOutcome | tuple[None, ...] = (None,) * len(RETENTION_COLUMNS)

class _FindingRows:
    """The finding tuples of one write (:data:`_FINDING_COLUMNS` order), with the per-value
    work remembered for the batch.

    Why: a first scan writes ~13.5 findings per item, and per finding ``round(score, 4)``
    (CPython's correctly rounded ``float.__round__``, ~3,000 instructions) and two calls of
    the cipher's ``tag`` were ~6 % of the driver's instructions; a batch has a handful of
    distinct scores, parts and locations. The values are the ones the expression in
    ``rows`` gave before, exactly: a score of zero is not remembered (``0.0`` and ``-0.0``
    are equal keys with different rounded values), NaN never hits (it equals nothing)."""

    __slots__ = ("_tag", "_parts", "_locations", "_scores")

    def __init__(self, tag: Callable[[str | None], str | None]) -> None:
        self._tag = tag
        self._parts: dict[str, str | None] = {}
        self._locations: dict[str | None, str | None] = {}
        self._scores: dict[float, float] = {}

    def rows(self, ident: str, findings: Iterable[Any]) -> list[tuple[Any, ...]]:
        tag, parts, locations, scores = self._tag, self._parts, self._locations, self._scores
        out = []
        for finding in findings:
            part = finding.part
            tagged = parts.get(part)
            if tagged is None:
                tagged = parts[part] = tag(part[:1024])
            location = finding.location
            if location in locations:
                where = locations[location]
            else:
                where = locations[location] = tag(location or None)
            score = float(finding.score)
            rounded = scores.get(score) if score else None
            if rounded is None:
                rounded = round(score, 4)
                if score:
                    scores[score] = rounded
            out.append((ident, finding.entity, finding.category, tagged, where, finding.start, finding.end,
                        rounded, finding.masked[:128], finding.value_hash))
        return out


_FINDING_COLUMNS = ("item_id", "entity", "category", "part", "location", "start", "end", "score", "masked",
                    "value_hash")
"""The order of the finding tuples :meth:`Store.save_result_groups` builds."""


def _item_values(result: AnalysisResult, run_id: int, now: datetime, source_kind: str,
                 department: str | None, attempts: int, failure: str | None) -> dict[str, Any]:
    """The item row for an analysed item (everything but its id and first run), clear values.

    A dict display, not ``dict(...)``: the write path builds one per analysed item."""
    ref, verdict = result.ref, result.verdict
    entity_counts: dict[str, int] = {}
    if verdict is not None:
        for finding in verdict.findings:
            entity_counts[finding.entity] = entity_counts.get(finding.entity, 0) + 1
    exposure = result.exposure
    return {
        "source": ref.source, "source_kind": source_kind, "item_key": ref.item_key, "unit_key": ref.unit_key,
        "kind": ref.kind.value, "owner": ref.owner, "department": department, "folder": ref.folder,
        "title": ref.title, "link": ref.link, "item_date": _utc(ref.date), "size": ref.size,
        "change_key": ref.change_key, "content_hash": result.content_hash,
        "labels": list(ref.labels), "state": _ACTIVE, "closed_at": None, "last_seen_run": run_id,
        "analysed_run": run_id, "analysed_at": now, "student_data": bool(verdict and verdict.student_data),
        "categories": sorted(verdict.categories) if verdict else [], "entity_counts": entity_counts,
        "reasons": list(verdict.reasons) if verdict else [],
        "error_codes": sorted({e.code for e in result.errors}) if result.errors else [],
        "retention_status": None,  # new facts: the next retention pass evaluates the item in full
        "exposure": _exposure_level(exposure),
        "exposure_reasons": list(exposure.reasons) if exposure else None,
        "sharing_key": ref.sharing_key,
        "attempts": attempts, "last_error": failure, "stale": False,
    }


_ACTIVE = ItemState.ACTIVE.value


def _as_tuple(value: Any) -> tuple[Any, ...]:
    """A JSON list column as the driver decoded it, as a tuple (NULL and ``null``: empty)."""
    return tuple(value or ())


def _as_dict(value: Any) -> dict[str, Any]:
    """A JSON object column as the driver decoded it, as a new dict (NULL and ``null``: empty)."""
    return dict(value or {})


class _JsonTexts:
    """JSON text of a column read back as the retention pass wants it, decoded once per
    distinct text by the dialect's deserializer (what SQLAlchemy's JSON result processor
    calls). SQL NULL and JSON ``null`` both read as empty, as ``tuple(value or ())`` did."""

    __slots__ = ("_loads", "_tuples", "_mappings")

    def __init__(self, dialect: Any) -> None:
        import json

        self._loads: Callable[[str], Any] = getattr(dialect, "_json_deserializer", None) or json.loads
        self._tuples: dict[str, tuple[Any, ...]] = {}
        self._mappings: dict[str, dict[str, Any]] = {}

    def as_tuple(self, text: str | None) -> tuple[Any, ...]:
        if text is None:
            return ()
        got = self._tuples.get(text)
        if got is None:
            got = remember(self._tuples, text, tuple(self._loads(text) or ()), _JSON_TEXTS)
        return got

    def as_dict(self, text: str | None) -> dict[str, Any]:
        """A new dict per row (rows must not share a mutable value)."""
        if text is None:
            return {}
        got = self._mappings.get(text)
        if got is None:
            got = remember(self._mappings, text, dict(self._loads(text) or {}), _JSON_TEXTS)
        return dict(got)


_JSON_TEXTS = 4096
"""Distinct JSON texts remembered per kind (cleared when full)."""


def _exposure_level(exposure: Exposure | None) -> str | None:
    return exposure.level.value if exposure is not None else None


def _private_sqlite_file(path: Path) -> None:
    """Create a new SQLite database file as 0600 in a 0700 folder, whatever the umask (SQLite
    itself creates it 0644 minus the umask, and gives its -wal/-shm files the same mode)."""
    from scanner.core.privacy import private_directory

    private_directory(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.fchmod(fd, 0o600)
    os.close(fd)


@dataclass(frozen=True, slots=True)
class _SharedEngine:
    engine: Engine
    bulk: BulkWriter
    file: tuple[int, int] | None
    """(device, inode) of the SQLite file the engine was made for."""


_ENGINES: dict[tuple[int, str], _SharedEngine] = {}
_MAX_ENGINES = 8
"""Engines kept per process (a service opens a few databases; tests open many, each once)."""


def _file_identity(url: str) -> tuple[int, int] | None:
    if not url.startswith("sqlite:///"):
        return None
    try:
        info = os.stat(url.removeprefix("sqlite:///"))
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _shared_engine(url: str) -> _SharedEngine:
    """One engine (and one bulk writer) per database URL per process, for every
    :class:`Store` opened on it.

    Why: SQLAlchemy caches compiled SQL per engine (its cache is keyed by the engine's dialect
    instance), so a store with a fresh engine compiles every statement again: ~20 ms of an
    unchanged scan, which a long-running service (``serve``) paid on every run and a run pays
    per store it opens. An engine is thread-safe and its pool is per process, so the key
    holds the process id (a forked child makes its own). Not shared: ``:memory:`` (each such
    engine is its own database), and a SQLite file that is no longer the one the engine was
    made for (deleted and created again: its pooled connections would still read the old
    inode). :meth:`Store.close` disposes the pool only; the engine and its cache stay."""
    memory = url == "sqlite:///:memory:"
    key = (os.getpid(), url)
    identity = _file_identity(url)
    found = None if memory else _ENGINES.get(key)
    if found is not None and found.file == identity:
        return found
    if found is not None:
        found.engine.dispose()
    # A pooled connection to a database server can die (a restart, an idle timeout): pinged on
    # checkout. One to a SQLite file cannot, and the ping was a statement per checkout (a first
    # scan checks out a connection ~50 times per 1,000 items).
    engine = create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite"))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        bind_none_cheaply()
    made = _SharedEngine(engine, BulkWriter(engine.dialect), identity)
    if not memory:
        _ENGINES.pop(key, None)
        while len(_ENGINES) >= _MAX_ENGINES:
            _ENGINES.pop(next(iter(_ENGINES)))  # oldest first; its stores keep their engine
        _ENGINES[key] = made
    return made


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


