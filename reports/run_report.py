"""The IT run report: what a run did, per source, and what went wrong.

School IT reads this the morning after a nightly run, so it answers their questions in order:
did it finish, how long did it take and how fast was it, which detection mode was used (a
missing spaCy model means weaker name detection, and must not go unnoticed), and per source
what was seen, analysed, skipped and cleaned up, and which errors occurred with their codes
and reasons. It holds counts, codes and source names only.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports.data import RunReportData, SourceError, SourceRunStats
from reports.i18n import check_language, format_datetime, t
from reports.rendering import render


@dataclass(frozen=True)
class RenderedRunReport:
    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class _SourceView:
    name: str
    kind: str
    seen: int
    analysed: int
    skipped: int
    closed: int
    error_count: int
    bytes_text: str
    seconds_text: str
    errors: list[SourceError]


def format_bytes(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover


def format_duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def _duration(data: RunReportData) -> float | None:
    if data.finished_at is None:
        return None
    start, end = data.started_at, data.finished_at
    if (start.tzinfo is None) != (end.tzinfo is None):
        start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    return (end - start).total_seconds()


def render_run_report(data: RunReportData, language: str = "nl") -> RenderedRunReport:
    """Render the run report as HTML and plain text."""
    language = check_language(language)
    sources = [_view(s) for s in data.sources]
    totals = SourceRunStats(
        name=t("run.total", language), kind="",
        items_seen=sum(s.items_seen for s in data.sources),
        items_analysed=sum(s.items_analysed for s in data.sources),
        items_skipped=sum(s.items_skipped for s in data.sources),
        items_closed=sum(s.items_closed for s in data.sources),
        errors=[e for s in data.sources for e in s.error_list()],
        bytes_read=sum(s.bytes_read for s in data.sources),
        seconds=sum(s.seconds for s in data.sources),
    )
    duration = _duration(data)
    if duration and duration > 0:
        throughput = t("run.throughput_value", language,
                       items=_number(totals.items_analysed / duration, language),
                       mb=_number(totals.bytes_read / duration / 1_000_000, language))
    else:
        throughput = "-"
    subject = t("run.subject", language, run_id=data.run_id, status=data.status)
    context = {
        "t": lambda key, **kw: t(key, language, **kw),
        "language": language,
        "subject": subject,
        "run": data,
        "started": format_datetime(data.started_at, language),
        "finished": (format_datetime(data.finished_at, language) if data.finished_at
                     else t("run.not_finished", language)),
        "duration": format_duration(duration) if duration is not None else "-",
        "throughput": throughput,
        "sources": sources,
        "total": _view(totals),
        "item_errors": sorted(data.item_errors_by_code.items(), key=lambda kv: (-kv[1], kv[0])),
        "given_up": sorted(data.given_up.items()),
        "failed": data.status.lower() not in ("completed", "voltooid", "ok", "success", "klaar"),
    }
    return RenderedRunReport(subject=subject, html=render("run_report.html.j2", **context),
                             text=render("run_report.txt.j2", **context))


def _view(stats: SourceRunStats) -> _SourceView:
    errors = stats.error_list()
    return _SourceView(
        name=stats.name, kind=stats.kind, seen=stats.items_seen, analysed=stats.items_analysed,
        skipped=stats.items_skipped, closed=stats.items_closed,
        error_count=sum(e.count for e in errors), bytes_text=format_bytes(stats.bytes_read),
        seconds_text=format_duration(stats.seconds), errors=errors,
    )


def _number(value: float, language: str) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if language == "nl" else text
