"""The retention policy: each default rule, how rules combine, exemptions and status windows."""

from __future__ import annotations

import pickle
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from scanner.core.model import ItemKind, RetentionStatus
from scanner.retention import ItemFacts, RetentionPolicy, RetentionSettings
from scanner.retention.pupils import PupilFacts
from tests.retention.retention_helpers import at, facts

OK, SOON, OVERDUE = RetentionStatus.OK, RetentionStatus.DUE_SOON, RetentionStatus.OVERDUE


def with_rules(*rules: dict, **kw: object) -> RetentionPolicy:
    settings = RetentionSettings.model_validate({"rules": list(rules), **kw})
    return RetentionPolicy(settings, today=date(2025, 9, 10))


# --- the default rules, one by one --------------------------------------------------------


def test_mail_with_student_data_is_due_60_days_after_the_school_year(
    policy: RetentionPolicy,
) -> None:
    d = policy.evaluate(facts(when=at(2025, 3, 3)))
    assert (d.rule_id, d.due_date, d.action) == (
        "mail_leerlinggegevens",
        date(2025, 9, 29),
        "dossier_en_verwijderen",
    )
    assert d.status is SOON  # 10 September is within 30 days of 29 September
    assert d.school_year == (2024, 2025) and d.school_year_end == date(2025, 7, 31)


def test_mail_received_on_1_august_belongs_to_the_next_school_year(policy: RetentionPolicy) -> None:
    assert policy.evaluate(facts(when=at(2025, 7, 31, 23, 59))).due_date == date(2025, 9, 29)
    assert policy.evaluate(facts(when=at(2025, 8, 1, 0, 1))).due_date == date(2026, 9, 29)
    # 31 July 22:30 UTC is already 1 August in Amsterdam.
    late = datetime(2025, 7, 31, 22, 30, tzinfo=UTC)
    assert policy.evaluate(facts(when=late)).due_date == date(2026, 9, 29)


def test_verzuim_in_a_mailbox_goes_to_the_las(policy: RetentionPolicy) -> None:
    d = policy.evaluate(facts(categories=("verzuim",), when=at(2024, 11, 5)))
    assert (d.rule_id, d.action, d.due_date, d.status) == (
        "verzuim_mail",
        "las_en_verwijderen",
        date(2025, 9, 29),
        SOON,
    )


def test_verzuim_files_are_kept_five_years(policy: RetentionPolicy) -> None:
    d = policy.evaluate(
        facts(kind="file", folder="Administratie", categories=("verzuim",), when=at(2020, 3, 1))
    )
    assert (d.rule_id, d.due_date, d.action, d.status) == (
        "verzuim_bestanden",
        date(2025, 7, 31),
        "las_en_verwijderen",
        OVERDUE,
    )


def test_zorg_share_is_due_two_years_after_the_school_year(policy: RetentionPolicy) -> None:
    for folder in ["Zorg", "Gedeeld/Zorg", "Gedeeld\\ZORG\\OPP", "/Gedeeld/Zorg/"]:
        d = policy.evaluate(facts(kind="file", folder=folder, when=at(2023, 3, 3)))
        assert (d.rule_id, d.due_date, d.status) == ("zorgmappen", date(2025, 7, 31), OVERDUE), (
            folder
        )
    # A folder that merely contains the word is not a zorg folder: the file fallback applies.
    d = policy.evaluate(facts(kind="file", folder="Gedeeld/Zorgeloos", when=at(2023, 3, 3)))
    assert d.rule_id == "bestanden_leerlinggegevens"


def test_files_with_student_data_fall_back_to_two_years(policy: RetentionPolicy) -> None:
    d = policy.evaluate(
        facts(kind="file", folder="Gedeeld/Klassen", categories=("cijfers",), when=at(2024, 1, 9))
    )
    assert (d.rule_id, d.due_date, d.status, d.action) == (
        "bestanden_leerlinggegevens",
        date(2026, 7, 31),
        OK,
        "dossier_en_verwijderen",
    )


