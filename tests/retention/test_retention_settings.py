"""Validation of the ``retention:`` section and the default YAML block."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from scanner.retention import RetentionSettings
from scanner.retention.settings import Term

PROJECT_DEFAULT = Path(__file__).resolve().parents[2] / "config" / "default.yaml"

RULE = {"id": "r", "term": {"after": "received", "days": 1}, "action": "verwijderen"}


def invalid(data: dict, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        RetentionSettings.model_validate(data)
    assert fragment in str(info.value), str(info.value)


def test_unknown_keys_are_errors_at_every_level() -> None:
    invalid({"bewaartermijn": 3}, "bewaartermijn")
    invalid({"exemptions": {"legal_hold_label": ["x"]}}, "legal_hold_label")
    invalid({"rules": [{**RULE, "actie": "verwijderen"}]}, "actie")
    invalid({"rules": [{**RULE, "match": {"folder": ["*/x/*"]}}]}, "folder")
    invalid({"rules": [{**RULE, "term": {"after": "received", "weeks": 4}}]}, "weeks")


def test_terms_must_be_one_kind() -> None:
    with pytest.raises(ValidationError, match="immediately"):
        Term(immediately=True, days=3)
    with pytest.raises(ValidationError, match="after: school_year_end"):
        Term(days=3)
    with pytest.raises(ValidationError):
        Term(after="leaving", years=2)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Term(after="received", days=-1)


def test_rule_validation() -> None:
    invalid(
        {"rules": [{**RULE, "match": {"categories": ["gezondhied"]}}]},
        "onbekende categorie gezondhied",
    )
    invalid({"rules": [{**RULE, "action": "weggooien"}]}, "onbekende actie 'weggooien'")
    invalid({"rules": [{**RULE, "action": "geen"}]}, "onbekende actie 'geen'")
    invalid({"rules": [{**RULE, "id": "Mijn Regel"}]}, "kleine letters")
    invalid({"rules": [{**RULE, "id": "geen_regel"}]}, "gereserveerd")
    invalid({"rules": [RULE, RULE]}, "dubbel")
    invalid({"extra_rules": [{**RULE, "id": "camerabeelden"}]}, "dubbel")
    invalid({"disabled_rules": ["bestaat_niet"]}, "bestaat_niet")
    invalid({"rules": [{**RULE, "match": {"folders": ["  "]}}]}, "leeg mappatroon")
    invalid({"rules": [{**RULE, "match": {"min_sensitivity": "extreem"}}]}, "min_sensitivity")
    invalid({"rules": [{**RULE, "match": {"kinds": ["chat"]}}]}, "kinds")


def test_calendar_validation() -> None:
    invalid({"timezone": "Europe/Amsterdamm"}, "onbekende tijdzone")
    invalid({"school_year_start": "8-1"}, "MM-DD")
    invalid({"school_year_start": "02-29"}, "ongeldige startdag")
    invalid({"due_soon_days": -1}, "due_soon_days")
    s = RetentionSettings(school_year_start="09-01")
    assert (s.start_month, s.start_day) == (9, 1)


def test_settings_are_immutable() -> None:
    with pytest.raises(ValidationError):
        RetentionSettings().due_soon_days = 5  # type: ignore[misc]


def test_yaml_round_trip() -> None:
    original = RetentionSettings()
    text = yaml.safe_dump(
        {"retention": original.model_dump(mode="json")}, allow_unicode=True, sort_keys=False
    )
    assert RetentionSettings.model_validate(yaml.safe_load(text)["retention"]) == original
    changed = RetentionSettings.model_validate(
        {
            "due_soon_days": 14,
            "disabled_rules": ["camerabeelden"],
            "extra_rules": [
                {**RULE, "match": {"min_sensitivity": "bijzonder", "folders": ["*/ib/*"]}}
            ],
        }
    )
    text = yaml.safe_dump(changed.model_dump(mode="json"), allow_unicode=True)
    assert RetentionSettings.model_validate(yaml.safe_load(text)) == changed


def test_project_default_config_uses_the_same_block() -> None:
    """config/default.yaml carries exactly the defaults of the pydantic models, so a
    configuration without a retention section and the shipped defaults agree."""
    data = yaml.safe_load(PROJECT_DEFAULT.read_text(encoding="utf-8")) or {}
    assert "retention" in data
    assert RetentionSettings.model_validate(data["retention"] or {}) == RetentionSettings()
