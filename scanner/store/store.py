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

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, create_engine, delete, event, func, insert, select, update
from sqlalchemy.engine import Engine

from scanner.core.dates import as_utc
from scanner.core.model import AnalysisResult, ItemRef, ItemState, RetentionStatus
from scanner.store import schema as s
from scanner.store.crypt import FieldCipher, StoreKeyError
from scanner.store.keys import StoreKeys, default_files, load_keys
from scanner.store.rows import StoredItem


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
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url, future=True, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._keys: StoreKeys | None = keys
        self._key_problem: str | None = None
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
        and without the installation's secret nobody can compute it for a guessed path."""
        return self.keys_in_use().item_id(source, item_key)

    def _tag(self, value: str | None) -> str | None:
        return self._cipher.tag(value)

    def _seal(self, value: str | None) -> str | None:
        return self._cipher.seal(value)

    def _open(self, value: str | None) -> str | None:
        return self._cipher.open(value)

    def _open_text(self, value: str) -> str:
        """Open a value of a NOT NULL column."""
        return self._cipher.open(value) or ""

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def create_schema(self) -> None:
        """Bring the schema to the newest version (Alembic when available, else create_all)."""
        from scanner.store.migrate import upgrade

        upgrade(self.engine, self.keys_in_use())

    def close(self) -> None:
        self.engine.dispose()

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

    def done_units(self, run_id: int, source: str) -> set[str]:
        with self.engine.connect() as conn:
            return {self._open_text(key) for key in conn.execute(select(s.run_units.c.unit_key).where(
                s.run_units.c.run_id == run_id, s.run_units.c.source == source,
                s.run_units.c.status == "done")).scalars()}

    def complete_unit(self, run_id: int, source: str, unit_key: str, label: str, owner: str | None,
                      cursor: str | None, stats: dict[str, int]) -> None:
        """Save a unit's new cursor and mark it done for this run, in one transaction."""
        now = utcnow()
        tagged = self._tag(unit_key)
        with self.engine.begin() as conn:
            exists = conn.execute(select(s.units.c.source).where(
                s.units.c.source == source, s.units.c.unit_key == tagged)).first()
            values = dict(label=self._seal(label), owner=self._tag(owner), cursor=self._seal(cursor),
                          last_completed_run=run_id, updated_at=now)
            if exists:
                conn.execute(update(s.units).where(
                    s.units.c.source == source, s.units.c.unit_key == tagged).values(**values))
            else:
                conn.execute(insert(s.units).values(source=source, unit_key=tagged, **values))
            conn.execute(delete(s.run_units).where(
                s.run_units.c.run_id == run_id, s.run_units.c.source == source,
                s.run_units.c.unit_key == tagged))
            conn.execute(insert(s.run_units).values(run_id=run_id, source=source, unit_key=tagged,
                                                    status="done", stats=stats, finished_at=now))

    def unit_keys(self, source: str) -> set[str]:
        """Units of ``source`` that completed in some earlier run."""
        with self.engine.connect() as conn:
            return {self._open_text(key) for key in conn.execute(
                select(s.units.c.unit_key).where(s.units.c.source == source)).scalars()}

    def close_unit(self, source: str, unit_key: str, run_id: int) -> int:
        """A unit that is gone at the source (a deleted folder or home directory): close its
        items and forget its cursor."""
        tagged = self._tag(unit_key)
        with self.engine.begin() as conn:
            result = conn.execute(update(s.items).where(
                s.items.c.source == source, s.items.c.unit_key == tagged,
                s.items.c.state == ItemState.ACTIVE.value).values(
                state=ItemState.CLEANED.value, closed_at=utcnow(), last_seen_run=run_id))
            conn.execute(delete(s.units).where(s.units.c.source == source, s.units.c.unit_key == tagged))
            return result.rowcount or 0

    # --- items ----------------------------------------------------------------------------

    def known_items(self, source: str, keys: Sequence[str]) -> dict[str, KnownItem]:
        """Look up what is stored for a batch of item keys of one source (one query)."""
        if not keys:
            return {}
        ids = {self.item_id(source, key): key for key in keys}
        cols = s.items.c
        out: dict[str, KnownItem] = {}
        with self.engine.connect() as conn:
            id_list = list(ids)
            for start in range(0, len(id_list), 500):
                chunk = id_list[start:start + 500]
                for row in conn.execute(select(
                        cols.id, cols.change_key, cols.state, cols.last_seen_run, cols.analysed_run,
                        cols.folder, cols.unit_key, cols.labels, cols.content_hash, cols.owner,
                        cols.link).where(cols.id.in_(chunk))):
                    out[ids[row.id]] = KnownItem(
                        id=row.id, change_key=row.change_key, state=row.state,
                        last_seen_run=row.last_seen_run, analysed=row.analysed_run is not None,
                        folder=self._open(row.folder), unit_key=self._open(row.unit_key) or "",
                        labels=tuple(row.labels or ()), content_hash=row.content_hash,
                        owner=self._open(row.owner), link=self._open(row.link))
        return out

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
                     **({"change_key": r.change_key, "item_date": _utc(r.date)} if refresh_change_key else {}))
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
            values.update(change_key=bindparam("change_key"), item_date=bindparam("item_date"))
        statement = update(s.items).where(s.items.c.id == bindparam("b_id")).values(**values)
        with self.engine.begin() as conn:
            conn.execute(statement, rows)
        return len(rows)

    def save_results(self, run_id: int, results: Sequence[AnalysisResult], *, source_kind: str,
                     department: str | None) -> None:
        """Store a batch of analysed items: upsert item rows, replace findings and errors.

        One transaction, and one executemany per statement kind (not one statement per item):
        the driver is the single writer, so its cost per item bounds the whole cluster.
        """
        if not results:
            return
        from sqlalchemy import bindparam

        now = utcnow()
        ids = [self.item_id(r.ref.source, r.ref.item_key) for r in results]
        tag, seal = self._tag, self._seal
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        finding_rows: list[dict[str, Any]] = []
        error_rows: list[dict[str, Any]] = []
        with self.engine.begin() as conn:
            existing = set(conn.execute(select(s.items.c.id).where(s.items.c.id.in_(ids))).scalars())
            conn.execute(delete(s.findings).where(s.findings.c.item_id.in_(ids)))
            conn.execute(delete(s.item_errors).where(s.item_errors.c.item_id.in_(ids)))
            for ident, result in zip(ids, results, strict=True):
                values = _item_values(result, run_id, now, source_kind, department)
                for column, mode in s.ENCRYPTED["items"].items():
                    values[column] = tag(values[column]) if mode == "tag" else seal(values[column])
                if ident in existing:
                    updates.append({"b_id": ident, **values})
                else:
                    inserts.append({"id": ident, "first_seen_run": run_id, **values})
                    existing.add(ident)
                for finding in (result.verdict.findings if result.verdict else []):
                    finding_rows.append(dict(
                        item_id=ident, entity=finding.entity, category=finding.category,
                        part=tag(finding.part[:1024]), location=tag(finding.location or None),
                        start=finding.start, end=finding.end, score=round(float(finding.score), 4),
                        masked=finding.masked[:128], value_hash=finding.value_hash))
                for error in result.errors:
                    error_rows.append(dict(item_id=ident, run_id=run_id, code=error.code,
                                           part=tag(error.part[:1024]), message=seal(error.message[:2000])))
            if inserts:
                conn.execute(insert(s.items), inserts)
            if updates:
                columns = [key for key in updates[0] if key != "b_id"]
                conn.execute(update(s.items).where(s.items.c.id == bindparam("b_id"))
                             .values({key: bindparam(key) for key in columns}), updates)
            if finding_rows:
                conn.execute(insert(s.findings), finding_rows)
            if error_rows:
                conn.execute(insert(s.item_errors), error_rows)

    def close_items(self, source: str, keys: Iterable[str], run_id: int, when: datetime | None = None) -> int:
        """Close items that were removed at the source (delta crawls): deletion evidence."""
        ids = [self.item_id(source, key) for key in keys]
        if not ids:
            return 0
        with self.engine.begin() as conn:
            result = conn.execute(update(s.items).where(
                s.items.c.id.in_(ids), s.items.c.state == ItemState.ACTIVE.value).values(
                state=ItemState.CLEANED.value, closed_at=when or utcnow(), last_seen_run=run_id))
            return result.rowcount or 0

    def close_unseen(self, source: str, unit_key: str, run_id: int, seen: set[str] | None = None,
                     when: datetime | None = None) -> int:
        """Close active items of a fully listed unit that this run did not see: neither written
        in this run (``last_seen_run``) nor in ``seen``, the ids the pipeline found unchanged
        and therefore did not write at all."""
        c = s.items.c
        tagged = self._tag(unit_key)
        with self.engine.begin() as conn:
            candidates = conn.execute(select(c.id).where(
                c.source == source, c.unit_key == tagged, c.state == ItemState.ACTIVE.value,
                c.last_seen_run != run_id).execution_options(yield_per=5000)).scalars()
            gone = [ident for ident in candidates if not seen or ident not in seen]
            for start in range(0, len(gone), 500):
                conn.execute(update(s.items).where(c.id.in_(gone[start:start + 500])).values(
                    state=ItemState.CLEANED.value, closed_at=when or utcnow()))
            return len(gone)

    def absorb_moves(self, run_id: int) -> int:
        """Recognise moves: an item first seen in this run whose content equals an item of the
        same source that this run closed is the same item in a new place (a file moved to
        another folder, a message filed by a connector without stable ids). The old row is
        removed instead of counting as deletion evidence, and the new one keeps its history
        (first seen, the owner's mark). Returns the number of moves."""
        cols = s.items.c
        with self.engine.begin() as conn:
            started = conn.execute(select(s.runs.c.started_at).where(s.runs.c.id == run_id)).scalar()
            if started is None:
                return 0
            new = conn.execute(select(cols.id, cols.source, cols.content_hash).where(
                cols.first_seen_run == run_id, cols.state == ItemState.ACTIVE.value,
                cols.content_hash.is_not(None))).all()
            if not new:
                return 0
            wanted = {(row.source, row.content_hash): row.id for row in new}
            moves = 0
            hashes = list({row.content_hash for row in new})
            for start in range(0, len(hashes), 500):
                closed = conn.execute(select(
                    cols.id, cols.source, cols.content_hash, cols.first_seen_run, cols.owner_mark, cols.tagged)
                    .where(cols.content_hash.in_(hashes[start:start + 500]),
                           cols.state == ItemState.CLEANED.value, cols.closed_at >= started)).all()
                for old in closed:
                    new_id = wanted.pop((old.source, old.content_hash), None)
                    if new_id is None or new_id == old.id:
                        continue
                    conn.execute(update(s.items).where(s.items.c.id == new_id).values(
                        first_seen_run=old.first_seen_run, owner_mark=old.owner_mark, tagged=old.tagged))
                    conn.execute(delete(s.findings).where(s.findings.c.item_id == old.id))
                    conn.execute(delete(s.item_errors).where(s.item_errors.c.item_id == old.id))
                    conn.execute(delete(s.items).where(s.items.c.id == old.id))
                    moves += 1
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

    def update_retention(self, updates: Sequence[dict[str, Any]]) -> None:
        """Bulk update retention fields: dicts with b_id, retention_status, due_date, rule_id,
        action, exempt_reason."""
        if not updates:
            return
        from sqlalchemy import bindparam

        statement = update(s.items).where(s.items.c.id == bindparam("b_id")).values(
            retention_status=bindparam("retention_status"), due_date=bindparam("due_date"),
            rule_id=bindparam("rule_id"), action=bindparam("action"),
            exempt_reason=bindparam("exempt_reason"))
        with self.engine.begin() as conn:
            for start in range(0, len(updates), 1000):
                conn.execute(statement, list(updates[start:start + 1000]))

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
        Rules in ``fixed_rules`` (due at once) are left as they are."""
        from sqlalchemy import case, literal

        c = s.items.c
        status = case((c.due_date < today, literal(RetentionStatus.OVERDUE.value)),
                      (c.due_date <= soon_limit, literal(RetentionStatus.DUE_SOON.value)),
                      else_=literal(RetentionStatus.OK.value))
        query = update(s.items).where(
            c.state == ItemState.ACTIVE.value, c.due_date.is_not(None), c.exempt_reason.is_(None),
            c.retention_status.is_not(None)).values(retention_status=status)
        if fixed_rules:
            query = query.where(c.rule_id.not_in(list(fixed_rules)))
        with self.engine.begin() as conn:
            conn.execute(query)

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

    def record_source_error(self, run_id: int, source: str, unit_key: str | None, code: str, message: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(s.source_errors).values(
                run_id=run_id, source=source, unit_key=self._tag(unit_key), code=code,
                message=self._seal(message[:2000]), at=utcnow()))

    def source_errors(self, run_id: int) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(select(s.source_errors).where(
                s.source_errors.c.run_id == run_id).order_by(s.source_errors.c.id)).mappings()]
        for row in rows:
            row["unit_key"], row["message"] = self._open(row["unit_key"]), self._open(row["message"])
        return rows

    def source_error_counts(self, run_id: int) -> dict[tuple[str, str], int]:
        """Source errors of a run per (source, code): needs no key."""
        c = s.source_errors.c
        with self.engine.connect() as conn:
            return {(source, code): count for source, code, count in conn.execute(
                select(c.source, c.code, func.count()).where(c.run_id == run_id).group_by(c.source, c.code))}

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
            failing = set(conn.execute(select(s.source_errors.c.run_id).where(
                s.source_errors.c.source == source, s.source_errors.c.run_id.in_(run_ids))).scalars()
            ) if run_ids else set()
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
            row = conn.execute(select(s.deliveries.c.attempts).where(
                s.deliveries.c.owner == owner, s.deliveries.c.period == period)).first()
            values = dict(status=status, reason=self._seal((reason or None) and reason[:2000]), updated_at=utcnow())
            if row:
                conn.execute(update(s.deliveries).where(and_(
                    s.deliveries.c.owner == owner, s.deliveries.c.period == period)).values(
                    attempts=row.attempts + 1, **values))
            else:
                conn.execute(insert(s.deliveries).values(owner=owner, period=period, attempts=1, **values))

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


def _item_values(result: AnalysisResult, run_id: int, now: datetime, source_kind: str,
                 department: str | None) -> dict[str, Any]:
    """The item row for an analysed item (everything but its id and first run)."""
    ref, verdict = result.ref, result.verdict
    # A transient failure leaves no change key, so the next run tries again.
    fetch_failed = any(e.code in TRANSIENT_ERRORS for e in result.errors)
    entity_counts: dict[str, int] = {}
    for finding in (verdict.findings if verdict else []):
        entity_counts[finding.entity] = entity_counts.get(finding.entity, 0) + 1
    return dict(
        source=ref.source, source_kind=source_kind, item_key=ref.item_key, unit_key=ref.unit_key,
        kind=ref.kind.value, owner=ref.owner, department=department, folder=ref.folder, title=ref.title,
        link=ref.link, item_date=_utc(ref.date), size=ref.size,
        change_key=None if fetch_failed else ref.change_key, content_hash=result.content_hash,
        labels=list(ref.labels), state=ItemState.ACTIVE.value, closed_at=None, last_seen_run=run_id,
        analysed_run=run_id, analysed_at=now, student_data=bool(verdict and verdict.student_data),
        categories=sorted(verdict.categories) if verdict else [], entity_counts=entity_counts,
        reasons=list(verdict.reasons) if verdict else [], error_codes=sorted({e.code for e in result.errors}),
        retention_status=None,  # new facts: the next retention pass evaluates the item in full
    )


TRANSIENT_ERRORS = frozenset({"fetch_failed", "timeout", "throttled", "unreachable", "worker_lost",
                              "analysis_failed"})


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


