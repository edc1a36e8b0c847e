"""The database schema: what schoonschip remembers between runs.

What is stored, on purpose: item metadata (where, whose, when, how big, change key), the
subject or file name (for the owner's own digest only), masked samples and keyed hashes of
findings, retention status, run and error bookkeeping. What is never stored: bodies, file
content, extracted text, detected values. What is stored only encrypted (:data:`ENCRYPTED`,
:mod:`scanner.store.crypt`): every name, path, key, link and owner, so a copy of the database
file alone reveals no person.

SQLAlchemy Core (not the ORM): the pipeline writes in bulk and reads in column projections,
and Core keeps those statements explicit and fast on both SQLite and PostgreSQL.

Every table in the database is named here. The tables of :data:`metadata` are created by the
Alembic migrations; the one table of :data:`external` (APScheduler's job store) is created and
written by APScheduler itself, and the migrations leave it alone
(:func:`scanner.store.migrate.include_object`).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.types import TypeEngine

metadata = MetaData()


def sealed(length: int) -> TypeEngine[str]:
    """The type of an encrypted text column: TEXT (a ciphertext is longer than the clear
    value, by about a third plus 20-40 characters). SQLite keeps the VARCHAR(n) the table was
    created with: it enforces no length, and rebuilding ``items`` on SQLite to change a
    declaration would cascade deletes into ``findings``."""
    return Text().with_variant(String(length), "sqlite")


runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # scan | digest | report
    Column("status", String(16), nullable=False),  # running | completed | failed | interrupted
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("pid", Integer),
    Column("host", String(255)),
    Column("detection_mode", String(255)),
    Column("detection_notice", Text),
    Column("stats", JSON),
    Column("error", Text),
)

units = Table(
    "units", metadata,
    Column("source", String(255), primary_key=True),
    Column("unit_key", sealed(1024), primary_key=True),
    Column("label", sealed(1024)),
    Column("owner", sealed(320)),
    Column("cursor", Text),
    Column("last_completed_run", Integer),
    Column("updated_at", DateTime(timezone=True)),
)

run_units = Table(
    "run_units", metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("source", String(255), primary_key=True),
    Column("unit_key", sealed(1024), primary_key=True),
    Column("status", String(16), nullable=False),  # done | failed
    Column("stats", JSON),
    Column("finished_at", DateTime(timezone=True)),
)

items = Table(
    "items", metadata,
    Column("id", String(32), primary_key=True),
    Column("source", String(255), nullable=False),
    Column("source_kind", String(32), nullable=False),
    Column("item_key", sealed(2048), nullable=False),
    Column("unit_key", sealed(1024), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("owner", sealed(320), nullable=False),
    Column("department", String(255)),
    Column("folder", sealed(2048)),
    Column("title", sealed(1024)),
    Column("link", Text),
    Column("item_date", DateTime(timezone=True), nullable=False),
    Column("size", Integer),
    Column("change_key", String(512)),
    Column("content_hash", String(64)),
    Column("labels", JSON),
    Column("state", String(16), nullable=False),  # actief | opgeruimd
    Column("closed_at", DateTime(timezone=True)),
    Column("first_seen_run", Integer, nullable=False),
    Column("last_seen_run", Integer, nullable=False),
    Column("analysed_run", Integer),
    Column("analysed_at", DateTime(timezone=True)),
    Column("student_data", Boolean),
    Column("categories", JSON),
    Column("entity_counts", JSON),
    Column("reasons", JSON),
    Column("error_codes", JSON),
    Column("retention_status", String(16)),
    Column("due_date", Date),
    Column("rule_id", String(128)),
    Column("action", String(64)),
    Column("exempt_reason", String(64)),
    Column("owner_mark", String(32)),
    Column("tagged", Boolean, default=False),
    Column("attempts", Integer, nullable=False, default=0, server_default="0"),
    # consecutive failed attempts to read or analyse the item (retryable errors only)
    Column("last_error", String(64)),  # retryable code of the last failed attempt; NULL after success
    Column("stale", Boolean, nullable=False, default=False, server_default=false()),
    # the stored analysis is the last good one: a newer version could not be read yet
    Column("exposure", String(16)),  # beperkt | breed_gedeeld | onbekend; NULL: no sharing to read (mail)
    Column("exposure_reasons", JSON),  # reason codes (scanner.core.model.EXPOSURE_REASONS), never a name
    Column("sharing_key", String(64)),  # a hash of what the listing said about sharing (Graph eTag, shared facet)
    # No unique constraint on (source, item_key): the primary key is a hash of exactly that,
    # and a 2 KB key would not fit a PostgreSQL btree entry.
)
Index("ix_items_source_unit", items.c.source, items.c.unit_key)
Index("ix_items_owner_status", items.c.owner, items.c.retention_status)
Index("ix_items_content_hash", items.c.content_hash)

findings = Table(
    "findings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(32), ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("entity", String(64), nullable=False),
    Column("category", String(32)),
    Column("part", sealed(1024), nullable=False),
    Column("location", sealed(255)),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("masked", String(128), nullable=False),
    Column("value_hash", String(64), nullable=False),
)
Index("ix_findings_item", findings.c.item_id)
# no index on value_hash: no query looks findings up by it (migration 0012)

item_errors = Table(
    "item_errors", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(32), ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("run_id", Integer, nullable=False),
    Column("code", String(64), nullable=False),
    Column("part", sealed(1024)),
    Column("message", Text, nullable=False),
)
Index("ix_item_errors_item", item_errors.c.item_id)

source_errors = Table(
    "source_errors", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, nullable=False),
    Column("source", String(255), nullable=False),
    Column("unit_key", sealed(1024)),
    Column("code", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("severity", String(16), nullable=False, default="error", server_default="error"),
    # error: something failed (counts for failing streaks and IT mail); warning: a blind spot or a
    # suspected outage that protected stored items (reported, not a failure)
    Column("item_prefix", sealed(2048)),  # a blind spot: item keys below it were not closed
)
Index("ix_source_errors_run", source_errors.c.run_id)

deliveries = Table(
    "deliveries", metadata,
    Column("owner", sealed(320), primary_key=True),
    Column("period", String(32), primary_key=True),
    Column("status", String(16), nullable=False),  # sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("reason", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

digest_listings = Table(
    "digest_listings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # walked by key rotation
    Column("item_id", String(32), nullable=False),  # no foreign key: follows the item on moves
    Column("period", String(32), nullable=False),
    Column("owner", sealed(320), nullable=False),  # joins deliveries.owner (tagged the same way)
    Column("move_on", Date),  # enforcement: the move date this digest announced (0011), else NULL
    UniqueConstraint("item_id", "period", name="uq_digest_listings_item_period"),
)
"""Which items a teacher's digest for a period named (shown, or covered by a folder link).
Joined with ``deliveries`` (status "sent") it is the date a teacher was first told of an item:
the clock of "answered within 3 weeks" for the FG and of optional enforcement (issue 18)."""
Index("ix_digest_listings_item", digest_listings.c.item_id)

locks = Table(
    "locks", metadata,
    Column("name", String(64), primary_key=True),
    Column("pid", Integer, nullable=False),
    Column("host", String(255), nullable=False),
    Column("token", String(64), nullable=False),
    Column("acquired_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
)

meta = Table(
    "meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("setting", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""Small facts about the store itself, e.g. the fingerprint of the retention rules the stored
statuses were last fully evaluated with."""

