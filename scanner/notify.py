"""Mail to school IT when a run fails or a source keeps failing, at most once a day per problem.

IT should hear about a broken night without being mailed every night about the same broken
source. Each problem has a stable key (``run_failed``, ``source:<name>``, ``job:<kind>``);
the table ``it_notifications`` remembers which problems are open and on which day (in the
school's time zone) IT last heard of each. A mail goes out when a problem is new, or still
open on a day IT was not yet told; when a problem disappears, the next mail says it was
solved. A send that fails is not recorded as sent, so the next run tries again.

The mail holds source names, error codes, counts and run numbers only: never unit keys (they
can be mailbox addresses or folder names), error messages, subjects or anything found.

It goes out the way the digests do (:func:`scanner.outgoing.open_transport`): SMTP, the
outbox (``.eml`` files next to the digests), or Graph/EWS through the configured source; when
that transport fails the mail is written to the outbox instead, so the problem is never
silently lost. The table is the store's (:meth:`~scanner.store.Store.it_notifications`).
"""

from __future__ import annotations

import logging
import socket
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from scanner.config import Settings
from scanner.core.dates import as_utc
from scanner.triggers import school_timezone

log = logging.getLogger("schoonschip.notify")


@dataclass(frozen=True)
class Problem:
    key: str
    scope: str
    summary: str  # "nl / en", names, codes and counts only


# --- what is wrong ----------------------------------------------------------------------------


def scan_problems(settings: Settings, store: Any, run_id: int) -> list[Problem]:
    """Problems visible after scan ``run_id``: the run failed, sources failing run after run."""
    problems: list[Problem] = []
    run = store.run(run_id)
    if run is not None and run["status"] == "failed":
        problems.append(Problem("run_failed", "scan",
                                f"scan #{run_id} mislukt / failed ({_error_class(run.get('error'))})"))
    codes: dict[str, Counter] = {}
    # Warnings (a blind spot, a suspected outage) are in the run report, not in IT's alarm mail.
    for error in store.source_errors(run_id, severity="error"):
        codes.setdefault(error["source"], Counter())[error["code"]] += 1
    threshold = settings.notify.failing_source_runs
    for source in settings.sources:
        if not source.enabled:
            continue
        streak = store.consecutive_failing_runs(source.name)
        if streak >= threshold:
            counts = ", ".join(f"{code} x{n}" for code, n in sorted(codes.get(source.name, Counter()).items()))
            problems.append(Problem(
                f"source:{source.name}", "scan",
                f"bron {source.name} ({source.kind}): fouten in {streak} scans op rij / "
                f"errors in {streak} scans in a row: {counts or '-'}"))
    return problems


def _error_class(error: Any) -> str:
    """The run's error is an exception class name; keep only a name-like token, just in case."""
    text = str(error or "onbekend / unknown")
    token = text.split(":", 1)[0].strip()
    return token[:80] if token.replace("_", "").replace(".", "").isalnum() else "error"


# --- entry points -------------------------------------------------------------------------------


def notify_it(settings: Settings, store: Any, run_id: int, *, now: datetime | None = None,
              transport: Any | None = None) -> bool:
    """After a scan: mail IT about new or still-open problems and solved ones. True when sent."""
    return _notify(settings, store, "scan", scan_problems(settings, store, run_id),
                   now=now, transport=transport, run_id=run_id)


def notify_job_failed(settings: Settings, store: Any, kind: str, code: int | None, *,
                      now: datetime | None = None, transport: Any | None = None) -> bool:
    """After a failed job in the service (a digest, a report, or a scan that raised)."""
    what = f"exit code {code}" if code is not None else "exception"
    problem = Problem(f"job:{kind}", f"job:{kind}", f"{kind} mislukt / failed ({what})")
    return _notify(settings, store, f"job:{kind}", [problem], now=now, transport=transport)


def notify_job_ok(settings: Settings, store: Any, kind: str, *, now: datetime | None = None,
                  transport: Any | None = None) -> bool:
    """After a successful job in the service: closes (and reports solved) its open failure."""
    return _notify(settings, store, f"job:{kind}", [], now=now, transport=transport)


