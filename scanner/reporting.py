"""From the store to the reports' plain data contracts (``reports.data``).

This module is the privacy boundary between what is stored and what each audience sees:
a teacher's digest gets only that teacher's own items; the FG frame has no owner, title or
link column at all (only a keyed hash of the owner, so the FG report can enforce a minimum
number of teachers per group); the run report gets counts and error codes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from reports.data import (
    DIGEST_ACTIONS,
    DIGEST_STATUSES,
    FG_ITEM_COLUMNS,
    FG_RUN_COLUMNS,
    AnswerLink,
    AnswerNote,
    DigestItem,
    FolderGroup,
    RunReportData,
    SourceRunStats,
    TeacherDigest,
)
from scanner.config import Settings
from scanner.core.categories import item_sensitivity
from scanner.core.dates import as_utc
from scanner.core.model import RetentionAction, RetentionStatus
from scanner.core.privacy import ValueHasher, load_installation_secret
from scanner.digest_mask import mask_found
from scanner.store import Store


def teacher_digests(store: Store, settings: Settings, now: datetime | None = None) -> list[TeacherDigest]:
    """One digest per teacher with items that are overdue or due soon (empty ones left out).

    With ``answers.public_url`` set, every item and every folder with two or more items gets
    answer links (issue 18): opaque, expiring tokens made with the installation secret.
    Titles, folders and shown paths have the names and values found in the item masked
    (:mod:`scanner.digest_mask`); the link itself is whole, so it opens the item."""
    hasher = ValueHasher(load_installation_secret(settings.secret_path, store))
    links = _AnswerLinks.for_settings(store, settings, now)
    # Due items, and broadly shared ones whatever their retention status (issue 20): pupil
    # data that anyone with a link can open is a risk today, not when its term ends.
    due = [row for row in store.iter_items(active_only=True, student_data_only=True)
           if (row.retention_status in DIGEST_STATUSES or row.broadly_shared) and not row.exempt_reason]
    move_on = _move_days(store, settings, due, now)
    found = store.finding_hashes([row.id for row in due])
    per_owner: dict[str, list[DigestItem]] = defaultdict(list)
    for row in due:
        hashes = found.get(row.id, set())
        per_owner[row.owner].append(DigestItem(
            item_id=row.id, source=row.source, kind=row.kind, title=mask_found(row.title or "", hashes, hasher),
            folder=mask_found(row.folder or "", hashes, hasher), date=row.item_date, categories=row.categories,
            status=row.retention_status or RetentionStatus.OK.value, due_date=row.due_date,
            action=row.action if row.action in DIGEST_ACTIONS else RetentionAction.VERWIJDEREN.value,
            link=row.link, link_text=mask_found(row.link, hashes, hasher) if row.link else None,
            answers=links.for_items(row.owner, [row.id], archive=row.action == RetentionAction.ARCHIVEREN.value)
            if links else (),
            move_on=move_on.get(row.id),
            exposure_reasons=row.exposure_reasons if row.broadly_shared else (),
        ))
    _apply_answers(store, per_owner, settings)
    generated = now or datetime.now(UTC)
    language = settings.report_language
    moved = _policy_moved(store, settings)
    return [TeacherDigest(owner=owner, language=language, school=settings.school.name, items=items,
                          generated=generated, full_list_hint=settings.reports.full_list_hint,
                          folder_groups=links.folder_groups(owner, items) if links else [],
                          policy_moved=moved.get(owner, {}))
            for owner, items in sorted({**dict.fromkeys(moved, []), **per_owner}.items())
            if items or moved.get(owner)]


def _move_days(store: Store, settings: Settings, due: list[Any], now: datetime | None) -> dict[str, Any]:
    """Optional enforcement: the day each item will be moved by the school's policy (the
    digest announces it; :mod:`scanner.enforcement.policy` holds the rules)."""
    if not settings.enforcement.enabled:
        return {}
    from zoneinfo import ZoneInfo

    from scanner.core.dates import local_date
    from scanner.enforcement.policy import move_days

    today = local_date(now or datetime.now(UTC), ZoneInfo(settings.school.timezone))
    return move_days(settings, store, due, today)


def _policy_moved(store: Store, settings: Settings) -> dict[str, dict[str, int]]:
    """Per owner and place: items the school's policy moved since the owner's last delivered
    digest (all of them for an owner who never got one), so the next digest says so."""
    from scanner.enforcement.policy import POLICY

    moves = store.answers_by(POLICY)
    if not moves:
        return {}
    last_sent: dict[str, datetime] = {}
    for delivery in store.deliveries():
        if delivery["status"] == "sent" and delivery["owner"]:
            key = delivery["owner"].strip().lower()
            when = as_utc(delivery["updated_at"])
            if key not in last_sent or when > last_sent[key]:
                last_sent[key] = when
    out: dict[str, dict[str, int]] = defaultdict(Counter)
    for move in moves:
        since = last_sent.get((move["owner"] or "").strip().lower())
        if since is None or move["answered_at"] > since:
            out[move["owner"]][move["place"] or "Verwijderde items"] += 1
    return {owner: dict(places) for owner, places in out.items()}


def _apply_answers(store: Store, per_owner: dict[str, list[DigestItem]], settings: Settings) -> None:
    """Tell the owner what became of a *verwijderen* answer on an item that is still there (the
    source refused, or cannot act and the teacher was asked to do it by hand). An item the
    source did move is left out: found again in Verwijderde items / Trash (which is scanned),
    it is what the teacher asked for, not something to ask again."""
    ids = [item.item_id for items in per_owner.values() for item in items]
    if not ids:
        return
    standing: dict[str, dict[str, Any]] = {}
    for answer in store.answers_of(ids):
        if answer["reversed_at"] is None:
            standing[answer["item_id"]] = answer
    if not standing:
        return
    from dataclasses import replace
    from zoneinfo import ZoneInfo

    from scanner.core.dates import local_date

    for owner, items in per_owner.items():
        kept: list[DigestItem] = []
        for item in items:
            last = standing.get(item.item_id)
            if last is not None and last["action"] == "verwijderen" and last["outcome"] == "moved":
                continue
            if last is not None and last["action"] == "verwijderen":
                kind = "failed" if last["outcome"] == "failed" else "manual"
                day = local_date(last["answered_at"], ZoneInfo(settings.school.timezone))
                item = replace(item, answer_note=AnswerNote(kind, day, last["error_code"]))
            kept.append(item)
        per_owner[owner] = kept


class _AnswerLinks:
    """Makes the digest's answer links (one codec per digest run)."""

    def __init__(self, codec: Any, base: str, issued: float | None) -> None:
        self._codec = codec
        self._base = base
        self._issued = issued

    @classmethod
    def for_settings(cls, store: Store, settings: Settings, now: datetime | None) -> _AnswerLinks | None:
        if not settings.answers.public_url:
            return None
        from scanner.answers.web import codec_for

        codec = codec_for(settings, load_installation_secret(settings.secret_path, store))
        return cls(codec, f"{settings.answers.public_url}/a/", now.timestamp() if now else None)

    def for_items(self, owner: str, ids: list[str], *, archive: bool = False) -> tuple[AnswerLink, ...]:
        """The answer links for ``ids``; no *verwijderen* for what the Archiefwet keeps."""
        from scanner.answers.model import ACTIONS, VERWIJDEREN

        return tuple(AnswerLink(action, self._base + self._codec.make(owner, action, ids, now=self._issued))
                     for action in ACTIONS if not (archive and action == VERWIJDEREN))

    def folder_groups(self, owner: str, items: list[DigestItem]) -> list[FolderGroup]:
        """Folders with two or more items (oldest items first when a folder is above the
        per-link maximum), in the order of their names."""
        from scanner.answers.links import MAX_ITEMS

        per_folder: dict[tuple[str, str], list[DigestItem]] = defaultdict(list)
        for item in items:
            if item.action != RetentionAction.ARCHIVEREN.value:  # archived one by one, never deleted in bulk
                per_folder[(item.source, item.folder)].append(item)
        groups = []
        for (_source, folder), members in sorted(per_folder.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            if len(members) < 2:
                continue
            members = sorted(members, key=lambda i: (i.date, i.item_id))[:MAX_ITEMS]
            kinds = {i.kind for i in members}
            groups.append(FolderGroup(folder=folder or "/", kind=kinds.pop() if len(kinds) == 1 else "mixed",
                                      count=len(members),
                                      answers=self.for_items(owner, [i.item_id for i in members]),
                                      item_ids=tuple(i.item_id for i in members)))
        return groups


def fg_frames(store: Store, settings: Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The FG item frame (no owners, titles or links) and the runs frame."""
    hasher = ValueHasher(load_installation_secret(settings.secret_path, store))
    rows: list[dict[str, Any]] = []
    for row in store.iter_items():
        categories = list(row.categories)
        sensitivity = item_sensitivity(categories)
        rows.append({
            "item_id": row.id, "source_kind": row.source_kind, "kind": row.kind,
            "department": row.department or "onbekend", "date": row.item_date,
            "categories": categories, "sensitivity": sensitivity.value if sensitivity else None,
            "status": row.retention_status or "ok", "state": row.state,
            "closed_at": row.closed_at, "first_seen_run": row.first_seen_run,
            "false_positive": row.exempt_reason == "false_positive",
            "student_data": bool(row.student_data),
            "owner_key": hasher.hash("OWNER", row.owner), "action": row.action,
            "broad": row.broadly_shared,
        })
    items = pd.DataFrame(rows, columns=[*FG_ITEM_COLUMNS, "owner_key", "action", "broad"])
    runs = pd.DataFrame(
        [{"run_id": r["id"], "started_at": r["started_at"], "finished_at": r["finished_at"], "status": r["status"]}
         for r in store.runs("scan", limit=1000)],
        columns=FG_RUN_COLUMNS,
    )
    return items, runs


def run_report_data(store: Store, run_id: int, retry_attempts: int | None = None) -> RunReportData | None:
    """Counts, errors and detection mode of one scan, for the IT run report.

    "Cleaned up" counts real deletions only (moves apart); warnings (blind spots, suspected
    outages) are listed apart from errors; items whose retry attempts are used up are listed
    as permanent errors (``retry_attempts``: the configured bound, default the setting's)."""
    run = store.run(run_id)
    if run is None:
        return None
    if retry_attempts is None:
        from scanner.config import ScanSettings

        retry_attempts = ScanSettings().retry_attempts
    stats = (run.get("stats") or {}).get("sources", {})
    errors: dict[str, Counter] = defaultdict(Counter)
    messages: dict[tuple[str, str], str] = {}
    warnings: Counter = Counter()
    warning_messages: dict[tuple[str, str], str] = {}
    for error in store.source_errors(run_id):
        if error.get("severity") == "warning":
            warnings[(error["source"], error["code"])] += 1
            warning_messages.setdefault((error["source"], error["code"]), error["message"])
            continue
        errors[error["source"]][error["code"]] += 1
        messages.setdefault((error["source"], error["code"]), error["message"])
    sources = []
    for name, values in stats.items():
        sources.append(SourceRunStats(
            name=name, kind=values.get("kind", ""), items_seen=values.get("seen", 0),
            items_analysed=values.get("analysed", 0), items_skipped=values.get("unchanged", 0),
            items_closed=values.get("closed", 0),
            errors=[(code, messages[(name, code)], count) for code, count in errors[name].items()],
            bytes_read=values.get("bytes_read", 0), seconds=values.get("seconds", 0.0),
        ))
    return RunReportData(
        run_id=str(run_id), started_at=as_utc(run["started_at"]), finished_at=as_utc(run["finished_at"]),
        status=run["status"], detection_mode=run["detection_mode"] or "",
        detection_notice=run["detection_notice"], sources=sources,
        item_errors_by_code=store.item_error_counts(run_id),
        warnings=[(source, code, warning_messages[(source, code)], count)
                  for (source, code), count in sorted(warnings.items())],
        moved=sum(values.get("moved", 0) for values in stats.values()),
        stale=sum(values.get("stale", 0) for values in stats.values()),
        given_up=store.given_up(retry_attempts), retry_attempts=retry_attempts,
        enforcement=(run.get("stats") or {}).get("enforcement"),
    )


def export_rows(store: Store) -> list[dict[str, Any]]:
    """One row per flagged item (for IT's own follow-up; holds owners and folders, no values)."""
    out = []
    for row in store.iter_items(active_only=True, student_data_only=True):
        out.append({
            "source": row.source, "owner": row.owner, "item_id": row.id, "folder": row.folder,
            "date": row.item_date.date().isoformat() if row.item_date else None,
            "categories": list(row.categories), "entity_counts": dict(row.entity_counts),
            "retention_status": row.retention_status or "ok",
            "due_date": row.due_date.isoformat() if row.due_date else None,
            "rule_id": row.rule_id, "action": row.action,
        })
    return out