it_notifications = Table(
    "it_notifications", metadata,
    Column("key", String(300), primary_key=True),  # run_failed | source:<name> | job:<kind>
    Column("scope", String(32), nullable=False),  # scan | job:<kind>
    Column("active", Boolean, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("last_sent_day", String(10)),  # ISO date in the school's time zone
    Column("summary", String(500)),  # the content-free line shown in the mail
)
"""Which problems IT was told about (:mod:`scanner.notify`), so a mail goes out at most once a
day per problem and a solved problem is reported once."""

answers = Table(
    "answers", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(32), nullable=False),  # no foreign key: follows the item on moves
    Column("owner_key", String(32), nullable=False),
    # who answered: the keyed hash (ValueHasher "OWNER", as the FG frame's owner_key) of the owner
    # the digest went to, so a copied database does not name the teacher behind an answer
    Column("action", String(32), nullable=False),  # verwijderen | bewaren | geen_leerlinggegevens
    Column("reason", String(32)),  # bewaren only: a key of scanner.answers.model.HOLD_REASONS
    Column("answered_at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(16), nullable=False),  # recorded | moved | failed
    Column("error_code", String(64)),  # failed: the connector's code (never a message)
    Column("place", String(255)),  # moved: where the source put it ("Verwijderde items")
    Column("reversed_at", DateTime(timezone=True)),
    Column("rule", String(64)),  # a move by the school's policy (owner_key "school_policy"): the retention rule
    Column("origin", Text),  # moved: the item's unit (mailbox folder) before the move, sealed; for undo
)
"""The owners' answers from the digest (issue 18): which action, when, with what outcome;
never a value. ``items.owner_mark`` is what the retention policy reads; this table is the
history behind it (who, when, reversible, the FG figures)."""
Index("ix_answers_item", answers.c.item_id)

used_links = Table(
    "used_links", metadata,
    Column("nonce", String(32), primary_key=True),
    Column("used_at", DateTime(timezone=True), nullable=False),
)
"""Nonces of destructive answer links that have acted: such a link works once."""

ENCRYPTED: dict[str, dict[str, str]] = {
    "items": {"item_key": "seal", "unit_key": "tag", "owner": "tag", "folder": "tag", "title": "seal",
              "link": "seal"},
    "units": {"unit_key": "tag", "label": "seal", "owner": "tag", "cursor": "seal"},
    "run_units": {"unit_key": "tag"},
    "findings": {"part": "tag", "location": "tag"},
    "item_errors": {"part": "tag", "message": "seal"},
    "source_errors": {"unit_key": "tag", "message": "seal", "item_prefix": "seal"},
    "deliveries": {"owner": "tag", "reason": "seal"},
    "digest_listings": {"owner": "tag"},
    "answers": {"origin": "seal"},
}
"""The encrypted columns and how (:mod:`scanner.store.crypt`): ``seal`` is randomised, ``tag``
deterministic, for the columns the store looks up, groups or compares by (owners, units,
folders) and for short values that repeat (finding parts: "body", an attachment's name). A
cursor is sealed because a listing's cursor can hold paths; error messages because they can
name a file or a mailbox."""

JOB_TABLE = "schedule_jobs"
external = MetaData()
schedule_jobs = Table(
    JOB_TABLE, external,
    Column("id", String(191), primary_key=True),
    Column("next_run_time", Float, index=True),  # POSIX timestamp, UTC
    Column("job_state", LargeBinary, nullable=False),  # a pickled APScheduler Job
)
"""APScheduler's ``SQLAlchemyJobStore`` table, as APScheduler 3 creates it. Described here so
that the store owns its name and can read the planned runs; only APScheduler writes it."""

EXTERNAL_TABLES = frozenset(external.tables)
