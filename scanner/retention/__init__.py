"""Retention: when stored student data has to go, decided from metadata only.

Public interface (imported by the pipeline, the reports and the detectors)::

    from scanner.retention import RetentionSettings, RetentionPolicy, ItemFacts
    policy = RetentionPolicy(settings.retention)           # one per run
    decision = policy.evaluate(ItemFacts(...))              # RetentionDecision
    decision.status, decision.due_date, decision.action, decision.explain("nl")

Categories and their sensitivity live in :mod:`scanner.retention.categories`, action labels
in :mod:`scanner.retention.actions`, school-year arithmetic in :mod:`scanner.retention.schoolyear`.
"""

from scanner.retention.actions import ACTIONS, action_label
from scanner.retention.categories import (
    CATEGORIES,
    CATEGORY_ORDER,
    SPECIAL_CATEGORIES,
    Category,
    Sensitivity,
    category_label,
    item_sensitivity,
    sort_categories,
)
from scanner.retention.policy import (
    FALSE_POSITIVE,
    LEGAL_HOLD,
    ItemFacts,
    RetentionDecision,
    RetentionPolicy,
)
from scanner.retention.schoolyear import school_year_end, school_year_of
from scanner.retention.settings import Exemptions, RetentionSettings, Rule, RuleMatch, Term

__all__ = [
    "ACTIONS",
    "CATEGORIES",
    "CATEGORY_ORDER",
    "FALSE_POSITIVE",
    "LEGAL_HOLD",
    "SPECIAL_CATEGORIES",
    "Category",
    "Exemptions",
    "ItemFacts",
    "RetentionDecision",
    "RetentionPolicy",
    "RetentionSettings",
    "Rule",
    "RuleMatch",
    "Sensitivity",
    "Term",
    "action_label",
    "category_label",
    "item_sensitivity",
    "school_year_end",
    "school_year_of",
    "sort_categories",
]
