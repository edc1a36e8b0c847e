"""The ``schoonschip`` command line.

Help and messages are Dutch by default; ``--lang en`` (or ``SCHOONSCHIP_LANG=en``) switches
to English. The language has to be known before click builds its help pages, so ``main``
reads ``--lang`` from the arguments first and then builds the command group.

Exit codes (:class:`scanner.core.exitcodes.ExitCode`): 0 success; 1 the job failed; 2 bad
usage or an invalid configuration; 3 another run holds the lock; 4 the last run failed
(``status``); 5 no successful scan for more than two days (``status``).

A failure of the machine (disk full, read-only or damaged database, unreadable secret) is one
line on stderr (:mod:`scanner.failures`) and exit code 1, never a traceback; ``--verbose``
shows the traceback of anything else.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

from scanner import i18n
from scanner.core.exitcodes import ExitCode
from scanner.i18n import t

F = TypeVar("F", bound=Callable[..., Any])


def _load(config: Path | None):
    from scanner.config import ConfigError, load_config

    try:
        settings = load_config(config)
    except ConfigError as exc:
        click.echo(exc.format(), err=True)
        sys.exit(ExitCode.CONFIG)
    from scanner.failures import remember_database

    remember_database(settings.database_url)
    return settings


def _setup_logging(verbose: bool, json_logs: bool = False) -> None:
    from scanner.logsetup import configure_logging

    configure_logging(logging.DEBUG if verbose else logging.INFO, json_logs=json_logs)


def _config_option() -> Callable[[F], F]:
    """The required ``--config`` option; a new decorator per command, translated when declared."""
    return click.option("--config", "-c", "config", type=click.Path(path_type=Path, dir_okay=False),
                        required=True, help=t("cli.config"))


def build_cli() -> click.Group:
    """The whole command group, built only once the language is known.

    Every help text is translated at the moment its command is declared, so the commands are
    declared here (one function per command group, help beside its command) and not at import.
    """
    cli = _root_group()
    for add_commands in (_add_analyze, _add_scan, _add_export, _add_reports, _add_demo, _add_setup,
                         _add_retention, _add_key, _add_evaluate, _add_schedule, _add_serve, _add_fg):
        add_commands(cli)
    return cli


def _root_group() -> click.Group:
    """The ``schoonschip`` group: its options (language, logging) apply to every command."""

    @click.group(help=t("cli.help"), context_settings={"help_option_names": ["-h", "--help"]})
    @click.option("--lang", type=click.Choice(["nl", "en"]), default=None, help=t("cli.lang"))
    @click.option("--verbose", "-v", is_flag=True, help=t("cli.verbose"))
    @click.option("--json-logs", is_flag=True, help="JSON-logregels / JSON log lines.")
    @click.version_option(package_name="schoonschip")
    def cli(lang: str | None, verbose: bool, json_logs: bool) -> None:
        i18n.set_language(lang)
        _setup_logging(verbose, json_logs)

    return cli


def _add_analyze(cli: click.Group) -> None:
    """``analyze``: ad-hoc detection on files or JSON lines, without a store or sources."""

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
        _echo_documents(documents, output_format, explain)


def _echo_documents(documents: Iterable[Any], output_format: str, explain: bool) -> None:
    """Print each analysed document as it comes, so a long input streams instead of waiting."""
    for document in documents:
        if output_format == "json":
            payload = document.as_json()
            if explain:
                payload["explanation"] = document.explanation(i18n.language())
            click.echo(json.dumps(payload, ensure_ascii=False))
        else:
            click.echo(document.as_text(i18n.language(), explain=explain))


def _add_scan(cli: click.Group) -> None:
    """``scan``: the nightly job; SIGTERM lets the batches in flight finish and checkpoints."""

    @cli.command(help=t("cli.scan"))
    @_config_option()
    @click.option("--progress/--no-progress", default=None, help="Voortgang tonen / show progress.")
    @click.option("--confirm-removals", "confirm_removals", multiple=True, metavar="BRON/SOURCE",
                  help="Bevestig dat wat BRON niet meer toont echt weg is (na een vermoedelijke storing) / "
                       "confirm that what SOURCE no longer lists is really gone (after a suspected outage).")
    def scan(config: Path, progress: bool | None, confirm_removals: tuple[str, ...]) -> None:
        from scanner.jobs import run_scan
        from scanner.scheduling import stop_on_signals

        settings = _load(config)
        # SIGTERM from cron/systemd: finish the batches in flight, checkpoint, exit.
        with stop_on_signals() as stop:
            code = run_scan(settings, progress=progress, echo=click.echo, stop=stop,
                            confirm_removals=confirm_removals)
        sys.exit(code)


def _add_export(cli: click.Group) -> None:
    """``export``: the stored findings as JSON lines or CSV, to a file or stdout."""

    @cli.command(help=t("cli.export"))
    @_config_option()
    @click.option("--format", "output_format", type=click.Choice(["jsonl", "csv"]), default="jsonl")
    @click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), default=None,
                  help=t("cli.export.output"))
    def export(config: Path, output_format: str, output: Path | None) -> None:
        from scanner.jobs import write_export

        settings = _load(config)
        # closed below unless it is stdout
        stream = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
        try:
            count = write_export(settings, stream, output_format)
        finally:
            if output:
                stream.close()
        click.echo(t("export.done", count=count), err=True)


def _add_reports(cli: click.Group) -> None:
    """``digest`` (teachers) and ``report`` (FG and IT): the two readers of the store."""

    @cli.command(help=t("cli.digest"))
    @_config_option()
    @click.option("--period", default=None, help="Periode, standaard de ISO-week / period, default the ISO week.")
    @click.option("--dry-run", is_flag=True, help="Alleen naar de outbox schrijven / only write to the outbox.")
    def digest(config: Path, period: str | None, dry_run: bool) -> None:
        from scanner.jobs import run_digest

        settings = _load(config)
        sys.exit(run_digest(settings, period=period, dry_run=dry_run, echo=click.echo))

    @cli.command(help=t("cli.report"))
    @_config_option()
    @click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=None)
    def report(config: Path, out_dir: Path | None) -> None:
        from scanner.jobs import run_report

        settings = _load(config)
        sys.exit(run_report(settings, out_dir=out_dir, echo=click.echo))


def _add_demo(cli: click.Group) -> None:
    """``demo``: a generated school to try the whole flow on, no configuration needed."""

    @cli.command(help=t("cli.demo"))
    @click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
                  default=Path("schoonschip-demo"), help=t("cli.demo.out"))
    @click.option("--mails", default=120, show_default=True, help="Mails per docent / mails per teacher.")
    def demo(out_dir: Path, mails: int) -> None:
        from scanner.jobs import run_demo

        sys.exit(run_demo(out_dir, mails_per_teacher=mails, echo=click.echo))


def _add_setup(cli: click.Group) -> None:
    """``check``, ``status`` and ``init``: what IT uses to install and watch the job."""

    @cli.command(help=t("cli.check"))
    @_config_option()
    @click.option("--connect/--no-connect", default=True, help="Bronnen ook echt benaderen / also contact the sources.")
    def check(config: Path, connect: bool) -> None:
        from scanner.jobs import run_check

        settings = _load(config)
        sys.exit(run_check(settings, connect=connect, echo=click.echo))

    @cli.command(help=t("cli.status"))
    @_config_option()
    @click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
    def status(config: Path, output_format: str) -> None:
        from scanner.jobs import run_status

        settings = _load(config)
        sys.exit(run_status(settings, output_format=output_format, echo=click.echo))

    @cli.command(help=t("cli.init"))
    @click.argument("target", type=click.Path(path_type=Path, dir_okay=False), default=Path("schoonschip.yaml"))
    def init(target: Path) -> None:
        from scanner.defaults import default_config_text

        if target.exists():
            raise click.ClickException(f"{target} bestaat al / already exists")
        target.write_text(default_config_text("example.yaml"), encoding="utf-8")
        click.echo(str(target))


def _add_retention(cli: click.Group) -> None:
    """``retention explain``: why one stored item has the retention status it has."""

    @cli.group(help=t("cli.retention"))
    def retention() -> None:
        pass

    @retention.command("explain", help=t("cli.retention.explain"))
    @click.argument("item")
    @_config_option()
    def retention_explain(item: str, config: Path) -> None:
        from scanner.retention_pass import explain_item
        from scanner.store import open_store

        settings = _load(config)
        store = open_store(settings)
        from detectors.recognizers.roster import RosterError

        try:
            outcome = explain_item(store, settings, item, lang=i18n.language())
        except RosterError as exc:  # the pupil rules need the roster; say which file, in one line
            click.echo(str(exc), err=True)
            sys.exit(ExitCode.CONFIG)
        if outcome is None:
            click.echo(t("item.not_found", item=item), err=True)
            sys.exit(ExitCode.FAILED)
        row, text = outcome
        click.echo(f"{row.id}  {row.source}  {row.folder or ''}  "
                   f"{row.item_date.date().isoformat()}  {', '.join(row.categories)}")
        click.echo(text)


def _add_key(cli: click.Group) -> None:
    """``key rotate``: the store key (docs/operations.md, "De sleutel")."""

    @cli.group(help=t("cli.key"))
    def key() -> None:
        pass

    @key.command("rotate", help=t("cli.key.rotate"))
    @_config_option()
    def key_rotate(config: Path) -> None:
        from scanner.jobs import run_key_rotation

        sys.exit(run_key_rotation(_load(config), echo=click.echo))


def _add_evaluate(cli: click.Group) -> None:
    """``evaluate``: detection quality on a labelled corpus; fails when a target is missed."""

    @cli.command(help=t("cli.evaluate"))
    @click.argument("corpus", type=click.Path(path_type=Path, file_okay=False), required=False)
    def evaluate(corpus: Path | None) -> None:
        from detectors.evaluation import default_corpus_dir, run_evaluation
        from detectors.settings import DetectionSettings

        report = run_evaluation(corpus or default_corpus_dir(), DetectionSettings())
        click.echo(report.format())
        if report.target_failures():
            sys.exit(ExitCode.FAILED)


def _add_schedule(cli: click.Group) -> None:
    """``schedule``: run as a service on the built-in schedule instead of cron."""

    @cli.command(help="Draai als dienst met het ingebouwde schema / run as a service on the built-in schedule.")
    @_config_option()
    def schedule(config: Path) -> None:
        from scanner.scheduling import serve

        settings = _load(config)
        sys.exit(serve(settings))


def _add_serve(cli: click.Group) -> None:
    """``serve``: the answer service behind the digest's links (issue 18)."""

    @cli.command(help="Draai de antwoorddienst achter de links in het opruimoverzicht / "
                      "run the answer service behind the digest's links.")
    @_config_option()
    def serve(config: Path) -> None:
        from scanner.answers.web import serve as serve_answers

        settings = _load(config)
        if not settings.answers.public_url:
            click.echo("answers.public_url ontbreekt: het overzicht krijgt zo geen links / "
                       "answers.public_url is missing: digests carry no links without it", err=True)
        serve_answers(settings)


