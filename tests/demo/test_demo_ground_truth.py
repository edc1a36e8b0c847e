"""The ground-truth map covers every item, and the content agrees with it."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path

from scanner.demo import DemoCorpus
from scanner.demo.corpus import school_year_of
from scanner.demo.people import format_bsn
from tests.demo.conftest import TODAY

CATEGORIES = {"identificatie", "contactgegevens", "gezondheid", "zorg", "verzuim", "thuissituatie",
              "veiligheid", "religie", "etniciteit", "cijfers"}


def _sensitive_terms(demo: DemoCorpus) -> list[str]:
    p = demo.planted
    terms = p.student_names + p.parent_names + p.emails + p.ibans + p.addresses
    terms += [format_bsn(v, s) for v in p.bsns + p.onderwijsnummers for s in range(4)]
    return terms


def test_ground_truth_covers_every_item_and_nothing_else(demo: DemoCorpus, demo_items: dict[str, dict]) -> None:
    on_disk = set(demo_items)
    assert set(demo.expected_student_data) == on_disk
    assert set(demo.expected_categories) == on_disk
    assert set(demo.mail_keys.values()) == {k for k, v in demo_items.items() if "msg" in v}
    for message_id, key in demo.mail_keys.items():
        assert demo_items[key]["msg"]["Message-ID"] == message_id


def test_positives_hold_planted_values(demo: DemoCorpus, demo_items: dict[str, dict]) -> None:
    pattern = re.compile("|".join(re.escape(t) for t in sorted(set(_sensitive_terms(demo)), key=len, reverse=True)))
    for key, has_data in demo.expected_student_data.items():
        text = demo_items[key]["text"]
        if has_data:
            assert pattern.search(text), f"{key} is marked as student data but holds no planted value"
            assert demo.expected_categories[key], key


def test_negatives_hold_no_student_data(demo: DemoCorpus, demo_items: dict[str, dict]) -> None:
    terms = _sensitive_terms(demo) + [t for v in demo.planted.phones for t in (v, f"{v[:2]}-{v[2:]}")]
    pattern = re.compile("|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True)))
    negatives = [k for k, v in demo.expected_student_data.items() if not v]
    for key in negatives:
        match = pattern.search(demo_items[key]["text"])
        assert match is None, f"hard negative {key} contains a planted value"
        assert demo.expected_categories[key] == []


def test_every_planted_value_is_in_the_corpus(demo: DemoCorpus, demo_items: dict[str, dict]) -> None:
    corpus = "\n".join(v["text"] for v in demo_items.values())
    p = demo.planted
    for name in p.student_names + p.parent_names + p.emails + p.ibans + p.addresses + p.postcodes:
        assert name in corpus, "a recorded value was never written"
    for value in p.bsns + p.onderwijsnummers:
        assert any(format_bsn(value, s) in corpus for s in range(4))
    for iso in p.birth_dates:
        assert date.fromisoformat(iso).strftime("%d-%m-%Y") in corpus
    for phone in p.phones:
        assert any(f in corpus.replace("+31 6 ", "06")
                   for f in (phone, f"06-{phone[2:]}", f"06 {phone[2:6]} {phone[6:]}"))


def test_all_categories_and_hard_negatives_occur(demo: DemoCorpus, demo_items: dict[str, dict]) -> None:
    seen = Counter(c for cats in demo.expected_categories.values() for c in cats)
    assert set(seen) == CATEGORIES
    for rare in ("veiligheid", "religie", "etniciteit"):
        assert seen[rare] < 0.05 * len(demo.expected_categories), f"{rare} should be rare"
    mails = {k: v for k, v in demo_items.items() if "msg" in v}
    negatives = [k for k in mails if not demo.expected_student_data[k]]
    assert 0.2 * len(mails) < len(negatives) < 0.5 * len(mails)
    invoices = [k for k in negatives if re.search(r"(factuur|offerte)\s*\d{9}", mails[k]["text"], re.I)]
    assert invoices, "invoices with numbers passing the 11-proef"
    assert any(re.search(r"klantnummer\s*\d{9}", mails[k]["text"], re.I) for k in invoices)
    subjects = " ".join(str(mails[k]["msg"]["Subject"]) for k in negatives)
    for kind in ("Nieuwsbrief", "gymrooster", "Notulen", "Ticket"):
        assert kind in subjects
    assert any(mails[k]["attachments"] for k in negatives), "negatives with attachments (invoice PDF, rooster)"
    shared_negatives = [k for k, v in demo.expected_student_data.items() if k.startswith("gedeeld/") and not v]
    assert {Path(k).suffix for k in shared_negatives} >= {".pdf", ".html", ".txt", ".docx", ".xlsx"}


def test_dates_spread_over_retention_statuses(demo: DemoCorpus, demo_items: dict[str, dict]) -> None:
    sy_now = school_year_of(TODAY)
    years = Counter()
    for item in demo_items.values():
        if "msg" in item:
            d = item["msg"]["Date"].datetime.date()
            years["recent" if (TODAY - d).days <= 30 else school_year_of(d) - sy_now] += 1
    total = sum(years.values())
    assert years["recent"] > 0
    assert years[0] > 0.1 * total, "current school year"
    assert years[-1] > 0.05 * total, "previous school year (due soon / just due)"
    assert sum(n for k, n in years.items() if k != "recent" and k <= -2) > 0.4 * total, "long overdue"
    assert min(k for k in years if k != "recent") == 2017 - sy_now
