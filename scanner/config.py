"""Loading and validating the YAML configuration into typed settings.

The school's file is laid over the built-in defaults (``config/default.yaml``), then validated
in one go. Every problem is reported as one line naming the file and the key, in Dutch and
English, never as a traceback: IT reads this at install time, not at 03:00.

Relative paths in the file are taken relative to the file's own folder, so a configuration
can be moved together with its data.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator

from connectors.base import SourceConfig
from connectors.registry import config_model, known_kinds
from detectors.settings import DetectionSettings
from reports.settings import DeliverySettings
from scanner.answers.fg_settings import FgPageSettings
from scanner.answers.settings import AnswerSettings
from scanner.core.config_base import StrictModel
from scanner.core.dates import DEFAULT_TIMEZONE, check_time_zone
from scanner.defaults import load_defaults
from scanner.enforcement.settings import EnforcementSettings
from scanner.extract.limits import ExtractionLimits
from scanner.retention import RetentionSettings

PATH_KEYS = {"path", "file", "state_dir", "outbox_dir", "out_dir", "ca_file", "certificate",
             "private_key", "pfx", "secret_file", "store_key_file", "lexicon_dirs", "log_file"}


class ConfigError(Exception):
    """A configuration that cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, file: str, problems: list[str]) -> None:
        self.file = file
        self.problems = problems
        super().__init__(f"{file}: " + "; ".join(problems))

    def format(self) -> str:
        from scanner.i18n import t

        return "\n".join([t("config.error", file=self.file), *(f"  - {p}" for p in self.problems)])


class SchoolSettings(StrictModel):
    name: str = "School"
    language: Literal["nl", "en"] = "nl"
    timezone: str = DEFAULT_TIMEZONE

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_time_zone(value)


class DatabaseSettings(StrictModel):
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default a SQLite file in state_dir. "
        "PostgreSQL: postgresql+psycopg://user@host/db (password via SCHOONSCHIP_DB_PASSWORD).",
    )


class ReportSettings(StrictModel):
    out_dir: Path | None = None
    min_group_size: int = Field(default=5, ge=2)
    full_list_hint: str | None = None
    language: Literal["nl", "en"] | None = None


class ExecutorSettings(StrictModel):
    kind: Literal["inline", "pool", "dask"] = "inline"
    workers: int | None = Field(default=None, ge=1)
    dask_scheduler: str | None = None
    batch_size: int = Field(default=16, ge=1, le=10_000)
    per_mailbox_concurrency: int = Field(default=4, ge=1)


class ActionSettings(StrictModel):
    """Optional mailbox actions. Off by default; never deletes anything.

    The owner's own marks (false positive, legal hold) are read back from the same labels;
    which labels mean what is configured under ``retention.exemptions``.
    """

    tag_flagged: bool = False
    flag_category: str = "Schoonschip: opruimen"


class ScheduleSettings(StrictModel):
    """Cron lines (minute hour day month weekday) in the school's time zone; ``off`` switches
    a job off."""

    scan: str = "0 2 * * *"
    digest: str = "0 7 * * mon"
    report: str = "0 8 1 * *"
    misfire_grace_seconds: int = Field(default=6 * 3600, ge=0)

    @field_validator("scan", "digest", "report")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        if value.strip().lower() in ("", "off", "uit", "none", "-"):
            return "off"
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise ValueError(f"geen geldige cron-regel / not a valid cron line: {value!r} ({exc})") from None
        return value


class NotifySettings(StrictModel):
    it_recipients: list[str] = Field(default_factory=list)
    failing_source_runs: int = Field(default=3, ge=1)


class ScanSettings(StrictModel):
    """How the scan treats failures and suspicious listings (see docs/operations.md)."""

    retry_attempts: int = Field(default=5, ge=1, le=100)
    """An item whose fetch or analysis failed with a retryable error is tried again in the next
    runs, at most this many attempts in all; then it is a permanent error in the run report."""
    outage_share: float = Field(default=0.5, gt=0.0, le=1.0)
    """A listing that would close more than this share of a source's or unit's stored items is
    a suspected outage (an unmounted share, an expired permission): nothing is closed until
    a second run sees the same or IT confirms with ``scan --confirm-removals SOURCE``."""
    outage_min_items: int = Field(default=5, ge=1)
    """The share rule applies from this many stored items on; a unit or source that lists
    nothing at all while items are stored is always suspect."""


class Settings(StrictModel):
    """The whole configuration. ``config_file`` is where it came from (None: defaults only)."""

    school: SchoolSettings = SchoolSettings()
    state_dir: Path = Path("schoonschip-data")
    secret_file: Path | None = None
    store_key_file: Path | None = Field(
        default=None, description="the key the store encrypts names, paths and owners with "
        "(default state_dir/store.key; keep it out of the database's backups, see docs/operations.md)")
    database: DatabaseSettings = DatabaseSettings()
    sources: list[SourceConfig] = Field(default_factory=list)
    detection: DetectionSettings = DetectionSettings()
    extraction: ExtractionLimits = ExtractionLimits()
    retention: RetentionSettings = RetentionSettings()
    reports: ReportSettings = ReportSettings()
    delivery: DeliverySettings = DeliverySettings()
    executor: ExecutorSettings = ExecutorSettings()
    actions: ActionSettings = ActionSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    notify: NotifySettings = NotifySettings()
    scan: ScanSettings = ScanSettings()
    answers: AnswerSettings = AnswerSettings()
    enforcement: EnforcementSettings = EnforcementSettings()
    fg_page: FgPageSettings = FgPageSettings()
    config_file: Path | None = None

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{(self.state_dir / 'schoonschip.sqlite').resolve()}"

    @property
    def secret_path(self) -> Path:
        return self.secret_file or self.state_dir / "hmac.key"

    @property
    def key_path(self) -> Path:
        return self.store_key_file or self.state_dir / "store.key"

    @property
    def report_dir(self) -> Path:
        return self.reports.out_dir or self.state_dir / "rapporten"

    @property
    def outbox_dir(self) -> Path:
        outbox = Path(self.delivery.outbox_dir)
        return outbox if outbox.is_absolute() else self.state_dir / outbox

    @property
    def report_language(self) -> str:
        return self.reports.language or self.school.language

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)