def _add_fg(cli: click.Group) -> None:
    """``fg-password`` (IT gives the FG access to ``/fg``) and ``fg vernietigingsverklaring``."""

    @cli.command("fg-password", help="Maak de wachtwoord-hash voor de FG-pagina (fg_page.password_hash) / "
                                     "make the password hash for the FG page (fg_page.password_hash).")
    @click.password_option("--password", prompt="Wachtwoord voor de FG / password for the FG",
                           help="Standaard gevraagd, niet zichtbaar / asked by default, not shown.")
    def fg_password(password: str) -> None:
        from scanner.answers.fg_auth import hash_password

        try:
            line = hash_password(password)
        except ValueError as exc:
            click.echo(str(exc), err=True)
            sys.exit(ExitCode.CONFIG)
        click.echo("fg_page:")
        click.echo(f'  password_hash: "{line}"')

    @cli.group(help="Voor de FG / for the FG (data protection officer).")
    def fg() -> None:
        """The FG's exports."""

    @fg.command("vernietigingsverklaring", help="Schrijf de vernietigingsverklaring (HTML en CSV) / "
                                                "write the certificate of destruction (HTML and CSV).")
    @_config_option()
    @click.option("--from", "start", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
    @click.option("--to", "end", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
    @click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=None)
    def vernietigingsverklaring(config: Path, start: Any, end: Any, out_dir: Path | None) -> None:
        from scanner.jobs import run_vernietigingsverklaring

        if start > end:
            raise click.BadParameter("--from ligt na --to / --from is after --to")
        settings = _load(config)
        sys.exit(run_vernietigingsverklaring(settings, start=start.date(), end=end.date(), out_dir=out_dir,
                                             echo=click.echo))


def _argv_language(argv: list[str]) -> str | None:
    for index, arg in enumerate(argv):
        if arg == "--lang" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def main(argv: list[str] | None = None) -> Any:
    from scanner.store import StoreKeyError

    argv = list(sys.argv[1:] if argv is None else argv)
    i18n.set_language(_argv_language(argv))
    try:
        return build_cli()(args=argv, prog_name="schoonschip")
    except StoreKeyError as exc:  # a missing or wrong key: one line that says what to do, no traceback
        click.echo(str(exc), err=True)
        sys.exit(ExitCode.CONFIG)
    except Exception as exc:
        if "-v" in argv or "--verbose" in argv:
            raise
        from scanner.failures import explain, internal

        click.echo(explain(exc) or internal(exc), err=True)
        sys.exit(ExitCode.FAILED)


if __name__ == "__main__":  # pragma: no cover
    main()
