"""The jobs behind the CLI and the scheduler: scan, digest, report, export, check, status, demo.

Each job takes validated :class:`~scanner.config.Settings`, does its work, prints a short
Dutch-first summary through ``echo`` and returns an exit code, so the same function serves
``schoonschip scan`` from cron, the APScheduler service and the tests.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import shutil
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from scanner.config import Settings
from scanner.core.dates import iso_week
from scanner.core.exitcodes import ExitCode
from scanner.i18n import t

log = logging.getLogger(__name__)
Echo = Callable[[str], Any]

def run_scan(settings: Settings, *, progress: bool | None = None, echo: Echo = print,
             stop: threading.Event | None = None, today: datetime | None = None,
             confirm_removals: tuple[str, ...] = ()) -> int:
    """Run (or resume) a scan and print its summary. Returns an exit code.

    ``confirm_removals``: sources whose suspected outage IT confirms as real removals."""
    from scanner.pipeline import DetectionSettingsError, ScanRunner
    from scanner.progress import progress_hook
    from scanner.store import open_store
    from scanner.store.lock import LockedError

    unknown = sorted(set(confirm_removals) - {source.name for source in settings.sources})
    if unknown:
        echo(t("scan.unknown_source", names=", ".join(unknown)))
        return ExitCode.CONFIG
    store = open_store(settings)
    hook = progress_hook(progress)
    try:
        runner = ScanRunner(settings, store, stop=stop, progress=hook, today=today,
                            confirm_removals=confirm_removals)
        summary = runner.run()
    except LockedError as exc:
        echo(t("scan.locked", pid=exc.pid, host=exc.host, since=exc.since.isoformat(timespec="seconds")))
        return ExitCode.LOCKED
    except DetectionSettingsError as exc:
        echo(t("scan.bad_detection", problem=str(exc)))
        return ExitCode.CONFIG
    except Exception as exc:
        from scanner.failures import explain

        problem = explain(exc, database=settings.database_url)
        if problem is not None:  # the machine, not a bug: one line, no traceback
            log.error("scan failed: %s", problem)
            echo(problem)
        else:
            log.error("scan failed (%s)", type(exc).__name__, exc_info=True)
            echo(t("scan.failed", error=type(exc).__name__))
        try:
            latest = store.runs("scan", limit=1)
        except Exception:  # noqa: BLE001 - the database itself may be what failed
            latest = []
        if latest and latest[0]["status"] == "failed":
            _notify_failures(settings, store, latest[0]["id"])
        return ExitCode.FAILED
    finally:
        if hook is not None and hasattr(hook, "close"):
            hook.close()
    totals = summary.totals()
    if summary.resumed:
        echo(t("scan.resumed", run_id=summary.run_id))
    echo(t("scan.summary", run_id=summary.run_id, status=summary.status, seconds=summary.seconds,
           seen=totals["seen"], analysed=totals["analysed"], skipped=totals["unchanged"],
           closed=totals["closed"], moved=totals["moved"], flagged=totals["flagged"],
           errors=totals["item_errors"] + totals["source_errors"], warnings=totals["warnings"]))
    if totals["stale"] or totals["gave_up"] or totals["retried"]:
        echo(t("scan.retries", retried=totals["retried"], stale=totals["stale"], gave_up=totals["gave_up"],
               attempts=settings.scan.retry_attempts))
    echo(t("scan.retention", None, **summary.retention))
    for error in store.source_errors(summary.run_id):
        key = "scan.source_warning" if error.get("severity") == "warning" else "scan.source_error"
        echo(t(key, source=error["source"], message=error["message"]))
    echo(t("scan.detection", mode=summary.detection_mode))
    from detectors import COMPILED

    if not COMPILED.active:  # slower, same results: IT should know why and how to fix it
        echo(t(f"check.compiled.{COMPILED.reason}"))
    if settings.actions.tag_flagged:
        from scanner.actions import apply_actions

        actions = apply_actions(settings, store)
        echo(t("scan.actions", tagged=actions.tagged, failed=actions.failed))
    if settings.enforcement.enabled:
        from zoneinfo import ZoneInfo

        from scanner.core.dates import local_date
        from scanner.enforcement.run import enforce

        enforced = enforce(settings, store, summary.run_id,
                           today=local_date(today, ZoneInfo(settings.school.timezone)) if today else None)
        echo(t("scan.enforcement", moved=sum(enforced.moved.values()), failed=sum(enforced.failed.values()),
               waiting=enforced.waiting))
    _notify_failures(settings, store, summary.run_id)
    return ExitCode.OK if summary.status in ("completed", "interrupted") else ExitCode.FAILED


def _notify_failures(settings: Settings, store: Any, run_id: int) -> None:
    """Tell IT by mail when sources keep failing (when notification is configured)."""
    if not settings.notify.it_recipients:
        return
    try:
        from scanner.notify import notify_it

        notify_it(settings, store, run_id)
    except Exception:
        log.exception("notification to IT failed")


def write_export(settings: Settings, stream: TextIO, output_format: str) -> int:
    from scanner.reporting import export_rows
    from scanner.retention_pass import recompute_retention
    from scanner.store import open_store

    store = open_store(settings)
    recompute_retention(store, settings)
    rows = export_rows(store)
    if output_format == "jsonl":
        for row in rows:
            stream.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        from scanner.core.cells import row_safe

        # Opened in Excel by IT: owners and folder names come from the sources, so every
        # cell goes through the one formula guard the FG report uses too.
        writer = csv.writer(stream)
        writer.writerow(["source", "owner", "item_id", "folder", "date", "categories", "entity_counts",
                         "retention_status", "due_date", "rule_id", "action"])
        for row in rows:
            writer.writerow(row_safe([row["source"], row["owner"], row["item_id"], row["folder"], row["date"],
                                      ";".join(row["categories"]),
                                      ";".join(f"{k}={v}" for k, v in sorted(row["entity_counts"].items())),
                                      row["retention_status"], row["due_date"] or "",
                                      row["rule_id"] or "", row["action"] or ""]))
    return len(rows)


def run_digest(settings: Settings, *, period: str | None = None, dry_run: bool = False,
               echo: Echo = print, now: datetime | None = None) -> int:
    """Render every teacher's digest and deliver it (outbox without mail settings), under the
    database lock."""
    from scanner.store import open_store

    store = open_store(settings)
    with _database_lock(store, "digest", echo) as locked:
        if locked:
            return ExitCode.LOCKED
        return _digest(settings, store, period=period, dry_run=dry_run, echo=echo, now=now)


def _database_lock(store: Any, job: str, echo: Echo) -> contextlib.AbstractContextManager[bool]:
    """The scan's lock, for digests and reports too: one job at a time writes or reads the
    store as a whole (two digests at once sent 23 mails to 12 teachers; a report in the middle
    of a scan counts half a night). Yields True when another run holds it (and says so)."""
    from scanner.store.lock import LockedError, acquire

    @contextlib.contextmanager
    def held() -> Iterator[bool]:
        try:
            lock = acquire(store, "scan")
        except LockedError as exc:
            echo(t("job.locked", job=job, pid=exc.pid, host=exc.host,
                   since=exc.since.isoformat(timespec="seconds")))
            yield True
            return
        try:
            yield False
        finally:
            lock.release()

    return held()


def _digest(settings: Settings, store: Any, *, period: str | None, dry_run: bool, echo: Echo,
            now: datetime | None) -> int:
    from reports.delivery import OutboxTransport, Transport, deliver_digests
    from scanner.outgoing import open_transport
    from scanner.reporting import teacher_digests
    from scanner.retention_pass import recompute_retention

    recompute_retention(store, settings, today=now)
    digests = teacher_digests(store, settings, now=now)
    period = period or iso_week((now or datetime.now(UTC)).date())
    delivery = settings.delivery
    if delivery.method in ("graph", "ews") and delivery.source:
        try:
            settings.source(delivery.source)
        except KeyError:
            echo(f"delivery.source {delivery.source!r}: onbekende bron / unknown source")
            return ExitCode.CONFIG

    def transport() -> Transport:  # --dry-run: the outbox, whatever the delivery method
        return OutboxTransport(settings.outbox_dir, period) if dry_run else open_transport(settings, period)

    summary = deliver_digests(digests, delivery, store, period, open_transport=transport)
    echo(t("digest.done", count=len(digests), sent=len(summary.sent), failed=len(summary.failed),
           skipped=len(summary.already_sent)))
    if delivery.method == "outbox" or dry_run:
        echo(str(settings.outbox_dir))
    return ExitCode.OK if not summary.failed else ExitCode.FAILED


def run_report(settings: Settings, *, out_dir: Path | None = None, echo: Echo = print,
               now: datetime | None = None) -> int:
    """Write the FG statistics and the IT run report of the latest scan, under the database
    lock."""
    from scanner.store import open_store

    store = open_store(settings)
    with _database_lock(store, "report", echo) as locked:
        if locked:
            return ExitCode.LOCKED
        return _report(settings, store, out_dir=out_dir, echo=echo, now=now)


def _report(settings: Settings, store: Any, *, out_dir: Path | None, echo: Echo, now: datetime | None) -> int:
    from reports.fg import build_fg_report
    from reports.run_report import render_run_report
    from scanner.reporting import fg_frames, run_report_data
    from scanner.retention_pass import recompute_retention

    recompute_retention(store, settings, today=now)
    target = out_dir or settings.report_dir
    target.mkdir(parents=True, exist_ok=True)
    items, runs = fg_frames(store, settings)
    report = build_fg_report(items, runs, min_group_size=settings.reports.min_group_size,
                             language=settings.report_language, school=settings.school.name)
    report.cleanup = fg_cleanup(store, settings, runs=report.run_cells())
    paths = report.write(target)
    last = store.runs("scan", limit=1)
    if last:
        data = run_report_data(store, last[0]["id"], settings.scan.retry_attempts)
        if data is not None:
            rendered = render_run_report(data, settings.report_language)
            (target / "run-rapport.html").write_text(rendered.html, encoding="utf-8")
            (target / "run-rapport.txt").write_text(rendered.text, encoding="utf-8")
    echo(t("report.done", path=paths[0] if isinstance(paths, list) else target))
    return ExitCode.OK


def fg_run_cells(store: Any, settings: Settings, now: datetime | None = None) -> Any:
    """The FG report's published cleaned-per-run cells (:meth:`reports.fg.FgReport.run_cells`):
    every view of the clean-up blocks (the report, the FG page, a declaration) protects them
    with the same cells, so all views publish the same block figures."""
    from reports.fg import build_fg_report
    from scanner.reporting import fg_frames

    items, runs = fg_frames(store, settings)
    return build_fg_report(items, runs, min_group_size=settings.reports.min_group_size,
                           language=settings.report_language, school=settings.school.name, now=now).run_cells()


CLEANUP_BLOCKS = 3
"""Blocks of four weeks the FG report and the FG page show: about a quarter."""


def fg_cleanup(store: Any, settings: Settings, now: datetime | None = None, blocks: int = CLEANUP_BLOCKS,
               language: str | None = None, runs: Any = None) -> Any:
    """The clean-up figures of the last ``blocks`` complete blocks of four weeks (issue 18,
    item 6), for the FG report and the served FG page."""
    from reports.cleanup import build_cleanup, complete_blocks
    from scanner.cleanup_data import cleanup_frames

    now = now or datetime.now(UTC)
    items, answers = cleanup_frames(store, settings)
    return build_cleanup(items, answers, blocks=complete_blocks(now, blocks, settings.school.timezone),
                         min_group_size=settings.reports.min_group_size,
                         language=language or settings.report_language, now=now, tz=settings.school.timezone,
                         runs=runs)



def run_vernietigingsverklaring(settings: Settings, *, start: Any, end: Any, out_dir: Path | None = None,
                                echo: Echo = print, now: datetime | None = None) -> int:
    """Write ``vernietigingsverklaring-<start>-<end>.html`` and ``.csv``: the complete blocks of
    four weeks within ``start`` .. ``end`` (issue 18, item 6)."""
    from reports.cleanup import blocks_between, build_cleanup
    from reports.vernietiging import declaration
    from scanner.cleanup_data import cleanup_frames
    from scanner.store import open_store

    now = now or datetime.now(UTC)
    store = open_store(settings)
    try:
        items, answers = cleanup_frames(store, settings)
        run_cells = fg_run_cells(store, settings, now)
    finally:
        store.close()
    figures = build_cleanup(items, answers, blocks=blocks_between(start, end, now, settings.school.timezone),
                            min_group_size=settings.reports.min_group_size, language=settings.report_language,
                            now=now, tz=settings.school.timezone, runs=run_cells)
    made = declaration(figures, school=settings.school.name, start=start, end=end, issued=now)
    target = out_dir or settings.report_dir
    target.mkdir(parents=True, exist_ok=True)
    stem = target / f"vernietigingsverklaring-{start.isoformat()}-{end.isoformat()}"
    stem.with_suffix(".html").write_text(made.html(), encoding="utf-8")
    stem.with_suffix(".csv").write_text(made.csv(), encoding="utf-8-sig")
    echo(f"{stem.with_suffix('.html')}\n{stem.with_suffix('.csv')}")
    return ExitCode.OK


def run_check(settings: Settings, *, connect: bool = True, echo: Echo = print) -> int:
    """Validate the configuration and, with ``connect``, list each source's units."""
    from connectors.base import ConnectorContext, SourceError
    from connectors.registry import connector_class
    from detectors import COMPILED
    from detectors.settings import check_detection_settings

    echo(t("config.ok", sources=len(settings.sources)))
    echo(t(f"check.compiled.{COMPILED.reason}"))
    failed = False
    try:
        check_detection_settings(settings.detection)
    except ValueError as exc:
        failed = True
        echo(t("scan.bad_detection", problem=str(exc)))
    if not connect:
        return ExitCode.FAILED if failed else ExitCode.OK
    for source in settings.sources:
        try:
            with connector_class(source.kind)(source, ConnectorContext()) as connector:
                count = sum(1 for _ in connector.units())
            echo(f"  {source.name} ({source.kind}): {count} mappen/eenheden / units")
        except SourceError as exc:
            failed = True
            echo(f"  {source.name} ({source.kind}): {exc.code}: {exc}")
        except Exception as exc:  # noqa: BLE001 - report every source, not just the first failure
            failed = True
            echo(f"  {source.name} ({source.kind}): {type(exc).__name__}")
    return ExitCode.FAILED if failed else ExitCode.OK