def _notify(settings: Settings, store: Any, scope: str, problems: list[Problem], *,
            now: datetime | None, transport: Any | None, run_id: int | None = None) -> bool:
    if not settings.notify.it_recipients:
        return False
    now = now or datetime.now(UTC)
    today = now.astimezone(school_timezone(settings)).date().isoformat()
    rows = store.it_notifications()
    current = {p.key: p for p in problems}
    # Problems of this scope (the scan's checks, or one job) that were open and are gone: solved.
    solved = [row for key, row in rows.items() if row["scope"] == scope and row["active"] and key not in current]
    due = [p for p in problems if rows.get(p.key, {}).get("last_sent_day") != today
           or not rows.get(p.key, {}).get("active")]
    sent = False
    if due or solved:
        message_lines = _body(settings, problems, rows, solved, run_id, now)
        subject = _subject(settings, problems, solved)
        sent = _send(settings, subject, message_lines, now, transport)
    _remember(store, problems, rows, solved, now, today if sent else None)
    if sent:
        log.info("IT ingelicht: %d problemen, %d opgelost / IT notified: %d problems, %d solved",
                 len(problems), len(solved), len(problems), len(solved))
    return sent


def _remember(store: Any, problems: list[Problem], rows: dict[str, dict], solved: list[dict],
              now: datetime, sent_day: str | None) -> None:
    """Record this check's problems (a new or reopened one starts its "since" now) and close
    the solved ones; ``sent_day`` only when the mail went out, so a failed send is retried."""
    changes = []
    for problem in problems:
        row = rows.get(problem.key)
        values: dict[str, Any] = {"key": problem.key, "scope": problem.scope, "active": True, "last_seen": now,
                                  "summary": problem.summary[:500]}
        if sent_day:
            values["last_sent_day"] = sent_day
        if row is None or not row["active"]:
            values["first_seen"] = now
            if row is not None:
                values.setdefault("last_sent_day", None)
        changes.append(values)
    store.save_it_notifications(changes, [row["key"] for row in solved])


# --- the mail -------------------------------------------------------------------------------------


def _subject(settings: Settings, problems: list[Problem], solved: list[dict]) -> str:
    school = settings.school.name
    if problems:
        return f"schoonschip {school}: {len(problems)} probleem/problemen - actie nodig / action needed"
    return f"schoonschip {school}: opgelost / solved"


def _body(settings: Settings, problems: list[Problem], rows: dict[str, dict], solved: list[dict],
          run_id: int | None, now: datetime) -> list[str]:
    tz = school_timezone(settings)
    lines = [f"schoonschip - {settings.school.name} - {now.astimezone(tz):%Y-%m-%d %H:%M}", ""]
    if run_id is not None:
        lines.append(f"Scan / scan run: #{run_id}")
    if problems:
        lines += ["", "Problemen / problems:"]
        for problem in problems:
            row = rows.get(problem.key)
            since = (f" (sinds / since {as_utc(row['first_seen']).astimezone(tz):%Y-%m-%d})"
                     if row and row["active"] else " (nieuw / new)")
            lines.append(f"  - {problem.summary}{since}")
    if solved:
        lines += ["", "Opgelost / solved:"]
        lines += [f"  - {row['summary']}" for row in solved]
    lines += [
        "",
        "Details: schoonschip status --config <bestand/file>, en het run-rapport / and the run report.",
        "Deze melding komt hooguit een keer per dag per probleem. / "
        "You get this at most once a day per problem.",
    ]
    return lines


def _message(settings: Settings, subject: str, lines: list[str], recipient: str, now: datetime) -> EmailMessage:
    sender = settings.delivery.sender or f"schoonschip@{socket.getfqdn() or 'localhost'}"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message.set_content("\n".join(lines) + "\n")
    return message


def _send(settings: Settings, subject: str, lines: list[str], now: datetime, transport: Any | None) -> bool:
    from reports.delivery import DeliveryError, OutboxTransport
    from scanner.outgoing import open_transport

    period = f"it-{now:%Y%m%dT%H%M%S}"
    owned = transport is None
    try:
        if transport is None:
            transport = open_transport(settings, period)
        for recipient in settings.notify.it_recipients:
            transport.send(_message(settings, subject, lines, recipient, now), recipient)
        return True
    except DeliveryError as exc:
        log.error("IT-melding niet verstuurd (%s); in de outbox gezet / IT notification not sent; "
                  "written to the outbox", exc.code)
        fallback = OutboxTransport(settings.outbox_dir, period)
        try:
            for recipient in settings.notify.it_recipients:
                fallback.send(_message(settings, subject, lines, recipient, now), recipient)
        except DeliveryError:
            log.error("ook de outbox faalde / the outbox failed too")
        return False
    finally:
        if owned and transport is not None:
            transport.close()
