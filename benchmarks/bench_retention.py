"""Benchmark: how many items per second the default retention policy evaluates.

Not a test (no timed assertions); run it and read the figures:

    .venv/bin/python benchmarks/bench_retention.py [items]

The item mix imitates a school: mostly mail in a few hundred folders, some share files,
dates spread over ten years, one to three categories per item, few labels.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanner.retention import ItemFacts, RetentionPolicy, RetentionSettings

CATS = [
    "zorg",
    "verzuim",
    "cijfers",
    "contactgegevens",
    "gezondheid",
    "identificatie",
    "thuissituatie",
]
ENTS = ["PERSON", "NL_BSN", "EMAIL_ADDRESS", "PHONE_NUMBER", "NL_ID_DOCUMENT"]


def make_items(n: int, seed: int = 1) -> list[ItemFacts]:
    rnd = random.Random(seed)
    teachers = [f"docent{i}@school.nl" for i in range(150)]
    mail_folders = [
        "Inbox",
        "Verzonden items",
        "Verwijderde items",
        "Archief",
        "Inbox/Klas 3B",
        "Inbox/Ouders",
    ]
    file_folders = [
        f"Gedeeld/{d}/{y}"
        for d in ["Zorg", "Klassen", "Administratie", "Camera"]
        for y in range(2015, 2026)
    ]
    start = datetime(2015, 1, 1, tzinfo=UTC)
    items = []
    for _ in range(n):
        is_mail = rnd.random() < 0.8
        folder = (
            f"{rnd.choice(teachers)}/{rnd.choice(mail_folders)}"
            if is_mail
            else rnd.choice(file_folders)
        )
        items.append(
            ItemFacts(
                kind="mail" if is_mail else "file",
                source="m365" if is_mail else "share",
                source_kind="graph_mail" if is_mail else "smb",
                folder=folder,
                date=start + timedelta(seconds=rnd.randrange(0, 10 * 365 * 86400)),
                categories=tuple(rnd.sample(CATS, rnd.randint(0, 3))),
                entities=tuple(rnd.sample(ENTS, rnd.randint(1, 3))),
                labels=("Legal hold",) if rnd.random() < 0.01 else (),
                student_data=rnd.random() < 0.7,
            )
        )
    return items


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    items = make_items(n)
    policy = RetentionPolicy(RetentionSettings(), today=date(2025, 9, 10))
    for _ in range(2):
        t0, c0 = time.perf_counter(), time.process_time()
        counts: dict[str, int] = {}
        for f in items:
            status = policy.evaluate(f).status.value
            counts[status] = counts.get(status, 0) + 1
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"{n} items: wall {dt:.2f} s ({n / dt:,.0f}/s), "
            f"CPU {cpu:.2f} s ({n / cpu:,.0f}/s)  {counts}"
        )


if __name__ == "__main__":
    main()
