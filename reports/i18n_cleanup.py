"""The strings of the clean-up figures and the vernietigingsverklaring (issue 18, item 6),
Dutch first; :mod:`reports.i18n` merges them into its catalogue (kept apart so the report
catalogue and this one can grow on different branches without colliding)."""

from __future__ import annotations

CLEANUP_MESSAGES: dict[str, dict[str, str]] = {
    "nl": {
        "cleanup.title": "Opruimen door docenten",
        "cleanup.intro": (
            "Wat docenten opruimden, hoe snel, wat ze bewaren en wat volgens hen geen leerlinggegevens zijn, "
            "per periode van vier weken. Alleen afgesloten periodes staan hier; hun cijfers veranderen niet meer. "
            "Een aantal onder {k}, of van minder dan {k} docenten, staat er niet."
        ),
        "cleanup.none": "Nog geen afgesloten periode met opruimgegevens.",
        "cleanup.block": "week {weeks} ({start} t/m {end})",
        "cleanup.week": "week {week} {year}",
        "cleanup.total": "totaal",
        "cleanup.col.opgeruimd": "opgeruimd",
        "cleanup.col.verplaatst": "waarvan via antwoord verplaatst",
        "cleanup.col.bewaard": "bewaard (bewaarplicht)",
        "cleanup.col.geen_ll": "geen leerlinggegevens",
        "cleanup.col.median": "mediaan dagen tot opruimen",
        "cleanup.col.overzicht": "voor het eerst in een opruimoverzicht",
        "cleanup.col.binnen_3_weken": "binnen 3 weken beantwoord of opgeruimd",
        "cleanup.col.share": "aandeel",
        "cleanup.table.totaal": "Totaal",
        "cleanup.table.weken": "Opgeruimd per week",
        "cleanup.table.categorie": "Per categorie",
        "cleanup.table.afdeling": "Per school/afdeling",
        "cleanup.table.categorie3": "Binnen 3 weken na het eerste overzicht, per categorie",
        "cleanup.table.afdeling3": "Binnen 3 weken na het eerste overzicht, per school/afdeling",
        "cleanup.table.totaal3": "Binnen 3 weken na het eerste overzicht, totaal",
        "cleanup.cohort_pending": ("Het aandeel binnen 3 weken volgt zodra de laatste items uit deze periode "
                                   "drie weken hebben gehad."),
        "cleanup.median_note": ("Mediaan: dagen van het eerste opruimoverzicht tot het opruimen, van items die "
                                "na een overzicht zijn opgeruimd."),
        "vv.title": "Vernietigingsverklaring",
        "vv.intro": (
            "{school} verklaart dat in de periode {start} t/m {end} de hieronder getelde berichten en bestanden "
            "met leerlinggegevens na afloop van hun bewaartermijn zijn verwijderd of naar Verwijderde items, "
            "de prullenbak of een quarantainemap zijn verplaatst. De aantallen zijn per categorie en per periode "
            "van vier weken; er staat niets in over een persoon. Een aantal onder {k}, of van minder dan {k} docenten, "
            "staat er niet."
        ),
        "vv.issued": "Datum van afgifte: {date}",
        "vv.covered": ("Geteld zijn de afgesloten periodes van vier weken binnen deze periode: {first} t/m {last}. "
                       "Periodes waarin niets is opgeruimd staan er niet in."),
        "vv.period": "Periode",
        "vv.category": "Categorie",
        "vv.deleted": "verwijderd",
        "vv.moved": "verplaatst naar Verwijderde items / quarantaine",
        "vv.total": "opgeruimd",
        "vv.rules": "bewaarregel",
        "vv.none": "In deze periode zijn geen afgesloten periodes van vier weken.",
        "vv.signature": "Naam en handtekening functionaris gegevensbescherming / bestuur:",
        "vv.footer": "Gemaakt door schoonschip op {date}. Minimale groepsgrootte: {k}.",
    },
    "en": {
        "cleanup.title": "Clean-up by teachers",
        "cleanup.intro": (
            "What teachers cleaned up, how fast, what they hold and what they say is no pupil data, per period "
            "of four weeks. Only completed periods are shown; their figures no longer change. A count below {k}, "
            "or of fewer than {k} teachers, is not shown."
        ),
        "cleanup.none": "No completed period with clean-up data yet.",
        "cleanup.block": "week {weeks} ({start} to {end})",
        "cleanup.week": "week {week} {year}",
        "cleanup.total": "total",
        "cleanup.col.opgeruimd": "cleaned up",
        "cleanup.col.verplaatst": "of which moved on an answer",
        "cleanup.col.bewaard": "held (legal hold)",
        "cleanup.col.geen_ll": "no pupil data",
        "cleanup.col.median": "median days to clean up",
        "cleanup.col.overzicht": "first in a clean-up digest",
        "cleanup.col.binnen_3_weken": "answered or cleaned within 3 weeks",
        "cleanup.col.share": "share",
        "cleanup.table.totaal": "Total",
        "cleanup.table.weken": "Cleaned up per week",
        "cleanup.table.categorie": "Per category",
        "cleanup.table.afdeling": "Per school/department",
        "cleanup.table.categorie3": "Within 3 weeks of the first digest, per category",
        "cleanup.table.afdeling3": "Within 3 weeks of the first digest, per school/department",
        "cleanup.table.totaal3": "Within 3 weeks of the first digest, total",
        "cleanup.cohort_pending": ("The share within 3 weeks follows once the last items of this period had "
                                   "their three weeks."),
        "cleanup.median_note": ("Median: days from the first digest to the clean-up, of items cleaned up "
                                "after a digest."),
        "vv.title": "Certificate of destruction (vernietigingsverklaring)",
        "vv.intro": (
            "{school} declares that in the period {start} to {end} the messages and files with pupil data counted "
            "below were deleted, or moved to Deleted Items, the recycle bin or a quarantine folder, after their "
            "retention time. Counts are per category and per period of four weeks; nothing in it is about a person. "
            "A count below {k}, or of fewer than {k} teachers, is not shown."
        ),
        "vv.issued": "Date of issue: {date}",
        "vv.covered": ("Counted are the completed periods of four weeks within this period: {first} to {last}. "
                       "Periods in which nothing was cleaned up are left out."),
        "vv.period": "Period",
        "vv.category": "Category",
        "vv.deleted": "deleted",
        "vv.moved": "moved to Deleted Items / quarantine",
        "vv.total": "cleaned up",
        "vv.rules": "retention rule",
        "vv.none": "This period holds no completed period of four weeks.",
        "vv.signature": "Name and signature of the data protection officer / board:",
        "vv.footer": "Generated by schoonschip on {date}. Minimum group size: {k}.",
    },
}
