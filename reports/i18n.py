"""Every user-facing string of the reports, in Dutch and English.

One flat dictionary per language rather than gettext catalogues: the reports have a few
hundred strings, the people who adjust wording (school IT, the FG) can read and edit a
Python dict, and there is no build step that can be forgotten. Templates call ``t(key)``;
the language is fixed per rendering (digests follow the school's setting, not the process).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scanner.core.dates import format_date

LANGUAGES: tuple[str, ...] = ("nl", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "nl": {
        # --- teacher digest -----------------------------------------------------------------
        "digest.title": "Opruimoverzicht",
        "digest.subject": "Opruimoverzicht: {total} berichten en bestanden met leerlinggegevens",
        "digest.subject_one": "Opruimoverzicht: 1 bericht of bestand met leerlinggegevens",
        "digest.subject_moved": "Opruimoverzicht: wat volgens het schoolbeleid is verplaatst",
        "digest.move_note": "Wordt op {date} verplaatst naar Verwijderde items of de prullenbak (schoolbeleid), tenzij je eerder antwoordt.",
        "digest.policy_moved": "Volgens het beleid van de school zijn {count} van je berichten en bestanden die je niet beantwoordde verplaatst naar {place}. Moet iets toch blijven? Zet het daar terug en kies Bewaren.",
        "digest.greeting": "Beste collega,",
        "digest.intro": (
            "In je mailbox en mappen staan berichten en bestanden met gegevens van leerlingen die "
            "niet langer bewaard hoeven te worden. Wil je ze opruimen? Wat in het leerlingdossier "
            "hoort, zet je in het leerlingadministratiesysteem (LAS); de rest mag weg."
        ),
        "digest.counts": "Bij jou gaat het om {overdue} items over de bewaartermijn en {soon} die binnenkort aan de beurt zijn.",
        "digest.count_overdue": "bewaartermijn verlopen",
        "digest.count_soon": "binnenkort aan de beurt",
        "digest.section.breed_gedeeld": "Breed gedeeld: doe deze eerst",
        "digest.exposure": "Gedeeld met",
        "digest.count_broad": "Breed gedeeld met leerlinggegevens: {count}. Die staan bovenaan.",
        "exposure.reason.anonymous_link": "iedereen met de link",
        "exposure.reason.organisation_link": "iedereen in de school met de link",
        "exposure.reason.broad_group": "een groep als Iedereen of de hele school",
        "exposure.reason.external_guest": "iemand buiten de school",
        "exposure.reason.world_readable": "alle accounts op de server",
        "exposure.todo.link": "verwijder de deellink",
        "exposure.todo.share": "beperk de share of de rechten tot wie het nodig heeft",
        "exposure.todo.guest": "stop het delen met de gast",
        "digest.section.verlopen": "Bewaartermijn verlopen",
        "digest.section.binnenkort": "Binnenkort aan de beurt",
        "digest.special": "bijzonder persoonsgegeven",
        "digest.kind.mail": "Bericht",
        "digest.kind.file": "Bestand",
        "digest.why": "Waarom",
        "digest.why_text": "bevat {categories}",
        "digest.todo": "Wat te doen",
        "digest.due.verlopen": "termijn verlopen op {date}",
        "digest.due.binnenkort": "termijn verloopt op {date}",
        "digest.due.ok": "bewaartermijn loopt tot {date}",
        "digest.open": "Openen",
        "digest.answer.verwijderen": "Verwijderen",
        "digest.answer.bewaren": "Bewaren (bewaarplicht)",
        "digest.answer.geen_leerlinggegevens": "Geen leerlinggegevens",
        "digest.answer_intro": "Je kunt ook direct antwoorden: Verwijderen (naar Verwijderde items of de prullenbak, niet definitief), Bewaren (er geldt een bewaarplicht) of Geen leerlinggegevens (de melding klopt niet). Een link opent een pagina waarop je bevestigt; pas dan gebeurt er iets.",
        "digest.answer_text": "Antwoorden",
        "digest.answer_note.failed": "Je koos op {date} voor Verwijderen, maar dat lukte niet ({code}). Probeer het opnieuw of verwijder het zelf.",
        "digest.answer_note.manual": "Je koos op {date} voor Verwijderen; schoonschip kan dat bij deze bron niet zelf. Verwijder het zelf.",
        "digest.folders": "Een hele map in een keer",
        "digest.folder_heading.mail": "{count} berichten in {folder}",
        "digest.folder_heading.file": "{count} bestanden in {folder}",
        "digest.folder_heading.mixed": "{count} items in {folder}",
        "digest.folder_answer.verwijderen.mail": "Alle {count} berichten in {folder} verwijderen",
        "digest.folder_answer.verwijderen.file": "Alle {count} bestanden in {folder} verwijderen",
        "digest.folder_answer.verwijderen.mixed": "Alle {count} items in {folder} verwijderen",
        "digest.folder_answer.bewaren.mail": "Alle {count} berichten in {folder} bewaren",
        "digest.folder_answer.bewaren.file": "Alle {count} bestanden in {folder} bewaren",
        "digest.folder_answer.bewaren.mixed": "Alle {count} items in {folder} bewaren",
        "digest.folder_answer.geen_leerlinggegevens.mail": "Geen leerlinggegevens in deze {count} berichten",
        "digest.folder_answer.geen_leerlinggegevens.file": "Geen leerlinggegevens in deze {count} bestanden",
        "digest.folder_answer.geen_leerlinggegevens.mixed": "Geen leerlinggegevens in deze {count} items",
        "digest.location": "Locatie",
        "digest.no_link": "Open het via je mailprogramma of de verkenner.",
        "digest.capped": "Dit overzicht toont {shown} van de {total} items.",
        "digest.full_list_default": "Vraag de ICT-afdeling om de volledige lijst.",
        "digest.full_list": "De volledige lijst: {hint}",
        "digest.privacy": (
            "Dit overzicht is alleen voor jou bedoeld. Er staan geen gegevens van leerlingen in, "
            "alleen waar ze staan en waarom dat is opgevallen."
        ),
        "digest.help": (
            "Klopt een melding niet, of heb je een bericht nodig voor een lopende zaak? Laat het de "
            "ICT-afdeling of de functionaris gegevensbescherming weten."
        ),
        "digest.signature": "Met vriendelijke groet,",
        "digest.sender_name": "schoonschip, namens {school}",
        "digest.generated": "Gemaakt op {date}",
        "action.dossier_en_verwijderen.mail": "Bewaar wat nodig is in het leerlingdossier en verwijder daarna het bericht.",
        "action.dossier_en_verwijderen.file": "Bewaar wat nodig is in het leerlingdossier en verwijder daarna het bestand.",
        "action.las_en_verwijderen.mail": "Zet de gegevens in het LAS (ParnasSys, Magister, SOMtoday) en verwijder daarna het bericht.",
        "action.las_en_verwijderen.file": "Zet de gegevens in het LAS (ParnasSys, Magister, SOMtoday) en verwijder daarna het bestand.",
        "action.verwijderen.mail": "Verwijder het bericht.",
        "action.verwijderen.file": "Verwijder het bestand.",
        "action.archiveren.mail": "Archiveer in het LAS / archief (Archiefwet: niet verwijderen).",
        "action.archiveren.file": "Archiveer in het LAS / archief (Archiefwet: niet verwijderen).",
        "category.unknown": "overige gegevens",
        # --- IT run report ------------------------------------------------------------------
        "run.title": "Runrapport",
        "run.subject": "schoonschip run {run_id}: {status}",
        "run.summary": "Samenvatting",
        "run.run_id": "Run",
        "run.status": "Status",
        "run.started": "Gestart",
        "run.finished": "Klaar",
        "run.not_finished": "niet afgerond",
        "run.duration": "Duur",
        "run.throughput": "Doorvoer",
        "run.throughput_value": "{items} items/s, {mb} MB/s",
        "run.detection": "Detectie",
        "run.detection_notice": "Let op",
        "run.sources": "Bronnen",
        "run.source": "Bron",
        "run.kind": "Soort",
        "run.seen": "Gezien",
        "run.analysed": "Geanalyseerd",
        "run.skipped": "Overgeslagen",
        "run.closed": "Opgeruimd",
        "run.errors": "Fouten",
        "run.bytes": "Gelezen",
        "run.seconds": "Tijd",
        "run.total": "Totaal",
        "run.errors_per_source": "Fouten per bron",
        "run.no_errors": "Geen fouten.",
        "run.code": "Code",
        "run.reason": "Reden",
        "run.count": "Aantal",
        "run.item_errors": "Fouten per item, per code",
        "run.no_item_errors": "Geen fouten bij afzonderlijke items.",
        "run.no_sources": "Er zijn geen bronnen gescand.",
        "run.attention": "Waarschuwingen (geen fouten: de opgeslagen items zijn bewaard)",
        "run.no_attention": "Geen waarschuwingen.",
        "run.moved": "{count} items verplaatst (niet opgeruimd; bevindingen behouden).",
        "run.enforced": "Schoolbeleid (handhaving): {moved} onbeantwoorde items verplaatst naar Verwijderde items/prullenbak/quarantaine, {failed} mislukt (volgende nacht opnieuw), {waiting} nog niet aangekondigd of nog niet aan de beurt.",
        "run.enforced_failed": "Handhaving mislukt ({code})",
        "run.enforced_cannot": "Handhaving: deze bronnen kunnen niet zelf verplaatsen (alleen vermeld): {sources}.",
        "run.enforced_skipped": "Handhaving overgeslagen: de scan is niet volledig afgerond.",
        "run.stale": "{count} items konden niet worden gelezen en houden hun laatste goede analyse (verouderd).",
        "run.given_up": "Opgegeven na {attempts} pogingen",
        "run.footer": "Dit rapport bevat geen inhoud van berichten of bestanden en geen gevonden waarden.",
        # --- FG report ----------------------------------------------------------------------
        "fg.title": "Statistieken voor de functionaris gegevensbescherming",
        "fg.subtitle": "{school} · gemaakt op {date}",
        "fg.intro": (
            "Overzicht van leerlinggegevens in mailboxen en mappen. Alleen totalen: er staan geen "
            "docenten, onderwerpen of bestandsnamen in. Aantallen kleiner dan {k} worden niet "
            "getoond (\u201c<{k}\u201d) of samengevoegd onder \u201coverig\u201d."
        ),
        "fg.headline": "Kerncijfers",
        "fg.active": "Items met leerlinggegevens",
        "fg.overdue": "Bewaartermijn verlopen",
        "fg.soon": "Binnenkort",
        "fg.cleaned_total": "Opgeruimd (totaal)",
        "fg.cleaned_share": "Opgeruimd sinds vorig rapport",
        "fg.cleaned_share_na": "nog geen vorige run",
        "fg.fp_rate": "Onterecht gemarkeerd",
        "fg.fp_rate_na": "nog geen markeringen",
        "fg.by_category": "Per categorie",
        "fg.by_sensitivity": "Per gevoeligheid",
        "fg.by_age": "Naar ouderdom",
        "fg.by_department": "Per school of afdeling",
        "fg.archive": "Te archiveren (Archiefwet), per categorie",
        "fg.broad_by_category": "Breed gedeeld (deellink voor iedereen, hele school, gasten), per categorie",
        "fg.broad_by_department": "Breed gedeeld, per school of afdeling",
        "fg.trend": "Verloop tussen runs",
        "fg.trend_since": "Sinds de vorige run ({date})",
        "fg.trend_first": "Dit is de eerste afgeronde run; er is nog geen verloop.",
        "fg.new": "Nieuw gevonden",
        "fg.cleaned": "Opgeruimd",
        "fg.still_overdue": "Nog steeds verlopen",
        "fg.oldest": "Oudste gegevens per categorie",
        "fg.oldest_year": "Oudste jaar",
        "fg.oldest_age": "Ouderdom",
        "fg.fp": "Onterecht gemarkeerd (vals-positief)",
        "fg.fp_text": "{fp} van {flagged} gemarkeerde items zijn door de eigenaar als onterecht gemarkeerd ({rate}).",
        "fg.col.category": "Categorie",
        "fg.col.sensitivity": "Gevoeligheid",
        "fg.col.age": "Ouderdom",
        "fg.col.department": "School/afdeling",
        "fg.col.actief": "Actief",
        "fg.col.verlopen": "Verlopen",
        "fg.col.binnenkort": "Binnenkort",
        "fg.col.ok": "Binnen termijn",
        "fg.col.opgeruimd": "Opgeruimd",
        "fg.col.run": "Run",
        "fg.col.date": "Datum",
        "fg.col.present": "Aanwezig",
        "fg.col.new": "Nieuw",
        "fg.col.cleaned": "Opgeruimd",
        "fg.col.metric": "Kengetal",
        "fg.col.value": "Waarde",
        "fg.age.lt1": "< 1 jaar",
        "fg.age.1to2": "1-2 jaar",
        "fg.age.2to5": "2-5 jaar",
        "fg.age.gt5": "> 5 jaar",
        "fg.age_years": "{years} jaar",
        "fg.age_months": "{months} maanden",
        "fg.other": "overig",
        "fg.unknown_department": "onbekend",
        "fg.special": "bijzonder (art. 9 AVG)",
        "fg.suppressed_note": "\u201c<{k}\u201d: minder dan {k}, niet getoond om herleidbaarheid te voorkomen.",
        "fg.secondary_note": (
            "Soms is ook een groter getal verborgen, zodat een verborgen getal niet uit de totalen "
            "terug te rekenen is."
        ),
        "fg.items_note": "Een item is een bericht of bestand; een item kan in meer categorie\u00ebn vallen.",
        "fg.sensitivity.bijzonder": "bijzonder",
        "fg.sensitivity.hoog": "hoog",
        "fg.sensitivity.gemiddeld": "gemiddeld",
        "fg.sensitivity.laag": "laag",
        "fg.footer": "Gemaakt door schoonschip. Minimale groepsgrootte: {k}.",
        "fg.chart.categories": "Actieve items per categorie en status",
        "fg.chart.age": "Actieve items naar ouderdom",
        "fg.chart.trend": "Aanwezige items per run",
    },
    "en": {
        "digest.title": "Clean-up digest",
        "digest.subject": "Clean-up digest: {total} messages and files with student data",
        "digest.subject_one": "Clean-up digest: 1 message or file with student data",
        "digest.subject_moved": "Clean-up digest: what the school's policy moved",
        "digest.move_note": "Will be moved to Deleted Items or the recycle bin on {date} (school policy) unless you answer before then.",
        "digest.policy_moved": "Following the school's policy, {count} of your unanswered messages and files were moved to {place}. Must something stay? Put it back there and choose Keep.",
        "digest.greeting": "Dear colleague,",
        "digest.intro": (
            "Your mailbox and folders hold messages and files with student data that no longer need "
            "to be kept. Could you clean them up? What belongs in the student file goes into the "
            "student administration system (LAS); the rest can be deleted."
        ),
        "digest.counts": "For you that is {overdue} items past their retention period and {soon} due soon.",
        "digest.count_overdue": "past retention",
        "digest.count_soon": "due soon",
        "digest.section.breed_gedeeld": "Broadly shared: do these first",
        "digest.exposure": "Shared with",
        "digest.count_broad": "Broadly shared with student data: {count}. They are listed first.",
        "exposure.reason.anonymous_link": "anyone with the link",
        "exposure.reason.organisation_link": "everyone in the school with the link",
        "exposure.reason.broad_group": "a group such as Everyone or the whole school",
        "exposure.reason.external_guest": "someone outside the school",
        "exposure.reason.world_readable": "every account on the server",
        "exposure.todo.link": "remove the sharing link",
        "exposure.todo.share": "narrow the share or the permissions to those who need it",
        "exposure.todo.guest": "stop sharing with the guest",
        "digest.section.verlopen": "Past retention",
        "digest.section.binnenkort": "Due soon",
        "digest.special": "special category data",
        "digest.kind.mail": "Message",
        "digest.kind.file": "File",
        "digest.why": "Why",
        "digest.why_text": "contains {categories}",
        "digest.todo": "What to do",
        "digest.due.verlopen": "retention ended on {date}",
        "digest.due.binnenkort": "retention ends on {date}",
        "digest.due.ok": "retention runs until {date}",
        "digest.open": "Open",
        "digest.answer.verwijderen": "Delete",
        "digest.answer.bewaren": "Keep (legal hold)",
        "digest.answer.geen_leerlinggegevens": "No student data",
        "digest.answer_intro": "You can also answer straight away: Delete (to Deleted Items or the recycle bin, not for good), Keep (a legal duty to keep it applies) or No student data (the finding is wrong). A link opens a page where you confirm; only then does anything happen.",
        "digest.answer_text": "Answers",
        "digest.answer_note.failed": "On {date} you chose Delete, but it failed ({code}). Try again or delete it yourself.",
        "digest.answer_note.manual": "On {date} you chose Delete; schoonschip cannot do that for this source. Please delete it yourself.",
        "digest.folders": "A whole folder at once",
        "digest.folder_heading.mail": "{count} messages in {folder}",
        "digest.folder_heading.file": "{count} files in {folder}",
        "digest.folder_heading.mixed": "{count} items in {folder}",
        "digest.folder_answer.verwijderen.mail": "Delete all {count} messages in {folder}",
        "digest.folder_answer.verwijderen.file": "Delete all {count} files in {folder}",
        "digest.folder_answer.verwijderen.mixed": "Delete all {count} items in {folder}",
        "digest.folder_answer.bewaren.mail": "Keep all {count} messages in {folder}",
        "digest.folder_answer.bewaren.file": "Keep all {count} files in {folder}",
        "digest.folder_answer.bewaren.mixed": "Keep all {count} items in {folder}",
        "digest.folder_answer.geen_leerlinggegevens.mail": "No student data in these {count} messages",
        "digest.folder_answer.geen_leerlinggegevens.file": "No student data in these {count} files",
        "digest.folder_answer.geen_leerlinggegevens.mixed": "No student data in these {count} items",
        "digest.location": "Location",
        "digest.no_link": "Open it from your mail program or file explorer.",
        "digest.capped": "This digest shows {shown} of {total} items.",
        "digest.full_list_default": "Ask the IT department for the full list.",
        "digest.full_list": "The full list: {hint}",
        "digest.privacy": (
            "This digest is meant for you only. It contains no student data itself, only where it "
            "is and why it was flagged."
        ),
        "digest.help": (
            "Is an item flagged wrongly, or do you need a message for an ongoing case? Let the IT "
            "department or the data protection officer know."
        ),
        "digest.signature": "Kind regards,",
        "digest.sender_name": "schoonschip, on behalf of {school}",
        "digest.generated": "Generated on {date}",
        "action.dossier_en_verwijderen.mail": "Keep what is needed in the student file, then delete the message.",
        "action.dossier_en_verwijderen.file": "Keep what is needed in the student file, then delete the file.",
        "action.las_en_verwijderen.mail": "Record the data in the LAS (ParnasSys, Magister, SOMtoday), then delete the message.",
        "action.las_en_verwijderen.file": "Record the data in the LAS (ParnasSys, Magister, SOMtoday), then delete the file.",
        "action.verwijderen.mail": "Delete the message.",
        "action.verwijderen.file": "Delete the file.",
        "action.archiveren.mail": "Archive in the LAS / archive (Archives Act: do not delete).",
        "action.archiveren.file": "Archive in the LAS / archive (Archives Act: do not delete).",
        "category.unknown": "other data",
        "run.title": "Run report",
        "run.attention": "Warnings (not errors: the stored items were kept)",
        "run.no_attention": "No warnings.",
        "run.moved": "{count} items moved (not cleaned up; findings kept).",
        "run.enforced": "School policy (enforcement): {moved} unanswered items moved to Deleted Items/recycle bin/quarantine, {failed} failed (tried again next night), {waiting} not yet announced or not yet due.",
        "run.enforced_failed": "Enforcement failed ({code})",
        "run.enforced_cannot": "Enforcement: these sources cannot move items themselves (reported only): {sources}.",
        "run.enforced_skipped": "Enforcement skipped: the scan did not complete.",
        "run.stale": "{count} items could not be read and keep their last good analysis (stale).",
        "run.given_up": "Given up after {attempts} attempts",
        "run.subject": "schoonschip run {run_id}: {status}",
        "run.summary": "Summary",
        "run.run_id": "Run",
        "run.status": "Status",
        "run.started": "Started",
        "run.finished": "Finished",
        "run.not_finished": "not finished",
        "run.duration": "Duration",
        "run.throughput": "Throughput",
        "run.throughput_value": "{items} items/s, {mb} MB/s",
        "run.detection": "Detection",
        "run.detection_notice": "Note",
        "run.sources": "Sources",
        "run.source": "Source",
        "run.kind": "Kind",
        "run.seen": "Seen",
        "run.analysed": "Analysed",
        "run.skipped": "Skipped",
        "run.closed": "Cleaned up",
        "run.errors": "Errors",
        "run.bytes": "Read",
        "run.seconds": "Time",
        "run.total": "Total",
        "run.errors_per_source": "Errors per source",
        "run.no_errors": "No errors.",
        "run.code": "Code",
        "run.reason": "Reason",
        "run.count": "Count",
        "run.item_errors": "Item errors by code",
        "run.no_item_errors": "No errors on individual items.",
        "run.no_sources": "No sources were scanned.",
        "run.footer": "This report holds no message or file content and no detected values.",
        "fg.title": "Statistics for the data protection officer",
        "fg.subtitle": "{school} · generated on {date}",
        "fg.intro": (
            "Overview of student data in mailboxes and folders. Totals only: no teachers, subjects "
            "or file names appear. Counts below {k} are not shown (\u201c<{k}\u201d) or merged "
            "into \u201cother\u201d."
        ),
        "fg.headline": "Key figures",
        "fg.active": "Items with student data",
        "fg.overdue": "Past retention",
        "fg.soon": "Due soon",
        "fg.cleaned_total": "Cleaned up (total)",
        "fg.cleaned_share": "Cleaned up since previous report",
        "fg.cleaned_share_na": "no previous run yet",
        "fg.fp_rate": "Flagged wrongly",
        "fg.fp_rate_na": "no marks yet",
        "fg.by_category": "By category",
        "fg.by_sensitivity": "By sensitivity",
        "fg.by_age": "By age",
        "fg.by_department": "By school or department",
        "fg.archive": "To archive (Archives Act), by category",
        "fg.broad_by_category": "Broadly shared (link for anyone, whole school, guests), by category",
        "fg.broad_by_department": "Broadly shared, by school or department",
        "fg.trend": "Trend between runs",
        "fg.trend_since": "Since the previous run ({date})",
        "fg.trend_first": "This is the first completed run; there is no trend yet.",
        "fg.new": "Newly found",
        "fg.cleaned": "Cleaned up",
        "fg.still_overdue": "Still past retention",
        "fg.oldest": "Oldest data per category",
        "fg.oldest_year": "Oldest year",
        "fg.oldest_age": "Age",
        "fg.fp": "Flagged wrongly (false positives)",
        "fg.fp_text": "{fp} of {flagged} flagged items were marked as wrongly flagged by their owner ({rate}).",
        "fg.col.category": "Category",
        "fg.col.sensitivity": "Sensitivity",
        "fg.col.age": "Age",
        "fg.col.department": "School/department",
        "fg.col.actief": "Active",
        "fg.col.verlopen": "Past retention",
        "fg.col.binnenkort": "Due soon",
        "fg.col.ok": "Within retention",
        "fg.col.opgeruimd": "Cleaned up",
        "fg.col.run": "Run",
        "fg.col.date": "Date",
        "fg.col.present": "Present",
        "fg.col.new": "New",
        "fg.col.cleaned": "Cleaned up",
        "fg.col.metric": "Metric",
        "fg.col.value": "Value",
        "fg.age.lt1": "< 1 year",
        "fg.age.1to2": "1-2 years",
        "fg.age.2to5": "2-5 years",
        "fg.age.gt5": "> 5 years",
        "fg.age_years": "{years} years",
        "fg.age_months": "{months} months",
        "fg.other": "other",
        "fg.unknown_department": "unknown",
        "fg.special": "special (GDPR art. 9)",
        "fg.suppressed_note": "\u201c<{k}\u201d: fewer than {k}, not shown to prevent identification.",
        "fg.secondary_note": (
            "Sometimes a larger number is hidden as well, so that a hidden number cannot be worked "
            "out from the totals."
        ),
        "fg.items_note": "An item is one message or file; an item can fall into several categories.",
        "fg.sensitivity.bijzonder": "special",
        "fg.sensitivity.hoog": "high",
        "fg.sensitivity.gemiddeld": "medium",
        "fg.sensitivity.laag": "low",
        "fg.footer": "Generated by schoonschip. Minimum group size: {k}.",
        "fg.chart.categories": "Active items per category and status",
        "fg.chart.age": "Active items by age",
        "fg.chart.trend": "Items present per run",
    },
}


def check_language(language: str) -> str:
    """Return ``language`` if reports exist in it, else raise a clear configuration error."""
    if language not in LANGUAGES:
        raise ValueError(
            f"onbekende taal {language!r}, kies nl of en / unknown language {language!r}, choose nl or en"
        )
    return language


def t(key: str, lang: str, **values: Any) -> str:
    """Message ``key`` in ``lang`` (Dutch when the English text is missing).

    The same signature as :func:`scanner.i18n.t` (key first), but the language is required:
    a report's language is fixed per rendering (digests follow the school's setting), never
    the process's."""
    text = MESSAGES.get(lang, {}).get(key) or MESSAGES["nl"].get(key)
    if text is None:
        raise KeyError(key)
    return text.format(**values) if values else text


def format_datetime(value: datetime | None, language: str) -> str:
    if value is None:
        return ""
    return f"{format_date(value, language)} {value:%H:%M}"


def _merge_cleanup_messages() -> None:
    """The clean-up figures' strings live in :mod:`reports.i18n_cleanup` (issue 18, item 6)."""
    from reports.i18n_cleanup import CLEANUP_MESSAGES

    for language, messages in CLEANUP_MESSAGES.items():
        MESSAGES[language].update(messages)


_merge_cleanup_messages()