def test_verwijderde_items_30_days(policy: RetentionPolicy) -> None:
    for folder in [
        "Verwijderde items",
        "verwijderde items/oud",
        "Deleted Items",
        "[Gmail]/Prullenbak",
        "INBOX/Trash",
    ]:
        d = policy.evaluate(facts(folder=folder, when=at(2025, 9, 1)))
        assert (d.rule_id, d.due_date, d.action) == (
            "verwijderde_items",
            date(2025, 10, 1),
            "verwijderen",
        ), folder
        assert d.status is SOON
    old = policy.evaluate(facts(folder="Verwijderde items", when=at(2025, 8, 10)))
    assert (old.due_date, old.status) == (date(2025, 9, 9), OVERDUE)


def test_id_document_is_due_immediately(policy: RetentionPolicy) -> None:
    d = policy.evaluate(
        facts(categories=("identificatie", "zorg"), entities=("NL_ID_DOCUMENT", "PERSON"))
    )
    assert (d.rule_id, d.status, d.action, d.due_date) == (
        "id_documenten",
        OVERDUE,
        "verwijderen",
        date(2025, 3, 3),
    )
    # Immediately means immediately, even when the item is dated after "today" (clock skew).
    future = policy.evaluate(
        facts(categories=("identificatie",), entities=("NL_ID_DOCUMENT",), when=at(2025, 12, 1))
    )
    assert future.status is OVERDUE


def test_a_bsn_alone_is_not_an_id_document(policy: RetentionPolicy) -> None:
    d = policy.evaluate(facts(categories=("identificatie",), entities=("NL_BSN",)))
    assert d.rule_id == "mail_leerlinggegevens"


def test_camera_images_four_weeks_even_without_detected_student_data(
    policy: RetentionPolicy,
) -> None:
    d = policy.evaluate(
        facts(
            kind="file",
            folder="Beveiliging/Camerabeelden/2025",
            categories=(),
            entities=(),
            student_data=False,
            when=at(2025, 8, 1),
        )
    )
    assert (d.rule_id, d.due_date, d.status, d.action) == (
        "camerabeelden",
        date(2025, 8, 29),
        OVERDUE,
        "verwijderen",
    )
    # Mail folders named "camera" are not camera images.
    assert policy.evaluate(
        facts(folder="Camera", categories=(), entities=(), student_data=False)
    ).rule_id == ("geen_leerlinggegevens")


def test_items_without_student_data_are_ok_without_due_date(policy: RetentionPolicy) -> None:
    for f in [
        facts(categories=(), entities=(), student_data=False, when=at(2001, 1, 1)),
        facts(
            folder="Verwijderde items",
            categories=(),
            entities=(),
            student_data=False,
            when=at(2001, 1, 1),
        ),
        facts(kind="file", folder="Zorg", student_data=False, when=at(2001, 1, 1)),
    ]:
        d = policy.evaluate(f)
        assert (d.status, d.due_date, d.rule_id, d.action) == (
            OK,
            None,
            "geen_leerlinggegevens",
            "geen",
        )


# --- how rules combine --------------------------------------------------------------------


def test_strictest_rule_wins_regardless_of_order() -> None:
    long = {
        "id": "lang",
        "match": {"categories": ["zorg"]},
        "term": {"after": "school_year_end", "years": 2},
        "action": "dossier_en_verwijderen",
    }
    short = {
        "id": "kort",
        "match": {"kinds": ["mail"]},
        "term": {"after": "received", "days": 10},
        "action": "verwijderen",
    }
    for order in [(long, short), (short, long)]:
        d = with_rules(*order).evaluate(facts(when=at(2025, 3, 3)))
        assert (d.rule_id, d.due_date, d.also_matched) == ("kort", date(2025, 3, 13), ("lang",))


def test_ties_go_to_the_rule_listed_first() -> None:
    a = {
        "id": "a",
        "match": {"kinds": ["mail"]},
        "term": {"after": "school_year_end", "days": 60},
        "action": "las_en_verwijderen",
    }
    b = {
        "id": "b",
        "match": {"categories": ["zorg"]},
        "term": {"after": "school_year_end", "days": 60},
        "action": "dossier_en_verwijderen",
    }
    assert with_rules(a, b).evaluate(facts()).rule_id == "a"
    assert with_rules(b, a).evaluate(facts()).rule_id == "b"


