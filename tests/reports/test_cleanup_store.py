"""The clean-up figures from a real store (issue 18, item 6): the first digest comes from the
digest ledger (digest_listings joined with the sent delivery), answers from ``answers``; the
FG report and the vernietigingsverklaring carry them; no title reaches either."""

from __future__ import annotations

from scanner.cleanup_data import cleanup_frames
from scanner.jobs import fg_cleanup, run_report, run_vernietigingsverklaring
from tests.answers.fg_helpers import NOW, TEACHERS, fg_settings, with_history
from tests.planted import notations, valid_bsns

PLANTED = valid_bsns(1)[0]


def test_figures_from_the_store(tmp_path):
    settings = fg_settings(tmp_path)
    store, ids = with_history(settings, PLANTED)
    try:
        items, answers = cleanup_frames(store, settings)
        assert items["first_digest_at"].notna().all() and len(items) == 12
        assert set(answers["action"]) == {"verwijderen", "bewaren"}
        assert "title" not in items.columns and not items["owner_key"].isin(TEACHERS).any()
        figures = fg_cleanup(store, settings, now=NOW)
    finally:
        store.close()
    (block,) = [b for b in figures.blocks if b.totals.values.loc["totaal", "opgeruimd"] > 0]
    totals = block.totals.display()
    assert totals.loc["totaal", "opgeruimd"] == 10  # five teachers, two items each
    assert totals.loc["totaal", "verplaatst"] == "<5" and totals.loc["totaal", "bewaard"] == "<5"
    assert block.medians["totaal"]["totaal"] == "2"
    assert block.weeks.display()["opgeruimd"].tolist().count(10) == 1
    cohort = block.cohort[2].display()
    assert cohort.loc["totaal", "overzicht"] == 12 and cohort.loc["totaal", "binnen_3_weken"] == 11


def test_report_and_declaration_carry_them_without_a_title(tmp_path):
    settings = fg_settings(tmp_path)
    store, _ = with_history(settings, PLANTED)
    store.close()
    out = tmp_path / "out"
    assert run_report(settings, out_dir=out, echo=lambda *_: None) == 0
    html = (out / "fg-rapport.html").read_text(encoding="utf-8")
    assert 'id="opruimen"' in html and "Opruimen door docenten" in html
    lines = []
    start, end = (NOW.date().replace(day=1).replace(year=NOW.year - 1), NOW.date())
    assert run_vernietigingsverklaring(settings, start=start, end=end, out_dir=out, echo=lines.append, now=NOW) == 0
    made = [p for p in out.iterdir() if p.name.startswith("vernietigingsverklaring")]
    assert sorted(p.suffix for p in made) == [".csv", ".html"]
    texts = [p.read_text(encoding="utf-8-sig") for p in out.iterdir() if p.suffix in (".html", ".csv")]
    for text in texts:
        for form in notations(PLANTED):
            assert form not in text
        assert "@school.nl" not in text and "plan " not in text
    declaration = next(p for p in made if p.suffix == ".html").read_text(encoding="utf-8")
    assert "De Proefschool" in declaration and ">10<" in declaration and 'id="covered"' in declaration
