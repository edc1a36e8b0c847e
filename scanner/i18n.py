"""User-facing messages in Dutch (default) and English.

The language is chosen once per process: ``--lang en`` on the command line, or the
``SCHOONSCHIP_LANG`` environment variable, else Dutch. Reports choose their language per school
from the configuration instead (a school in Friesland may still want Dutch digests while its IT
reads English logs).
"""

from __future__ import annotations

import os
from typing import Any

_LANGUAGE = "en" if os.environ.get("SCHOONSCHIP_LANG", "").lower().startswith("en") else "nl"

MESSAGES: dict[str, dict[str, str]] = {
    # CLI help
    "cli.help": {
        "nl": "schoonschip: vindt leerlinggegevens die te lang bewaard worden in mailboxen en mappen.",
        "en": "schoonschip: finds student personal data kept past retention in mailboxes and folders.",
    },
    "cli.lang": {"nl": "Taal van meldingen: nl of en.", "en": "Language of messages: nl or en."},
    "cli.config": {"nl": "Configuratiebestand (YAML).", "en": "Configuration file (YAML)."},
    "cli.verbose": {"nl": "Meer logregels.", "en": "More log lines."},
    "cli.analyze": {
        "nl": "Analyseer bestanden of mappen zonder configuratie ('-' leest tekst van stdin).",
        "en": "Analyse files or folders without a configuration ('-' reads text from stdin).",
    },
    "cli.analyze.format": {"nl": "Uitvoer: tekst of json (een object per document).",
                           "en": "Output: text or json (one object per document)."},
    "cli.analyze.input": {"nl": "Invoer: paden, of jsonl ({\"id\", \"text\"} per regel op stdin).",
                          "en": "Input: paths, or jsonl ({\"id\", \"text\"} per line on stdin)."},
    "cli.analyze.explain": {"nl": "Leg per document uit waarom het (niet) gemarkeerd is.",
                            "en": "Explain per document why it was (not) flagged."},
    "cli.scan": {"nl": "Voer de scan uit over alle bronnen uit de configuratie.",
                 "en": "Run the scan over all sources in the configuration."},
    "cli.export": {"nl": "Schrijf een regel per gemarkeerd item (jsonl of csv).",
                   "en": "Write one row per flagged item (jsonl or csv)."},
    "cli.export.output": {"nl": "Uitvoerbestand (standaard: stdout).", "en": "Output file (default: stdout)."},
    "cli.digest": {"nl": "Maak (en verstuur) de opruimoverzichten voor docenten.",
                   "en": "Render (and send) the clean-up digests for teachers."},
    "cli.report": {"nl": "Schrijf de statistieken voor de FG (HTML, CSV, XLSX).",
                   "en": "Write the statistics for the data protection officer (HTML, CSV, XLSX)."},
    "cli.demo": {"nl": "Draai alles op ingebouwde voorbeelddata.", "en": "Run everything on built-in sample data."},
    "cli.demo.out": {"nl": "Map voor de uitvoer van de demo.", "en": "Folder for the demo's output."},
    "cli.check": {"nl": "Controleer de configuratie en de bereikbaarheid van de bronnen.",
                  "en": "Check the configuration and whether the sources can be reached."},
    "cli.status": {"nl": "Laatste runs, fouten per bron en volgende geplande runs.",
                   "en": "Last runs, errors per source and next scheduled runs."},
    "cli.retention": {"nl": "Bewaartermijnen: uitleg per item.", "en": "Retention: explanation per item."},
    "cli.retention.explain": {"nl": "Leg uit welke regel geldt voor ITEM en wanneer het verliep.",
                              "en": "Explain which rule applies to ITEM and when it became due."},
    "cli.evaluate": {"nl": "Meet precisie en recall van de detectie op een gelabeld corpus.",
                     "en": "Measure detection precision and recall on a labelled corpus."},
    "cli.init": {"nl": "Schrijf een voorbeeldconfiguratie met uitleg.",
                 "en": "Write an example configuration with comments."},
    # run output
    "scan.summary": {
        "nl": "Scan {run_id} {status} in {seconds:.1f} s: {seen} items gezien, {analysed} geanalyseerd, "
              "{skipped} ongewijzigd, {closed} opgeruimd, {moved} verplaatst, {flagged} met leerlinggegevens, "
              "{errors} fouten, {warnings} waarschuwingen.",
        "en": "Scan {run_id} {status} in {seconds:.1f} s: {seen} items seen, {analysed} analysed, "
              "{skipped} unchanged, {closed} cleaned up, {moved} moved, {flagged} with student data, "
              "{errors} errors, {warnings} warnings.",
    },
    "scan.retries": {
        "nl": "Opnieuw geprobeerd: {retried} items; {stale} niet te lezen (laatste goede analyse bewaard); "
              "{gave_up} opgegeven na {attempts} pogingen.",
        "en": "Tried again: {retried} items; {stale} unreadable (last good analysis kept); "
              "{gave_up} given up after {attempts} attempts.",
    },
    "scan.source_warning": {"nl": "Waarschuwing bron {source}: {message}",
                            "en": "Warning, source {source}: {message}"},
    "scan.unknown_source": {"nl": "Onbekende bron bij --confirm-removals: {names}",
                            "en": "Unknown source for --confirm-removals: {names}"},
    "scan.retention": {
        "nl": "Bewaartermijn: {verlopen} verlopen, {binnenkort} binnenkort, {ok} binnen termijn.",
        "en": "Retention: {verlopen} overdue, {binnenkort} due soon, {ok} within retention.",
    },
    "scan.actions": {"nl": "Outlook-categorie gezet op {tagged} items ({failed} mislukt).",
                     "en": "Outlook category set on {tagged} items ({failed} failed)."},
    "scan.enforcement": {"nl": "Schoolbeleid: {moved} items verplaatst naar Verwijderde items/prullenbak/quarantaine "
                                 "({failed} mislukt, {waiting} nog niet aan de beurt).",
                         "en": "School policy: {moved} items moved to Deleted Items/recycle bin/quarantine "
                               "({failed} failed, {waiting} not yet due)."},
    "scan.bad_detection": {"nl": "Detectie-instellingen onbruikbaar: {problem}",
                           "en": "Detection settings unusable: {problem}"},
    "scan.failed": {"nl": "Scan mislukt ({error}); de volgende scan slaat over wat al verwerkt is. Zie het log.",
                    "en": "Scan failed ({error}); the next scan skips what was already processed. See the log."},
    "scan.detection": {"nl": "Detectie: {mode}", "en": "Detection: {mode}"},
    "check.compiled.compiled": {"nl": "Detectie draait gecompileerd (mypyc).",
                                "en": "Detection runs compiled (mypyc)."},
    "check.compiled.not-built": {"nl": "Detectie draait als gewoon Python (niet gecompileerd; "
                                       "scripts/install.sh bouwt het, met een C-compiler): "
                                       "zelfde uitkomsten, ~20 % trager.",
                                 "en": "Detection runs as plain Python (not compiled; scripts/install.sh "
                                       "builds it, given a C compiler): same results, ~20 % slower."},
    "check.compiled.stale": {"nl": "Detectie draait als gewoon Python: de gecompileerde modules horen bij "
                                   "een oudere versie van de code. Draai scripts/install.sh opnieuw.",
                             "en": "Detection runs as plain Python: the compiled modules belong to an older "
                                   "version of the code. Run scripts/install.sh again."},
    "check.compiled.other-python": {"nl": "Detectie draait als gewoon Python: de gecompileerde modules zijn "
                                          "voor een andere Python-versie. Draai scripts/install.sh opnieuw.",
                                    "en": "Detection runs as plain Python: the compiled modules are for "
                                          "another Python version. Run scripts/install.sh again."},
    "check.compiled.disabled": {"nl": "Detectie draait als gewoon Python (SCHOONSCHIP_PURE_PYTHON staat aan).",
                                "en": "Detection runs as plain Python (SCHOONSCHIP_PURE_PYTHON is set)."},
    "scan.source_error": {"nl": "Bron {source}: {message}", "en": "Source {source}: {message}"},
    "job.locked": {
        "nl": "Er loopt al een scan, opruimoverzicht of rapport op deze database (pid {pid} op {host}, sinds {since}); {job} wacht tot die klaar is: probeer het straks opnieuw.",
        "en": "A scan, digest or report is already running on this database (pid {pid} on {host}, since {since}); {job} waits for it to finish: try again later.",
    },
    "scan.locked": {
        "nl": "Er loopt al een scan op deze database (pid {pid} op {host}, sinds {since}). Wacht tot die klaar is.",
        "en": "A scan is already running on this database (pid {pid} on {host}, since {since}). Wait for it to finish.",
    },
    "key.locked": {
        "nl": "Sleutel niet vervangen: '{name}' loopt (pid {pid} op {host}). Stop de dienst en wacht tot lopende taken klaar zijn.",
        "en": "Key not rotated: '{name}' is running (pid {pid} on {host}). Stop the service and wait for running jobs.",
    },
    "key.rotated": {
        "nl": "Nieuwe sleutel {new} in {path}; {rows} rijen opnieuw versleuteld. De oude sleutel {old} staat in {kept}: "
              "vernietig die zodra geen backup van de database hem nog nodig heeft.",
        "en": "New key {new} in {path}; {rows} rows re-encrypted. The old key {old} is in {kept}: destroy it once no "
              "database backup needs it any more.",
    },
    "cli.key": {"nl": "De sleutel waarmee namen en paden in de database versleuteld zijn.",
                "en": "The key the database's names and paths are encrypted with."},
    "cli.key.rotate": {"nl": "Versleutel alles opnieuw met een nieuwe sleutel (dienst eerst stoppen).",
                       "en": "Re-encrypt everything with a new key (stop the service first)."},
    "scan.resumed": {"nl": "Onderbroken run {run_id} wordt hervat.", "en": "Resuming interrupted run {run_id}."},
    "config.error": {"nl": "Fout in de configuratie {file}:", "en": "Error in the configuration {file}:"},
    "config.ok": {"nl": "Configuratie in orde: {sources} bronnen.", "en": "Configuration valid: {sources} sources."},
    "demo.done": {
        "nl": "Demo klaar. Opruimoverzichten: {outbox}\nFG-rapport: {report}\nExport: {export}\nDatabase: {database}",
        "en": "Demo done. Digests: {outbox}\nFG report: {report}\nExport: {export}\nDatabase: {database}",
    },
    "demo.pst": {"nl": "Gedeelde map: Outlook-archief Archief/archief 2017.pst met {count} leerlingmails erin.",
                 "en": "Shared folder: Outlook archive Archief/archief 2017.pst with {count} pupil mails in it."},
    "demo.no_pst": {"nl": "Geen .pst in de demo: het voorbeeldarchief ontbreekt (draai scripts/fetch-test-data.sh).",
                    "en": "No .pst in the demo: the sample archive is missing (run scripts/fetch-test-data.sh)."},
    "demo.not_empty": {"nl": "{path} is niet leeg en geen demo-map; kies een lege of nieuwe map met --out.",
                       "en": "{path} is not empty and not a demo folder; choose an empty or new folder with --out."},
    "digest.done": {"nl": "{count} opruimoverzichten: {sent} verstuurd, {failed} mislukt, {skipped} al verstuurd.",
                    "en": "{count} digests: {sent} sent, {failed} failed, {skipped} already sent."},
    "report.done": {"nl": "FG-rapport geschreven naar {path}", "en": "FG report written to {path}"},
    "export.done": {"nl": "{count} items geexporteerd.", "en": "{count} items exported."},
    "item.not_found": {"nl": "Item {item} niet gevonden.", "en": "Item {item} not found."},
}


def set_language(language: str | None) -> None:
    """Switch the process language ('nl' or 'en'; anything else keeps Dutch)."""
    global _LANGUAGE
    if language:
        _LANGUAGE = "en" if language.lower().startswith("en") else "nl"


def language() -> str:
    return _LANGUAGE


def t(key: str, lang: str | None = None, **values: Any) -> str:
    """Return message ``key`` in the current (or given) language, formatted with ``values``."""
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(lang or _LANGUAGE) or entry["nl"]
    return text.format(**values) if values else text