def run_status(settings: Settings, *, output_format: str = "text", echo: Echo = print) -> int:
    from scanner.status import collect_status, format_status

    status = collect_status(settings)
    echo(json.dumps(status, ensure_ascii=False, default=str, indent=2) if output_format == "json"
         else format_status(status))
    if status.get("last_run_failed"):
        return ExitCode.LAST_RUN_FAILED
    return ExitCode.STALE if status.get("stale") else ExitCode.OK


DEMO_OUTPUTS = ("bronnen", "data", "outbox", "rapport", "export.csv", "demo.yaml")


def demo_settings(out_dir: Path, corpus: Any) -> dict[str, Any]:
    """The configuration the demo runs with (also written to ``demo.yaml`` for inspection)."""
    return {
        "school": {"name": "Demoschool De Regenboog", "language": "nl"},
        "state_dir": str(out_dir / "data"),
        "sources": corpus.sources,
        "detection": {"roster": {"path": str(corpus.roster_csv), **(
            {"former_path": str(corpus.former_roster_csv)} if corpus.former_roster_csv else {})}},
        "reports": {"out_dir": str(out_dir / "rapport"), "min_group_size": 5},
        "delivery": {"method": "outbox", "outbox_dir": str(out_dir / "outbox")},
    }


def run_demo(out_dir: Path, *, mails_per_teacher: int = 120, echo: Echo = print,
             today: date | None = None) -> int:
    """Generate the sample school, scan it, and write digests, export and FG report."""
    import yaml

    from scanner.config import load_config
    from scanner.demo import generate_demo

    out_dir = out_dir.resolve()
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / "demo.yaml").is_file():
            echo(t("demo.not_empty", path=out_dir))
            return ExitCode.CONFIG
        # A previous demo: start afresh (everything in it was generated by the demo).
        for name in DEMO_OUTPUTS:
            target = out_dir / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)
    corpus = generate_demo(out_dir / "bronnen", mails_per_teacher=mails_per_teacher, today=today,
                           pst_archive=True)
    echo(t("demo.pst", count=corpus.pst_mails) if corpus.pst_mails else t("demo.no_pst"))
    config_path = out_dir / "demo.yaml"
    config_path.write_text(yaml.safe_dump(demo_settings(out_dir, corpus), allow_unicode=True, sort_keys=False),
                           encoding="utf-8")
    settings = load_config(config_path)
    now = datetime.combine(today, datetime.min.time(), tzinfo=UTC) if today else None
    code = run_scan(settings, progress=False, echo=echo, today=now)
    if code != ExitCode.OK:
        return code
    export_path = out_dir / "export.csv"
    with open(export_path, "w", encoding="utf-8", newline="") as stream:
        count = write_export(settings, stream, "csv")
    echo(t("export.done", count=count))
    run_digest(settings, echo=echo, now=now)
    run_report(settings, echo=echo, now=now)
    echo(t("demo.done", outbox=settings.outbox_dir, report=settings.report_dir, export=export_path,
           database=settings.database_url.removeprefix("sqlite:///")))
    return ExitCode.OK


