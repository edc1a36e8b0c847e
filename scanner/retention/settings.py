"""The ``retention:`` section of the YAML: rules, exemptions and the school-year calendar.

How rules combine (see also :mod:`scanner.retention.policy`):

* Every rule whose ``match`` conditions all hold applies to an item. Within one condition the
  listed values are alternatives (any-of); an empty list means "no condition".
* When several rules apply, the **strictest wins**: the rule with the earliest due date. On a
  tie, the rule listed first wins (so list specific rules, such as verzuim with its LAS action,
  before general ones with the same term). Strictest-wins makes the outcome independent of
  rule order, so adding a rule can never loosen an existing one (an ID copy stays "remove at
  once" whatever else is configured) -- data minimisation as the default.
* Rules marked ``fallback: true`` are only considered when no ordinary rule applies. They are
  the catch-all per item kind (mail, file) and let a specific rule be *longer* than the
  general one, e.g. verzuim files kept 5 years while other files go after 2.
* Items without student data are not subject to retention (status ``ok``, no due date),
  except for rules with ``require_student_data: false`` (camera images: personal data by
  nature, although no text detector can see it).
* Rules with ``action: archiveren`` (Archiefwet records: diploma register, exam grade lists,
  leerplicht exemptions) beat every other rule: such a record is never proposed for
  deletion. Among them the strictest wins as usual.
* Exemptions beat every rule: a legal hold (label or folder) or an owner's false-positive
  mark makes the item ``ok`` without a due date.

The default rules are read from the ``retention:`` block of ``config/default.yaml``; the
scalar defaults below equal that block (a test keeps them equal).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator, model_validator

from scanner.core.categories import CATEGORIES, Sensitivity
from scanner.core.config_base import StrictModel
from scanner.core.dates import DEFAULT_TIMEZONE, check_time_zone
from scanner.defaults import load_defaults
from scanner.retention.actions import ACTIONS, GEEN
from scanner.retention.schoolyear import check_start

RESERVED_RULE_IDS = frozenset(
    {
        "geen_leerlinggegevens",
        "geen_regel",
        "uitzondering_bewaarplicht",
        "uitzondering_fout_positief",
    }
)
"""Rule ids the policy itself uses in decisions; configured rules may not take them."""

_RULE_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
_START = re.compile(r"^(\d{2})-(\d{2})$")


class Term(StrictModel):
    """How long an item may be kept once a rule applies.

    * ``{after: school_year_end, years: N, days: G}``: until N years and G days after the last
      day of the school year the item is dated in (31 July by default).
    * ``{after: received, days: N}``: until N days (and ``years``) after the item's date.
    * ``{immediately: true}``: must not be kept at all; overdue at once.
    * ``{after: pupil_left, years: N}``: until N years (and ``days``) after the day the pupil
      left school (the latest leaving date of the pupils the item names). The rule only
      applies to items whose roster matches are all pupils who left.
    * ``{while_enrolled: true}``: kept as long as a pupil it names is enrolled: no due date.
      The rule only applies to items naming an enrolled pupil; any other applying rule with
      a due date is stricter and wins (an ID copy still goes at once).

    The resulting due date is the last day the item may still exist; it is overdue the day after.
    """

    after: Literal["school_year_end", "received", "pupil_left"] | None = None
    years: int = Field(default=0, ge=0, le=100)
    days: int = Field(default=0, ge=0, le=36500)
    immediately: bool = False
    while_enrolled: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> Term:
        for flag in ("immediately", "while_enrolled"):
            if getattr(self, flag) and (self.after is not None or self.years or self.days
                                        or (self.immediately and self.while_enrolled)):
                raise ValueError(
                    f"'{flag}: true' gaat niet samen met 'after', 'years', 'days' of een andere "
                    f"termijn / '{flag}: true' cannot be combined with 'after', 'years', "
                    "'days' or another term"
                )
        if not (self.immediately or self.while_enrolled) and self.after is None:
            raise ValueError(
                "geef 'after: school_year_end', 'after: received', 'after: pupil_left', "
                "'immediately: true' of 'while_enrolled: true' / give 'after: school_year_end', "
                "'after: received', 'after: pupil_left', 'immediately: true' or "
                "'while_enrolled: true'"
            )
        return self

    @property
    def pupil_state(self) -> str | None:
        """The pupil state this term needs (``left``/``enrolled``), ``None``: any."""
        if self.after == "pupil_left":
            return "left"
        if self.while_enrolled:
            return "enrolled"
        return None


class Text(StrictModel):
    """A short human description in Dutch and (optionally) English."""

    nl: str = Field(min_length=1, max_length=200)
    en: str | None = Field(default=None, max_length=200)

    def get(self, lang: str) -> str:
        return self.en if lang == "en" and self.en else self.nl


class RuleMatch(StrictModel):
    """Conditions of a rule. All given conditions must hold; each list is any-of.

    ``folders`` are glob patterns matched case-insensitively against the item's folder written
    as ``/segment/segment/`` (leading and trailing slash added, backslashes turned into
    slashes), so ``*/zorg/*`` matches the folders ``Zorg``, ``Gedeeld/Zorg`` and
    ``Gedeeld/Zorg/OPP`` but not ``Zorgeloos``. ``titles`` are globs on the item's title
    (file name or subject), case-insensitive: ``*cijferlijst*``.

    ``pupil`` is the state of the pupils the item's roster matches name
    (:mod:`scanner.retention.pupils`): ``left`` (all left), ``enrolled`` (one still enrolled)
    or ``unknown`` (no match, or the roster carries no lifecycle).
    """

    kinds: list[Literal["mail", "file"]] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)
    min_sensitivity: Sensitivity | None = None
    source_kinds: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    folders: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)
    titles: list[str] = Field(default_factory=list)
    pupil: list[Literal["left", "enrolled", "unknown"]] = Field(default_factory=list)

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in CATEGORIES]
        if unknown:
            known = ", ".join(CATEGORIES)
            raise ValueError(
                f"onbekende categorie {', '.join(unknown)} (bekend: {known}) / "
                f"unknown category {', '.join(unknown)} (known: {known})"
            )
        return value

    @field_validator("folders", "titles")
    @classmethod
    def _non_empty_globs(cls, value: list[str]) -> list[str]:
        if any(not g.strip() for g in value):
            raise ValueError("leeg mappatroon / empty folder pattern")
        return value


class Rule(StrictModel):
    """One retention rule: when it applies (``match``), how long (``term``), what to do."""

    id: str = Field(min_length=1, max_length=64)
    description: Text | None = None
    match: RuleMatch = Field(default_factory=RuleMatch)
    term: Term
    action: str | None = None
    """Required, except for ``while_enrolled`` terms (nothing to do while the pupil is here)."""
    require_student_data: bool = True
    fallback: bool = False
    statutory: bool = False
    """A term the law sets for this kind of record (e.g. a referral to special education: 3
    years after the pupil left). It decides instead of the shortest of the general rules that
    also match (a referral is a care file too, whose 2-year dossier term would otherwise always
    win); only an Archiefwet rule (``archiveren``) goes before it."""

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _RULE_ID.match(value):
            raise ValueError(
                f"regel-id '{value}' mag alleen kleine letters, cijfers, '_' en '-' bevatten / "
                f"rule id '{value}' may only contain lower-case letters, digits, '_' and '-'"
            )
        if value in RESERVED_RULE_IDS:
            raise ValueError(f"regel-id '{value}' is gereserveerd / rule id '{value}' is reserved")
        return value

    @model_validator(mode="after")
    def _pupil_term_fits(self) -> Rule:
        if self.action is None and not self.term.while_enrolled:
            raise ValueError(f"regel '{self.id}' mist 'action' / rule '{self.id}' lacks 'action'")
        need = self.term.pupil_state
        if need is not None and self.match.pupil and self.match.pupil != [need]:
            raise ValueError(
                f"regel '{self.id}': deze termijn geldt alleen voor 'pupil: [{need}]' / "
                f"rule '{self.id}': this term only applies to 'pupil: [{need}]'"
            )
        return self

    @field_validator("action")
    @classmethod
    def _known_action(cls, value: str | None) -> str | None:
        if value is None:
            return None
        allowed = [a for a in ACTIONS if a != GEEN]
        if value not in allowed:
            raise ValueError(
                f"onbekende actie '{value}' (kies uit: {', '.join(allowed)}) / "
                f"unknown action '{value}' (choose from: {', '.join(allowed)})"
            )
        return value


class Exemptions(StrictModel):
    """Items that are never due, whatever the rules say.

    Labels (Outlook categories, IMAP keywords) are compared ignoring case and everything that
    is not a letter or digit, because IMAP keywords cannot hold spaces or colons: the label
    ``Schoonschip: geen leerlinggegevens`` also matches the keyword
    ``Schoonschip_geen_leerlinggegevens``. Folder patterns work as in rules.
    """

    legal_hold_labels: list[str] = Field(
        default_factory=lambda: ["Schoonschip: bewaarplicht", "Legal hold"]
    )
    legal_hold_folders: list[str] = Field(
        default_factory=lambda: ["*/bewaarplicht/*", "*/legal hold/*"]
    )
    false_positive_labels: list[str] = Field(
        default_factory=lambda: ["Schoonschip: geen leerlinggegevens"]
    )
    honour_owner_marks: bool = Field(
        default=True,
        description="Follow the legal-hold and false-positive marks set by owners.",
    )


def default_rules() -> list[Rule]:
    """The built-in rules (sector guidance; every value can be changed in the YAML), read from
    the ``retention.rules`` block of the packaged ``default.yaml``: the one place they are
    written down."""
    return list(_default_rules())


@lru_cache(maxsize=1)
def _default_rules() -> tuple[Rule, ...]:
    rules = (load_defaults().get("retention") or {}).get("rules") or []
    return tuple(Rule.model_validate(rule) for rule in rules)


class RetentionSettings(StrictModel):
    """The ``retention:`` section of the YAML. A configuration without it gets these defaults."""

    timezone: str = Field(
        default=DEFAULT_TIMEZONE, description="Time zone in which item dates become calendar days."
    )
    school_year_start: str = Field(
        default="08-01", description="First day of the school year as MM-DD (Dutch: 1 August)."
    )
    due_soon_days: int = Field(
        default=30,
        ge=0,
        le=366,
        description="Status 'binnenkort' from this many days before the due date.",
    )
    exemptions: Exemptions = Field(default_factory=Exemptions)
    rules: list[Rule] = Field(
        default_factory=default_rules,
        description="The rules; giving this list replaces the built-in rules entirely.",
    )
    extra_rules: list[Rule] = Field(
        default_factory=list, description="Rules added after 'rules' (keeps the built-in ones)."
    )
    disabled_rules: list[str] = Field(
        default_factory=list, description="Ids of rules (built-in or not) to switch off."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_time_zone(value)

    @field_validator("school_year_start")
    @classmethod
    def _valid_start(cls, value: str) -> str:
        m = _START.match(value)
        if not m:
            raise ValueError(
                f"schooljaarstart '{value}' moet MM-DD zijn, bv. 08-01 / "
                f"school year start '{value}' must be MM-DD, e.g. 08-01"
            )
        check_start(int(m.group(1)), int(m.group(2)))
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> RetentionSettings:
        seen: set[str] = set()
        for rule in [*self.rules, *self.extra_rules]:
            if rule.id in seen:
                raise ValueError(
                    f"regel-id '{rule.id}' komt dubbel voor / duplicate rule id '{rule.id}'"
                )
            seen.add(rule.id)
        unknown = [r for r in self.disabled_rules if r not in seen]
        if unknown:
            raise ValueError(
                f"disabled_rules noemt onbekende regel {', '.join(unknown)} / "
                f"disabled_rules names unknown rule {', '.join(unknown)}"
            )
        return self

    @property
    def start_month(self) -> int:
        return int(self.school_year_start[:2])

    @property
    def start_day(self) -> int:
        return int(self.school_year_start[3:])

    def active_rules(self) -> list[Rule]:
        """``rules`` then ``extra_rules``, without the disabled ones, in evaluation order."""
        off = set(self.disabled_rules)
        return [r for r in [*self.rules, *self.extra_rules] if r.id not in off]
