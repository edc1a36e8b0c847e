"""The retention pass with a roster that carries leaving dates: a scan of a small share."""

from __future__ import annotations

import os
from datetime import date, datetime

import yaml

from scanner.config import load_config
from scanner.jobs import run_scan
from scanner.retention_pass import explain_item, recompute_retention
from scanner.store import Store

ROSTER = ("roepnaam;tussenvoegsel;achternaam;inschrijfdatum;uitschrijfdatum\n"
          "Sanne;de;Vries;01-08-2015;\n"
          "Jaylinn;;Zwartkruis;01-08-2014;31-07-2022\n")
TODAY = datetime(2025, 9, 10, 12, 0)


def school(tmp_path, roster: str):
    share = tmp_path / "share"
    (share / "Zorg").mkdir(parents=True)
    for name, pupil in (("verslag-a.txt", "Jaylinn Zwartkruis"), ("verslag-b.txt", "Sanne de Vries")):
        path = share / "Zorg" / name
        path.write_text(f"Verslag IB-overleg over {pupil}: faalangst, handelingsplan en OPP besproken.\n",
                        encoding="utf-8")
        stamp = datetime(2019, 3, 4, 12, 0).timestamp()
        os.utime(path, (stamp, stamp))
    (tmp_path / "leerlingen.csv").write_text(roster, encoding="utf-8")
    data = {"state_dir": str(tmp_path / "state"), "school": {"name": "Test"},
            "detection": {"spacy_model": "none", "roster": {"path": str(tmp_path / "leerlingen.csv")}},
            "sources": [{"name": "gedeeld", "kind": "folder", "path": str(share), "owner": "ib@school.nl"}]}
    config = tmp_path / "school.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    settings = load_config(config)
    assert run_scan(settings, progress=False, echo=lambda _: None, today=TODAY) == 0
    return settings


def outcomes(store: Store) -> dict[str, tuple]:
    return {row.title: (row.rule_id, row.due_date, row.retention_status)
            for row in store.iter_items(active_only=True)}


def test_leaving_dates_decide_and_stay_out_of_the_store(tmp_path):
    settings = school(tmp_path, ROSTER)
    store = Store(settings.database_url)
    recompute_retention(store, settings, today=TODAY.date())
    assert outcomes(store) == {
        "verslag-a.txt": ("leerlingdossier_vertrokken", date(2024, 7, 31), "verlopen"),
        "verslag-b.txt": ("leerlingdossier_ingeschreven", None, "ok"),
    }
    raw = b"".join(p.read_bytes() for p in (tmp_path / "state").rglob("*") if p.is_file())
    for clear in (b"Zwartkruis", b"zwartkruis", b"Sanne", b"2022-07-31", b"31-07-2022", b"2015-08-01"):
        assert clear not in raw

    ident = next(r.id for r in store.iter_items() if r.title == "verslag-a.txt")
    _, text = explain_item(store, settings, ident, today=TODAY.date())
    assert "leerlingdossier_vertrokken" in text and "leerling #" in text and "Zwartkruis" not in text


def test_a_pupil_who_leaves_moves_the_dossier_at_the_next_pass(tmp_path):
    settings = school(tmp_path, ROSTER)
    store = Store(settings.database_url)
    recompute_retention(store, settings, today=TODAY.date())
    (tmp_path / "leerlingen.csv").write_text(ROSTER.replace("01-08-2015;", "01-08-2015;2025-07-18"),
                                             encoding="utf-8")
    recompute_retention(store, settings, today=TODAY.date())  # an incremental pass: no rescan
    assert outcomes(store)["verslag-b.txt"] == ("leerlingdossier_vertrokken", date(2027, 7, 18), "ok")


def test_without_lifecycle_columns_the_school_year_rule_stays(tmp_path):
    settings = school(tmp_path, "roepnaam;tussenvoegsel;achternaam\nSanne;de;Vries\nJaylinn;;Zwartkruis\n")
    store = Store(settings.database_url)
    recompute_retention(store, settings, today=TODAY.date())
    assert {v[0] for v in outcomes(store).values()} == {"zorgmappen"}


def test_an_unreadable_roster_keeps_what_the_leaving_dates_decided(tmp_path):
    settings = school(tmp_path, ROSTER)
    store = Store(settings.database_url)
    recompute_retention(store, settings, today=TODAY.date())
    decided = outcomes(store)
    (tmp_path / "leerlingen.csv").rename(tmp_path / "weg.csv")
    recompute_retention(store, settings, today=TODAY.date())
    assert outcomes(store) == decided
    (tmp_path / "weg.csv").rename(tmp_path / "leerlingen.csv")
    assert store.meta_get("retention_fingerprint") == ""  # the next pass with the roster is a full one
    recompute_retention(store, settings, today=TODAY.date())
    assert outcomes(store) == decided and store.meta_get("retention_fingerprint")
