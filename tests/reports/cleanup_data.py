"""A constructed clean-up history (issue 18, item 6) whose figures are worked out by hand in
tests/reports/test_cleanup.py: block 36 (5 Oct - 1 Nov 2026) is complete and its cohort had
its three weeks by NOW; block 37 is complete, its cohort not yet."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from reports.cleanup import CLEANUP_ANSWER_COLUMNS, CLEANUP_ITEM_COLUMNS

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
DIGEST = datetime(2026, 10, 5, 7, 0, tzinfo=UTC)


def at(day: int, month: int = 10) -> datetime:
    return datetime(2026, month, day, 7, 0, tzinfo=UTC)


def history(planted: str = "") -> tuple[pd.DataFrame, pd.DataFrame]:
    items: list[dict] = []
    answers: list[dict] = []

    def item(owner: str, department: str, categories: list[str], *, closed: datetime | None = None,
             status: str = "verlopen", digest: datetime | None = DIGEST) -> str:
        ident = f"i{len(items):03d}"
        items.append({"item_id": ident, "owner_key": owner, "department": department, "categories": categories,
                      "state": "opgeruimd" if closed else "actief", "closed_at": closed, "status": status,
                      "rule_id": "email_leerling", "first_digest_at": digest, "false_positive": False,
                      "title": f"Dossier {planted}", "owner": f"{owner}@school.nl"})
        return ident

    for n in range(1, 7):  # Onderbouw: two items each; t1-t3 on day 1 (moved on an answer), t4-t6 a week later
        for _ in range(2):
            ident = item(f"t{n}", "Onderbouw", ["identificatie"], closed=at(6) if n <= 3 else at(13))
            if n <= 3:
                answers.append({"item_id": ident, "action": "verwijderen", "answered_at": at(6), "reversed_at": None,
                                "outcome": "moved"})
    for n in range(7, 13):  # Bovenbouw: one cleaned in week 3, one held
        item(f"t{n}", "Bovenbouw", ["zorg", "identificatie"], closed=at(20))
        held = item(f"t{n}", "Bovenbouw", ["zorg"])
        answers.append({"item_id": held, "action": "bewaren", "answered_at": at(20), "reversed_at": None,
                        "outcome": "recorded"})
    for _ in range(3):  # Praktijk: one teacher, three items in week 4
        item("t13", "Praktijk", ["gezondheid"], closed=at(27))
    for n in range(1, 6):  # overdue, named, never answered
        item(f"t{n}", "Onderbouw", ["identificatie"])
    # a false positive answered and reversed within the block: counts nowhere
    fp = item("t1", "Onderbouw", ["contactgegevens"])
    answers.append({"item_id": fp, "action": "geen_leerlinggegevens", "answered_at": at(7),
                    "reversed_at": at(8), "outcome": "recorded"})
    # block 37 (2-29 Nov): five teachers mark one false positive each
    for n in range(1, 6):
        other = item(f"t{n}", "Onderbouw", ["contactgegevens"], digest=at(3, 11))
        answers.append({"item_id": other, "action": "geen_leerlinggegevens", "answered_at": at(10, 11),
                        "reversed_at": None, "outcome": "recorded"})
    return (pd.DataFrame(items, columns=[*CLEANUP_ITEM_COLUMNS, "title", "owner"]),
            pd.DataFrame(answers, columns=CLEANUP_ANSWER_COLUMNS))
