"""The ``schoonschip`` command line.

Help and messages are Dutch by default; ``--lang en`` (or ``SCHOONSCHIP_LANG=en``) switches
to English. The language has to be known before click builds its help pages, so ``main``
reads ``--lang`` from the arguments first and then builds the command group.

Exit codes: 0 success; 1 the job failed; 2 bad usage or an invalid configuration; 3 another
run holds the lock; 4 the last run failed (``status``).

A failure of the machine (disk full, read-only or damaged database, unreadable secret) is one
line on stderr (:mod:`scanner.failures`) and exit code 1, never a traceback; ``--verbose``
shows the traceback of anything else.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from scanner import i18n
from scanner.i18n import t

EXIT_FAILED, EXIT_CONFIG, EXIT_LOCKED, EXIT_LAST_RUN_FAILED = 1, 2, 3, 4


def _load(config: Path | None):
    from scanner.config import ConfigError, load_config

    try:
        settings = load_config(config)
    except ConfigError as exc:
        click.echo(exc.format(), err=True)
        sys.exit(EXIT_CONFIG)
    from scanner.failures import remember_database

    remember_database(settings.database_url)
    return settings


def _setup_logging(verbose: bool, json_logs: bool = False) -> None:
    from scanner.logsetup import configure_logging

    configure_logging(logging.DEBUG if verbose else logging.INFO, json_logs=json_logs)


def build_cli() -> click.Group:
    config_option = click.option("--config", "-c", "config", type=click.Path(path_type=Path, dir_okay=False),
                                 required=True, help=t("cli.config"))

    @click.group(help=t("cli.help"), context_settings={"help_option_names": ["-h", "--help"]})
    @click.option("--lang", type=click.Choice(["nl", "en"]), default=None, help=t("cli.lang"))
    @click.option("--verbose", "-v", is_flag=True, help=t("cli.verbose"))
    @click.option("--json-logs", is_flag=True, help="JSON-logregels / JSON log lines.")
    @click.version_option(package_name="schoonschip")
    def cli(lang: str | None, verbose: bool, json_logs: bool) -> None:
        i18n.set_language(lang)
        _setup_logging(verbose, json_logs)

    # --- analyze ------------------------------------------------------------------------

    @cli.command(help=t("cli.analyze"))
    @click.argument("paths", nargs=-1)
    @click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
                  help=t("cli.analyze.format"))
    @click.option("--input", "input_kind", type=click.Choice(["paths", "jsonl"]), default="paths",
                  help=t("cli.analyze.input"))
    @click.option("--explain", is_flag=True, help=t("cli.analyze.explain"))
    @click.option("--config", "-c", "config", type=click.Path(path_type=Path, dir_okay=False), default=None,
                  help=t("cli.config"))
    def analyze(paths: tuple[str, ...], output_format: str, input_kind: str, explain: bool,
                config: Path | None) -> None:
        from scanner.adhoc import analyse_jsonl, analyse_paths

        settings = _load(config) if config else None
        if input_kind == "jsonl":
            documents = analyse_jsonl(sys.stdin, settings)
        else:
            if not paths:
                raise click.UsageError("geef een pad of '-' / give a path or '-'")
            documents = analyse_paths(list(paths), settings, stdin=sys.stdin.buffer)
        for document in documents:
            if output_format == "json":
                payload = document.as_json()
                if explain:
                    payload["explanation"] = document.explanation(i18n.language())
                click.echo(json.dumps(payload, ensure_ascii=False))
            else:
                click.echo(document.as_text(i18n.language(), explain=explain))

    # --- scan ---------------------------------------------------------------------------

    @cli.command(help=t("cli.scan"))
    @config_option
    @click.option("--progress/--no-progress", default=None, help="Voortgang tonen / show progress.")
    def scan(config: Path, progress: bool | None) -> None:
        from scanner.jobs import run_scan
        from scanner.scheduling import stop_on_signals

        settings = _load(config)
        # SIGTERM from cron/systemd: finish the batches in flight, checkpoint, exit.
        with stop_on_signals() as stop:
            code = run_scan(settings, progress=progress, echo=click.echo, stop=stop)
        sys.exit(code)

    # --- export -------------------------------------------------------------------------

    @cli.command(help=t("cli.export"))
    @config_option
    @click.option("--format", "output_format", type=click.Choice(["jsonl", "csv"]), default="jsonl")
    @click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), default=None,
                  help=t("cli.export.output"))
    def export(config: Path, output_format: str, output: Path | None) -> None:
        from scanner.jobs import write_export

        settings = _load(config)
        stream = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            count = write_export(settings, stream, output_format)
        finally:
            if output:
                stream.close()
        click.echo(t("export.done", count=count), err=True)

    # --- digest -------------------------------------------------------------------------

    @cli.command(help=t("cli.digest"))
    @config_option
    @click.option("--period", default=None, help="Periode, standaard de ISO-week / period, default the ISO week.")
    @click.option("--dry-run", is_flag=True, help="Alleen naar de outbox schrijven / only write to the outbox.")
    def digest(config: Path, period: str | None, dry_run: bool) -> None:
        from scanner.jobs import run_digest

        settings = _load(config)
        sys.exit(run_digest(settings, period=period, dry_run=dry_run, echo=click.echo))

    # --- report -------------------------------------------------------------------------

    @cli.command(help=t("cli.report"))
    @config_option
    @click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=None)
    def report(config: Path, out_dir: Path | None) -> None:
        from scanner.jobs import run_report

        settings = _load(config)
        sys.exit(run_report(settings, out_dir=out_dir, echo=click.echo))

    # --- demo ---------------------------------------------------------------------------

    @cli.command(help=t("cli.demo"))
    @click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
                  default=Path("schoonschip-demo"), help=t("cli.demo.out"))
    @click.option("--mails", default=120, show_default=True, help="Mails per docent / mails per teacher.")
    def demo(out_dir: Path, mails: int) -> None:
        from scanner.jobs import run_demo

        sys.exit(run_demo(out_dir, mails_per_teacher=mails, echo=click.echo))

    # --- check, status, init ------------------------------------------------------------

    @cli.command(help=t("cli.check"))
    @config_option
    @click.option("--connect/--no-connect", default=True, help="Bronnen ook echt benaderen / also contact the sources.")
    def check(config: Path, connect: bool) -> None:
        from scanner.jobs import run_check

        settings = _load(config)
        sys.exit(run_check(settings, connect=connect, echo=click.echo))

    @cli.command(help=t("cli.status"))
    @config_option
    @click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
    def status(config: Path, output_format: str) -> None:
        from scanner.jobs import run_status

        settings = _load(config)
        sys.exit(run_status(settings, output_format=output_format, echo=click.echo))

    @cli.command(help=t("cli.init"))
    @click.argument("target", type=click.Path(path_type=Path, dir_okay=False), default=Path("schoonschip.yaml"))
    def init(target: Path) -> None:
        from scanner.config import default_config_text

        if target.exists():
            raise click.ClickException(f"{target} bestaat al / already exists")
        target.write_text(default_config_text("example.yaml"), encoding="utf-8")
        click.echo(str(target))

    # --- retention ----------------------------------------------------------------------

    @cli.group(help=t("cli.retention"))
    def retention() -> None:
        pass

    @retention.command("explain", help=t("cli.retention.explain"))
    @click.argument("item")
    @config_option
    def retention_explain(item: str, config: Path) -> None:
        from scanner.retention_pass import explain_item
        from scanner.store import Store

        settings = _load(config)
        store = Store(settings.database_url)
        outcome = explain_item(store, settings, item, lang=i18n.language())
        if outcome is None:
            click.echo(t("item.not_found", item=item), err=True)
            sys.exit(EXIT_FAILED)
        row, text = outcome
        click.echo(f"{row['id']}  {row['source']}  {row['folder'] or ''}  "
                   f"{row['item_date'].date().isoformat()}  {', '.join(row['categories'] or [])}")
        click.echo(text)

    # --- evaluate -----------------------------------------------------------------------

    @cli.command(help=t("cli.evaluate"))
    @click.argument("corpus", type=click.Path(path_type=Path, file_okay=False), required=False)
    def evaluate(corpus: Path | None) -> None:
        from detectors.evaluation import default_corpus_dir, run_evaluation
        from detectors.settings import DetectionSettings

        report = run_evaluation(corpus or default_corpus_dir(), DetectionSettings())
        click.echo(report.format())
        if report.target_failures():
            sys.exit(EXIT_FAILED)

    # --- schedule -----------------------------------------------------------------------

    @cli.command(help="Draai als dienst met het ingebouwde schema / run as a service on the built-in schedule.")
    @config_option
    def schedule(config: Path) -> None:
        from scanner.scheduling import serve

        settings = _load(config)
        sys.exit(serve(settings))

    return cli


def _argv_language(argv: list[str]) -> str | None:
    for index, arg in enumerate(argv):
        if arg == "--lang" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def main(argv: list[str] | None = None) -> Any:
    argv = list(sys.argv[1:] if argv is None else argv)
    i18n.set_language(_argv_language(argv))
    try:
        return build_cli()(args=argv, prog_name="schoonschip")
    except Exception as exc:  # noqa: BLE001 - one line for IT instead of a traceback
        if "-v" in argv or "--verbose" in argv:
            raise
        from scanner.failures import explain, internal

        click.echo(explain(exc) or internal(exc), err=True)
        sys.exit(EXIT_FAILED)


if __name__ == "__main__":  # pragma: no cover
    main()