def test_fallback_rules_only_count_when_nothing_else_applies() -> None:
    fallback = {
        "id": "vangnet",
        "match": {"kinds": ["file"]},
        "term": {"after": "received", "days": 1},
        "action": "verwijderen",
        "fallback": True,
    }
    specific = {
        "id": "verzuim",
        "match": {"categories": ["verzuim"]},
        "term": {"after": "school_year_end", "years": 5},
        "action": "las_en_verwijderen",
    }
    policy = with_rules(fallback, specific)
    assert policy.evaluate(facts(kind="file", categories=("verzuim",))).rule_id == "verzuim"
    assert policy.evaluate(facts(kind="file", categories=("zorg",))).rule_id == "vangnet"


def test_no_applicable_rule_means_ok_without_due_date() -> None:
    only_files = {
        "id": "f",
        "match": {"kinds": ["file"]},
        "term": {"after": "received", "days": 1},
        "action": "verwijderen",
    }
    d = with_rules(only_files).evaluate(facts(kind="mail", when=at(2001, 1, 1)))
    assert (d.status, d.due_date, d.rule_id, d.action) == (OK, None, "geen_regel", "geen")


def test_match_conditions_all_must_hold() -> None:
    rule = {
        "id": "r",
        "match": {
            "kinds": ["mail"],
            "source_kinds": ["graph_mail"],
            "sources": ["m365"],
            "folders": ["*/ib/*"],
            "labels": ["Leerlingzaken"],
            "entities": ["NL_BSN"],
        },
        "term": {"after": "received", "days": 1},
        "action": "verwijderen",
    }
    policy = with_rules(rule)
    good = {
        "source_kind": "graph_mail",
        "source": "m365",
        "folder": "Inbox/IB",
        "labels": ("leerlingzaken",),
        "entities": ("NL_BSN", "PERSON"),
    }
    assert policy.evaluate(facts(**good)).rule_id == "r"
    for key, bad in [
        ("source_kind", "imap"),
        ("source", "other"),
        ("folder", "Inbox/IBAN"),
        ("labels", ("Rood",)),
        ("entities", ("PERSON",)),
    ]:
        assert policy.evaluate(facts(**{**good, key: bad})).rule_id == "geen_regel", key
    assert policy.evaluate(facts(kind="file", **good)).rule_id == "geen_regel"


def test_min_sensitivity() -> None:
    rule = {
        "id": "gevoelig",
        "match": {"min_sensitivity": "hoog"},
        "term": {"after": "received", "days": 1},
        "action": "verwijderen",
    }
    policy = with_rules(rule)
    assert (
        policy.evaluate(facts(categories=("gezondheid",))).rule_id == "gevoelig"
    )  # bijzonder >= hoog
    assert policy.evaluate(facts(categories=("thuissituatie",))).rule_id == "gevoelig"
    assert policy.evaluate(facts(categories=("cijfers", "contactgegevens"))).rule_id == "geen_regel"
    assert policy.evaluate(facts(categories=("cijfers", "zorg"))).rule_id == "gevoelig"
    assert (
        policy.evaluate(facts(categories=("iets_nieuws",))).rule_id == "geen_regel"
    )  # unknown = normaal
    assert policy.evaluate(facts(categories=())).rule_id == "geen_regel"


def test_extra_and_disabled_rules() -> None:
    settings = RetentionSettings.model_validate(
        {
            "extra_rules": [
                {
                    "id": "ib_map",
                    "match": {"folders": ["*/ib/*"]},
                    "term": {"after": "received", "days": 7},
                    "action": "verwijderen",
                }
            ],
            "disabled_rules": ["verwijderde_items"],
        }
    )
    policy = RetentionPolicy(settings, today=date(2025, 9, 10))
    assert policy.evaluate(facts(folder="IB", when=at(2025, 9, 1))).rule_id == "ib_map"
    assert (
        policy.evaluate(facts(folder="Verwijderde items", when=at(2025, 3, 3))).rule_id
        == "mail_leerlinggegevens"
    )
    assert len(settings.active_rules()) == len(settings.rules)  # one added, one removed


