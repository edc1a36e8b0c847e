"""From the store to the clean-up frames of the FG (issue 18, item 6; :mod:`reports.cleanup`).

The privacy boundary for the clean-up figures, next to :func:`scanner.reporting.fg_frames`:
the frames carry a keyed hash of the owner (to count teachers per cell), the department,
categories, states and times; never an address, subject, path or reason text. The first
digest per item comes from the digest ledger (``Store.first_digests``: the "sent" time of
the earliest delivered digest that named it).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from reports.cleanup import CLEANUP_ANSWER_COLUMNS, CLEANUP_ITEM_COLUMNS
from scanner.config import Settings
from scanner.core.privacy import ValueHasher, load_installation_secret
from scanner.enforcement.policy import POLICY
from scanner.store import Store


def cleanup_frames(store: Store, settings: Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The item frame (items that held student data) and the answer frame."""
    hasher = ValueHasher(load_installation_secret(settings.secret_path, store))
    rows: list[dict[str, Any]] = []
    for row in store.iter_items(student_data_only=True):
        rows.append({
            "item_id": row.id, "owner_key": hasher.hash("OWNER", row.owner),
            "department": row.department or None, "categories": list(row.categories), "state": row.state,
            "closed_at": row.closed_at, "status": row.retention_status or "ok", "rule_id": row.rule_id,
            "first_digest_at": None, "false_positive": row.exempt_reason == "false_positive",
        })
    first = store.first_digests([r["item_id"] for r in rows])
    for record in rows:
        record["first_digest_at"] = first.get(record["item_id"])
    items = pd.DataFrame(rows, columns=CLEANUP_ITEM_COLUMNS)
    answers = pd.DataFrame(
        [{**{c: a[c] for c in CLEANUP_ANSWER_COLUMNS if c != "by_policy"}, "by_policy": a["owner_key"] == POLICY}
         for a in store.answers_of(items["item_id"].tolist())],
        columns=CLEANUP_ANSWER_COLUMNS)
    return items, answers
