"""Reading back what a scan stored, for tests that compare two runs (resume, executors)."""

from __future__ import annotations

from sqlalchemy import create_engine, text


def snapshot(url: str) -> tuple[set, list, list]:
    """(items, findings, scan runs) in a comparable form, without timestamps."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            items = set(conn.execute(text(
                "select id, change_key, content_hash, student_data, state, retention_status from items")).all())
            findings = sorted(conn.execute(text(
                "select item_id, entity, part, start, \"end\", masked, value_hash from findings")).all())
            runs = conn.execute(text("select id, status from runs where kind = 'scan' order by id")).all()
    finally:
        engine.dispose()
    return items, findings, runs


def item_count(url: str) -> int:
    """Items stored so far (0 while the schema does not exist yet)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("select count(*) from items")).scalar() or 0)
    except Exception:  # noqa: BLE001 - the table may not exist yet
        return 0
    finally:
        engine.dispose()
