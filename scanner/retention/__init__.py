"""Retention: when stored student data has to go, decided from metadata only.

Public interface (imported by the pipeline, the reports and the detectors)::

    from scanner.retention import RetentionSettings, RetentionPolicy, ItemFacts
    policy = RetentionPolicy(settings.retention)           # one per run
    decision = policy.evaluate(ItemFacts(...))              # RetentionDecision
    decision.status, decision.due_date, decision.action, decision.explain("nl")

Categories and their sensitivity live on the ground floor, :mod:`scanner.core.categories`
(detectors and reports need them too); action labels in :mod:`scanner.retention.actions`,
school-year arithmetic in :mod:`scanner.retention.schoolyear`.
"""

from scanner.retention.actions import ACTIONS, action_label
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
    "FALSE_POSITIVE",
    "LEGAL_HOLD",
    "Exemptions",
    "ItemFacts",
    "RetentionDecision",
    "RetentionPolicy",
    "RetentionSettings",
    "Rule",
    "RuleMatch",
    "Term",
    "action_label",
    "school_year_end",
    "school_year_of",
]
