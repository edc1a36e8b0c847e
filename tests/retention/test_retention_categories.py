"""Category metadata and action labels that reports and detectors import."""

from __future__ import annotations

from scanner.core.categories import (
    CATEGORIES,
    CATEGORY_ORDER,
    SPECIAL_CATEGORIES,
    Sensitivity,
    category_label,
    item_sensitivity,
    sort_categories,
)
from scanner.retention import ACTIONS, action_label

DESIGN_KEYS = {
    "identificatie",
    "contactgegevens",
    "gezondheid",
    "zorg",
    "verzuim",
    "thuissituatie",
    "veiligheid",
    "religie",
    "etniciteit",
    "cijfers",
}


def test_all_design_categories_exist_with_labels() -> None:
    assert set(CATEGORIES) == DESIGN_KEYS
    for key, cat in CATEGORIES.items():
        assert cat.key == key and cat.label_nl and cat.label_en
        assert cat.order == CATEGORY_ORDER.index(key)


def test_special_categories_are_art9_and_come_first() -> None:
    assert {"gezondheid", "religie", "etniciteit"} == SPECIAL_CATEGORIES
    assert set(CATEGORY_ORDER[:3]) == SPECIAL_CATEGORIES
    ranks = [CATEGORIES[k].sensitivity.rank for k in CATEGORY_ORDER]
    assert ranks == sorted(ranks, reverse=True)
    for key in ["zorg", "veiligheid", "thuissituatie", "identificatie"]:
        assert CATEGORIES[key].sensitivity is Sensitivity.HOOG
    for key in ["verzuim", "cijfers", "contactgegevens"]:
        assert CATEGORIES[key].sensitivity is Sensitivity.NORMAAL


def test_item_sensitivity_and_sorting() -> None:
    assert item_sensitivity([]) is None
    assert item_sensitivity(["cijfers", "zorg"]) is Sensitivity.HOOG
    assert item_sensitivity(["contactgegevens", "religie"]) is Sensitivity.BIJZONDER
    assert item_sensitivity(["nieuw"]) is Sensitivity.NORMAAL
    assert sort_categories(["cijfers", "zzz", "gezondheid", "aaa", "zorg", "cijfers"]) == [
        "gezondheid",
        "zorg",
        "cijfers",
        "aaa",
        "zzz",
    ]


def test_labels() -> None:
    assert category_label("gezondheid") == "gezondheid"
    assert category_label("gezondheid", "en") == "health"
    assert category_label("nieuw", "en") == "nieuw"
    assert Sensitivity.BIJZONDER.label("en").startswith("special category")
    assert set(ACTIONS) == {"dossier_en_verwijderen", "las_en_verwijderen", "verwijderen", "archiveren", "geen"}
    assert action_label("dossier_en_verwijderen") == "in het leerlingdossier zetten en verwijderen"
    assert action_label("las_en_verwijderen") == "in het LAS zetten en verwijderen"
    assert action_label("verwijderen", "en") == "delete"
    assert action_label("onbekend") == "onbekend"


def test_vocabulary_agrees_with_the_detectors() -> None:
    """The detectors emit these keys and entity names; a rename on either side must show here."""
    from detectors import entities
    from scanner.retention import RetentionSettings

    emitted = set(entities.LEXICON_CATEGORIES) | {c for c in entities.ENTITY_CATEGORY.values() if c}
    assert emitted == set(CATEGORIES)
    id_rule = next(r for r in RetentionSettings().rules if r.id == "id_documenten")
    assert set(id_rule.match.entities) <= set(entities.ALL_ENTITIES)
    assert entities.ENTITY_CATEGORY[entities.NL_ID_DOCUMENT] in id_rule.match.categories