# --- exemptions ---------------------------------------------------------------------------


def test_legal_hold_by_label_folder_or_owner_mark(policy: RetentionPolicy) -> None:
    id_copy = {
        "categories": ("identificatie",),
        "entities": ("NL_ID_DOCUMENT",),
        "when": at(2001, 1, 1),
    }
    cases = [
        (facts(labels=("Schoonschip: bewaarplicht",), **id_copy), "label"),
        (facts(labels=("Blauw", "LEGAL HOLD"), **id_copy), "label"),
        (facts(labels=("$Schoonschip_Bewaarplicht",), **id_copy), "label"),  # IMAP keyword form
        (facts(folder="Archief/Bewaarplicht/2020", **id_copy), "folder"),
        (facts(owner_mark="legal_hold", **id_copy), "owner_mark"),
    ]
    for f, via in cases:
        d = policy.evaluate(f)
        assert (d.status, d.due_date, d.exempt_reason, d.exempt_via, d.action, d.rule_id) == (
            OK,
            None,
            "legal_hold",
            via,
            "geen",
            "uitzondering_bewaarplicht",
        ), f


def test_false_positive_by_label_or_owner_mark(policy: RetentionPolicy) -> None:
    old = {"when": at(2001, 1, 1), "folder": "Verwijderde items"}
    for f, via in [
        (facts(labels=("Schoonschip: geen leerlinggegevens",), **old), "label"),
        (facts(labels=("Schoonschip_geen_leerlinggegevens",), **old), "label"),
        (facts(owner_mark="false_positive", **old), "owner_mark"),
        (
            facts(kind="file", folder="Camera", owner_mark="false_positive", student_data=False),
            "owner_mark",
        ),
    ]:
        d = policy.evaluate(f)
        assert (d.status, d.due_date, d.exempt_reason, d.exempt_via) == (
            OK,
            None,
            "false_positive",
            via,
        ), f


def test_legal_hold_beats_false_positive(policy: RetentionPolicy) -> None:
    d = policy.evaluate(
        facts(labels=("Schoonschip: geen leerlinggegevens", "Legal hold"), when=at(2001, 1, 1))
    )
    assert d.exempt_reason == "legal_hold"


def test_owner_marks_can_be_ignored_and_unknown_marks_are_ignored() -> None:
    settings = RetentionSettings.model_validate({"exemptions": {"honour_owner_marks": False}})
    policy = RetentionPolicy(settings, today=date(2025, 9, 10))
    assert policy.evaluate(facts(owner_mark="legal_hold", when=at(2001, 1, 1))).status is OVERDUE
    default = RetentionPolicy(RetentionSettings(), today=date(2025, 9, 10))
    assert default.evaluate(facts(owner_mark="iets_anders", when=at(2001, 1, 1))).status is OVERDUE


def test_labels_that_are_not_exemptions_change_nothing(policy: RetentionPolicy) -> None:
    assert policy.evaluate(facts(labels=("Rood", "Belangrijk"))) == policy.evaluate(facts())


# --- status windows and "today" -----------------------------------------------------------


def test_due_soon_window_boundaries() -> None:
    policy = RetentionPolicy(RetentionSettings())
    f = facts(when=at(2025, 3, 3))  # due 29 September 2025
    due = date(2025, 9, 29)
    assert policy.evaluate(f, today=due - timedelta(days=31)).status is OK
    assert policy.evaluate(f, today=due - timedelta(days=30)).status is SOON
    assert policy.evaluate(f, today=due).status is SOON
    assert policy.evaluate(f, today=due + timedelta(days=1)).status is OVERDUE


def test_due_soon_window_is_configurable() -> None:
    policy = RetentionPolicy(RetentionSettings(due_soon_days=0))
    f = facts(when=at(2025, 3, 3))
    assert policy.evaluate(f, today=date(2025, 9, 28)).status is OK
    assert policy.evaluate(f, today=date(2025, 9, 29)).status is SOON
    assert policy.evaluate(f, today=date(2025, 9, 30)).status is OVERDUE