# --- loading ------------------------------------------------------------------------------


def load_config(path: Path | str | None, overrides: dict[str, Any] | None = None) -> Settings:
    """Read ``path`` over the defaults, validate, and return :class:`Settings`.

    Raises :class:`ConfigError` with one readable line per problem.
    """
    label = str(path) if path else "default.yaml"
    data = load_defaults()
    base_dir = Path.cwd()
    if path is not None:
        path = Path(path)
        try:
            user = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise ConfigError(label, ["bestand bestaat niet / file does not exist"]) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"regel {mark.line + 1} / line {mark.line + 1}: " if mark else ""
            raise ConfigError(label, [f"{where}geen geldige YAML / not valid YAML"]) from None
        if not isinstance(user, dict):
            raise ConfigError(label, ["verwacht een mapping bovenaan / expected a mapping at the top"])
        base_dir = path.resolve().parent
        _resolve_paths(user, base_dir)
        data = deep_merge(data, user)
    if overrides:
        data = deep_merge(data, overrides)
    data.setdefault("state_dir", "schoonschip-data")
    if not Path(data["state_dir"]).is_absolute():
        data["state_dir"] = str(base_dir / data["state_dir"])
    return validate_settings(data, label, Path(path).resolve() if path else None)


def validate_settings(data: dict[str, Any], label: str, config_file: Path | None) -> Settings:
    problems: list[str] = []
    raw_sources = data.pop("sources", None) or []
    sources: list[SourceConfig] = []
    if not isinstance(raw_sources, list):
        problems.append("sources: verwacht een lijst / expected a list")
        raw_sources = []
    names: set[str] = set()
    for index, raw in enumerate(raw_sources):
        where = f"sources[{index}]"
        if not isinstance(raw, dict):
            problems.append(f"{where}: verwacht een mapping / expected a mapping")
            continue
        if raw.get("name"):
            where += f" ({raw['name']})"
        kind = raw.get("kind")
        if kind not in known_kinds():
            problems.append(
                f"{where}.kind: onbekende soort {kind!r}; kies uit / unknown kind, choose from: "
                + ", ".join(known_kinds())
            )
            continue
        try:
            model = config_model(kind)
        except ImportError as exc:
            problems.append(f"{where}: connector {kind} kan niet laden / cannot load: {exc.name}")
            continue
        try:
            source = model.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_format_errors(exc, where))
            continue
        if source.name in names:
            problems.append(f"{where}.name: dubbele naam / duplicate name {source.name!r}")
        names.add(source.name)
        sources.append(source)
    try:
        settings = Settings.model_validate({**data, "config_file": config_file})
    except ValidationError as exc:
        problems.extend(_format_errors(exc, ""))
        settings = None
    if problems or settings is None:
        raise ConfigError(label, problems)
    return settings.model_copy(update={"sources": sources})


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Merge ``over`` into a copy of ``base``: mappings merge, everything else is replaced."""
    merged = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _resolve_paths(node: Any, base: Path) -> None:
    """Make relative path values absolute against the configuration file's folder."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in PATH_KEYS or key.endswith(("_dir", "_file", "_path")):
                if isinstance(value, str) and value and not _looks_absolute(value):
                    node[key] = str(base / value)
                elif isinstance(value, list):
                    node[key] = [str(base / v) if isinstance(v, str) and not _looks_absolute(v) else v
                                 for v in value]
                else:
                    _resolve_paths(value, base)
            else:
                _resolve_paths(value, base)
    elif isinstance(node, list):
        for value in node:
            _resolve_paths(value, base)


def _looks_absolute(value: str) -> bool:
    return value.startswith(("/", "~", "\\\\")) or "://" in value or value[1:3] == ":\\"


_DUTCH = {
    "missing": "veld ontbreekt",
    "extra_forbidden": "onbekende sleutel",
    "literal_error": "ongeldige waarde",
    "int_parsing": "moet een geheel getal zijn",
    "int_type": "moet een geheel getal zijn",
    "float_parsing": "moet een getal zijn",
    "float_type": "moet een getal zijn",
    "bool_parsing": "moet true of false zijn",
    "bool_type": "moet true of false zijn",
    "string_type": "moet tekst zijn",
    "list_type": "moet een lijst zijn",
    "dict_type": "moet een mapping zijn",
    "model_type": "moet een mapping zijn",
    "greater_than_equal": "is te klein",
    "greater_than": "is te klein",
    "less_than_equal": "is te groot",
    "less_than": "is te groot",
    "path_type": "moet een pad zijn",
}


def _format_errors(exc: ValidationError, prefix: str) -> list[str]:
    lines = []
    for error in exc.errors(include_url=False):
        loc = ".".join(str(part) if not isinstance(part, int) else f"[{part}]" for part in error["loc"])
        loc = loc.replace(".[", "[")
        key = f"{prefix}.{loc}" if prefix and loc else (prefix or loc or "(top)")
        english = error["msg"].removeprefix("Value error, ")
        dutch = _DUTCH.get(error["type"])
        if error["type"] == "value_error":
            lines.append(f"{key}: {english}")
        else:
            lines.append(f"{key}: {dutch} / {english}" if dutch else f"{key}: {english}")
    return lines