ROTATION_LOCKS = ("scheduler", "scan", "digest", "report")
"""Every lock a writer of the store takes: the rotation holds them all, so nothing writes a
value with the old key while the values are re-encrypted (a running service holds
``scheduler``: it must be stopped first)."""


def run_key_rotation(settings: Settings, *, echo: Echo = print) -> int:
    """Re-encrypt every stored name, path, key, link and owner with a new store key
    (:func:`scanner.store.keys.rotate_key`: atomic; the old key is kept aside until the
    operator destroys it)."""
    from contextlib import ExitStack

    from scanner.store import open_store
    from scanner.store.keys import rotate_key
    from scanner.store.lock import LockedError, acquire
    from scanner.store.schema import ENCRYPTED

    store = open_store(settings)
    try:
        with ExitStack() as held:
            for name in ROTATION_LOCKS:
                try:
                    held.enter_context(acquire(store, name))
                except LockedError as exc:
                    echo(t("key.locked", name=name, pid=exc.pid, host=exc.host))
                    return ExitCode.LOCKED
            old, new, rows = rotate_key(store.engine, store.keys_in_use(), ENCRYPTED)
    finally:
        store.close()
    echo(t("key.rotated", old=old, new=new, rows=rows, path=settings.key_path,
           kept=settings.key_path.with_name(f"{settings.key_path.name}.old-{old}")))
    return ExitCode.OK