def test_today_is_fixed_per_policy_and_overridable_per_call() -> None:
    policy = RetentionPolicy(RetentionSettings(), today=date(2025, 1, 1))
    f = facts(when=at(2024, 3, 3))  # due 29 September 2024
    assert policy.today == date(2025, 1, 1)
    assert policy.evaluate(f).status is OVERDUE
    assert policy.evaluate(f, today=date(2024, 6, 1)).status is OK
    assert RetentionPolicy(RetentionSettings()).today == datetime.now(policy._tz).date()


def test_item_kind_enum_is_accepted(policy: RetentionPolicy) -> None:
    assert policy.evaluate(facts(kind=ItemKind.FILE, folder="Zorg")).rule_id == "zorgmappen"


def test_school_year_follows_a_configured_start_day() -> None:
    settings = RetentionSettings.model_validate({"school_year_start": "01-01"})
    d = RetentionPolicy(settings, today=date(2025, 9, 10)).evaluate(facts(when=at(2025, 6, 1)))
    assert (d.school_year, d.school_year_end, d.due_date) == (
        (2025, 2026),
        date(2025, 12, 31),
        date(2026, 3, 1),
    )


def test_naive_item_dates_do_not_stop_the_run(policy: RetentionPolicy) -> None:
    d = policy.evaluate(facts(when=datetime(2025, 7, 31, 23, 30)))
    assert d.due_date == date(2025, 9, 29)


def test_a_missing_date_does_not_stop_the_run(policy: RetentionPolicy) -> None:
    d = policy.evaluate(replace(facts(), date=None))  # type: ignore[arg-type]
    assert (d.status, d.due_date, d.rule_id) == (OK, None, "geen_datum")
    assert "geen datum" in d.explain("nl") and "no date" in d.explain("en")
    id_copy = replace(facts(categories=("identificatie",), entities=("NL_ID_DOCUMENT",)), date=None)
    d = policy.evaluate(id_copy)  # type: ignore[arg-type]
    assert (d.status, d.due_date, d.rule_id) == (OVERDUE, date(2025, 9, 10), "id_documenten")
    assert d.item_date is None and "Datum van het item: onbekend." in d.explain("nl")


def test_decisions_and_settings_pickle(policy: RetentionPolicy) -> None:
    d = policy.evaluate(facts())
    assert pickle.loads(pickle.dumps(d)) == d
    assert pickle.loads(pickle.dumps(policy.settings)) == policy.settings


def test_folder_cache_gives_the_same_answers_when_full() -> None:
    from scanner.retention import policy as policy_module

    policy = RetentionPolicy(RetentionSettings(), today=date(2025, 9, 10))
    first = policy.evaluate(facts(folder="Verwijderde items"))
    for i in range(policy_module._FOLDER_CACHE_MAX + 5):
        policy._folder_info(f"map{i}")
    assert len(policy._folder_cache) <= policy_module._FOLDER_CACHE_MAX
    assert policy.evaluate(facts(folder="Verwijderde items")) == first


# --- properties ---------------------------------------------------------------------------

CATS = ["gezondheid", "zorg", "verzuim", "identificatie", "cijfers", "contactgegevens", "onbekend"]
FOLDERS = [
    "Inbox",
    "Verwijderde items",
    "Gedeeld/Zorg",
    "Camera",
    "Bewaarplicht",
    "Archief/2019",
    "",
]
ENTITIES = ["PERSON", "NL_BSN", "NL_ID_DOCUMENT", "EMAIL_ADDRESS"]

item_facts = st.builds(
    facts,
    kind=st.sampled_from(["mail", "file"]),
    folder=st.sampled_from(FOLDERS),
    when=st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2040, 1, 1),
        timezones=st.just(UTC),
    ),
    categories=st.lists(st.sampled_from(CATS), max_size=3).map(tuple),
    entities=st.lists(st.sampled_from(ENTITIES), max_size=3).map(tuple),
    student_data=st.booleans(),
    owner_mark=st.sampled_from([None, None, None, "legal_hold", "false_positive"]),
)
days = st.dates(min_value=date(1999, 1, 1), max_value=date(2050, 1, 1))
RANK = {OK: 0, SOON: 1, OVERDUE: 2}
DEFAULT_POLICY = RetentionPolicy(RetentionSettings(), today=date(2025, 9, 10))


@given(item_facts, days)
@hsettings(max_examples=300)
def test_due_date_is_never_before_the_item_date(f: ItemFacts, today: date) -> None:
    d = DEFAULT_POLICY.evaluate(f, today=today)
    if d.due_date is not None:
        assert d.item_date is not None
        assert d.due_date >= d.item_date
        assert d.due_date >= f.date.astimezone(DEFAULT_POLICY._tz).date()
    else:
        assert d.status is OK


@given(item_facts, days, days)
@hsettings(max_examples=300)
def test_status_never_goes_back_as_time_passes(f: ItemFacts, day1: date, day2: date) -> None:
    early, late = sorted([day1, day2])
    a = DEFAULT_POLICY.evaluate(f, today=early)
    b = DEFAULT_POLICY.evaluate(f, today=late)
    assert RANK[a.status] <= RANK[b.status]
    assert (a.rule_id, a.due_date) == (b.rule_id, b.due_date)  # only the status depends on today


@given(item_facts)
def test_rule_order_does_not_change_the_due_date(f: ItemFacts) -> None:
    base = RetentionSettings()
    reversed_settings = base.model_copy(update={"rules": list(reversed(base.rules))})
    a = DEFAULT_POLICY.evaluate(f)
    b = RetentionPolicy(reversed_settings, today=date(2025, 9, 10)).evaluate(f)
    assert (a.due_date, a.status) == (b.due_date, b.status)


TITLES = ["", "Diplomaregister 2024.xlsx", "cijferlijst examen 5v", "Verwijzing speciaal onderwijs",
          "notulen", "REGISTER van de diploma's", "toelaatbaarheidsverklaring", "aanvraag TLV 3b",
          "cijferlijst", "Überweisung register diploma", "KELVIN \u212a register diploma", "verwijzing"]
remembered_facts = st.builds(
    replace, item_facts, title=st.sampled_from(TITLES),
    labels=st.sampled_from([(), ("bewaarplicht",), ("Fout positief",), ("archief",)]),
    pupil=st.sampled_from([None, PupilFacts("enrolled", None, "a"), PupilFacts("left", date(2024, 7, 1), "b"),
                           PupilFacts("left", date(2021, 1, 5), "c"), PupilFacts("unknown", None, "d")]))
SHARED_POLICY = RetentionPolicy(RetentionSettings(), today=date(2025, 9, 10))


@given(st.lists(remembered_facts, min_size=1, max_size=8), days)
@hsettings(max_examples=300)
def test_remembered_rule_matches_decide_as_a_fresh_policy(items: list[ItemFacts], today: date) -> None:
    """The policy remembers which rules apply per combination of facts (not per item, not per
    date, of the title only which patterns it matches): a policy that has judged many items
    decides each one as a new policy does."""
    for f in items:
        fresh = RetentionPolicy(RetentionSettings(), today=date(2025, 9, 10))
        assert SHARED_POLICY.evaluate(f, today=today) == fresh.evaluate(f, today=today)
        assert SHARED_POLICY.evaluate(f) == fresh.evaluate(f)


@given(st.lists(remembered_facts, min_size=1, max_size=8), days)
@hsettings(max_examples=300)
def test_the_stored_outcome_is_the_decisions(items: list[ItemFacts], today: date) -> None:
    """:meth:`RetentionPolicy.outcome` (what the retention pass and the write-time judge
    store) holds the fields of :meth:`RetentionPolicy.evaluate`'s decision."""
    policy = RetentionPolicy(RetentionSettings(), today=today)
    for f in items:
        d = policy.evaluate(f)
        assert policy.outcome(f) == (d.status.value, d.due_date, d.rule_id, d.action, d.exempt_reason)
