"""The retention policy: from stored metadata to ok / binnenkort / verlopen.

The pipeline recomputes every item's status on every run from what the store knows about it
(:class:`ItemFacts`: kind, source, folder, date, categories, entity types, labels, the owner's
mark). Nothing here reads content, so a changed rule or simply the passing of time takes
effect without fetching a single item again.

Decision order for one item:

1. Exemptions: a legal hold (owner mark, label, folder) or a false-positive mark (owner mark,
   label) -> ``ok``, no due date. Legal hold is checked first because it is the stronger
   statement (the item must be kept, whatever it contains).
2. The ``archiveren`` rules that apply (Archiefwet records: they beat every deletion rule);
   if none, the ordinary rules that apply; if none, the ``fallback`` rules that apply. Items
   without student data only see rules with ``require_student_data: false``.
3. Among the applying rules the strictest wins (earliest due date; ties: the first listed).
   No rule applies -> ``ok`` without due date.
4. Status: ``verlopen`` after the due date (at once for ``immediately`` terms),
   ``binnenkort`` from ``due_soon_days`` before the due date up to and including it, else ``ok``.

Speed matters (hundreds of thousands of items per run, every run): rules are compiled once
(frozensets, one combined regular expression per folder condition), folder matching is cached
per distinct folder and school-year ends per distinct day.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from re import Pattern
from typing import Any
from zoneinfo import ZoneInfo

from scanner.core.categories import item_sensitivity
from scanner.core.dates import local_date
from scanner.core.memo import remember
from scanner.core.model import RetentionStatus
from scanner.retention import explain as _explain
from scanner.retention.actions import ARCHIVEREN, GEEN
from scanner.retention.pupils import PupilFacts
from scanner.retention.schoolyear import _school_year_end, add_years
from scanner.retention.settings import RetentionSettings, Rule, Term

LEGAL_HOLD = "legal_hold"
FALSE_POSITIVE = "false_positive"

_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)
_FOLDER_CACHE_MAX = 200_000
_MATCH_CACHE_MAX = 50_000
"""Distinct fact combinations whose matching rules are remembered (cleared when full)."""


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What the store knows about an item: metadata and detection results, no content."""

    kind: str
    source: str
    source_kind: str
    folder: str
    date: datetime
    categories: tuple[str, ...]
    entities: tuple[str, ...]
    labels: tuple[str, ...] = ()
    owner_mark: str | None = None
    student_data: bool = True
    title: str = ""
    pupil: PupilFacts | None = None
    """The state of the pupils the item's roster findings name (``None``: unknown)."""


@dataclass(frozen=True, slots=True)
class RetentionDecision:
    """The outcome for one item, with what :meth:`explain` needs to say why.

    ``due_date`` is the last day the item may still exist (``None``: no term applies).
    ``rule_id`` names the winning rule, or one of ``geen_leerlinggegevens``, ``geen_regel``,
    ``geen_datum`` (the item has no date), ``uitzondering_bewaarplicht``,
    ``uitzondering_fout_positief``.
    """

    status: RetentionStatus
    due_date: date | None
    rule_id: str
    action: str
    exempt_reason: str | None
    exempt_via: str | None = None
    """For exemptions: ``owner_mark``, ``label`` or ``folder`` (never the label or folder)."""
    rule: Rule | None = None
    item_date: date | None = None
    today: date | None = None
    school_year: tuple[int, int] | None = None
    school_year_end: date | None = None
    also_matched: tuple[str, ...] = ()
    """Ids of the other rules that applied but were less strict (or tied and listed later)."""
    pupil: PupilFacts | None = None
    """Set when the winning rule counts from the pupil's state (``after: pupil_left``,
    ``while_enrolled``)."""

    def explain(self, lang: str = "nl") -> str:
        """Human text: which rule applied, its term, and when the item became (or becomes) due."""
        return _explain.explain(self, lang)


_STATUS_KEYS = {status: status.value for status in RetentionStatus}
"""A status's stored key (an enum's ``.value`` is a Python-level property lookup)."""
_NO_STUDENT_DATA = RetentionDecision(RetentionStatus.OK, None, "geen_leerlinggegevens", GEEN, None)
_NO_RULE = RetentionDecision(RetentionStatus.OK, None, "geen_regel", GEEN, None)


def _norm_label(label: str) -> str:
    return _NON_ALNUM.sub("", label.casefold())


def _norm_folder(folder: str) -> str:
    inner = folder.replace("\\", "/").strip("/").casefold()
    return f"/{inner}/" if inner else "/"


def compile_globs(patterns: list[str]) -> Pattern[str] | None:
    """One case-insensitive regular expression for a list of folder globs (``None`` if empty)."""
    if not patterns:
        return None
    return _compiled_globs(tuple(patterns))


@functools.lru_cache(maxsize=256)
def _compiled_globs(patterns: tuple[str, ...]) -> Pattern[str]:
    """Memoised by the patterns: a policy is built per retention pass (every scan and report),
    and translating its rules' globs again (``fnmatch.translate`` is Python, not cached) was a
    fifth of the retention pass of an unchanged scan. A compiled pattern is immutable."""
    parts = [fnmatch.translate(p.replace("\\", "/").casefold()) for p in patterns]
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE)


def _required_literal(glob: str) -> str | None:
    """A text every (casefolded, ASCII) title the glob matches contains: its longest run of
    plain characters, as :func:`compile_globs` reads the glob. ``None`` when the glob has
    none, a ``[...]`` set, or non-ASCII characters (where the pattern's case-insensitive
    match and ``casefold`` could differ)."""
    norm = glob.replace("\\", "/").casefold()
    if "[" in norm or not norm.isascii():
        return None
    runs = [run for run in re.split(r"[*?]", norm) if run]
    return max(runs, key=len) if runs else None


class _CompiledRule:
    """A rule in the form that is cheap to test: sets and precompiled patterns."""

    __slots__ = (
        "categories",
        "entities",
        "folder_re",
        "index",
        "kinds",
        "labels",
        "min_rank",
        "pupil",
        "pupil_term",
        "require_student_data",
        "rule",
        "source_kinds",
        "sources",
        "term",
        "title_re",
    )

    def __init__(self, rule: Rule, index: int) -> None:
        m = rule.match
        self.rule = rule
        self.index = index
        self.kinds = frozenset(m.kinds) or None
        self.categories = frozenset(m.categories) or None
        self.entities = frozenset(m.entities) or None
        self.min_rank = m.min_sensitivity.rank if m.min_sensitivity is not None else None
        self.source_kinds = frozenset(m.source_kinds) or None
        self.sources = frozenset(m.sources) or None
        self.folder_re = compile_globs(m.folders)
        self.labels = frozenset(_norm_label(x) for x in m.labels) or None
        self.title_re = compile_globs(m.titles)
        need = rule.term.pupil_state
        self.pupil = frozenset([need] if need else m.pupil) or None
        self.pupil_term = need is not None
        self.term = rule.term
        self.require_student_data = rule.require_student_data


class RetentionPolicy:
    """Evaluates the configured rules. Build one per run; ``today`` defaults to the current
    date in the configured time zone, fixed at construction so every item of a run is judged
    against the same day."""

    def __init__(self, settings: RetentionSettings, today: date | None = None) -> None:
        self.settings = settings
        self._tz = ZoneInfo(settings.timezone)
        self._start = (settings.start_month, settings.start_day)
        self._today = today if today is not None else datetime.now(self._tz).date()
        self._soon = timedelta(days=settings.due_soon_days)
        active = settings.active_rules()
        compiled = [_CompiledRule(r, i) for i, r in enumerate(active)]
        self._archive = tuple(c for c in compiled if c.rule.action == ARCHIVEREN)
        self._statutory = tuple(c for c in compiled if c.rule.statutory and c not in self._archive)
        special = self._archive + self._statutory
        self._rules = tuple(c for c in compiled if not c.rule.fallback and c not in special)
        self._fallbacks = tuple(c for c in compiled if c.rule.fallback and c not in special)
        self._all = special + self._rules + self._fallbacks
        self._needs_sensitivity = any(c.min_rank is not None for c in compiled)
        ex = settings.exemptions
        self._hold_labels = frozenset(_norm_label(x) for x in ex.legal_hold_labels)
        self._fp_labels = frozenset(_norm_label(x) for x in ex.false_positive_labels)
        self._hold_folders = compile_globs(ex.legal_hold_folders)
        self._owner_marks = ex.honour_owner_marks
        self._folder_cache: dict[str, tuple[bool, int]] = {}
        self._titles = any(c.title_re is not None for c in self._all)
        # The distinct title patterns (rules share them): the memo key of _matching holds
        # which of them the title matches, not the title, which is unique per item.
        self._title_patterns = tuple({(c.title_re.pattern, c.title_re.flags): c.title_re for c in self._all
                                      if c.title_re is not None}.values())
        # Most titles match none of them, which a substring test per glob says faster than
        # the patterns (``None``: some glob has no literal that test can rely on).
        self._no_titles = (False,) * len(self._title_patterns)
        literals = [_required_literal(glob) for c in self._all if c.title_re is not None
                    for glob in c.rule.match.titles]
        self._title_literals = (tuple(dict.fromkeys(x for x in literals if x is not None))
                                if None not in literals else None)
        self._matches: dict[tuple[Any, ...], RetentionDecision | tuple[_CompiledRule, ...]] = {}

    @property
    def uses_titles(self) -> bool:
        """Whether any rule matches on titles: the retention pass opens the (sealed) titles
        only then."""
        return self._titles

    @property
    def today(self) -> date:
        return self._today

    # -- folders ----------------------------------------------------------------------------

    def _folder_info(self, folder: str) -> tuple[bool, int]:
        """(under legal hold, bit mask of rules whose folder condition holds), cached."""
        info = self._folder_cache.get(folder)
        if info is None:
            norm = _norm_folder(folder)
            hold = bool(self._hold_folders is not None and self._hold_folders.match(norm))
            mask = 0
            for c in self._all:
                if c.folder_re is None or c.folder_re.match(norm):
                    mask |= 1 << c.index
            info = remember(self._folder_cache, folder, (hold, mask), _FOLDER_CACHE_MAX)
        return info

    # -- evaluation -------------------------------------------------------------------------

    def _exemption(self, facts: ItemFacts, hold_folder: bool) -> RetentionDecision | None:
        mark = facts.owner_mark if self._owner_marks else None
        labels = frozenset(_norm_label(x) for x in facts.labels) if facts.labels else frozenset()
        via = None
        if mark == LEGAL_HOLD:
            via = "owner_mark"
        elif labels and not labels.isdisjoint(self._hold_labels):
            via = "label"
        elif hold_folder:
            via = "folder"
        if via is not None:
            return RetentionDecision(
                RetentionStatus.OK, None, "uitzondering_bewaarplicht", GEEN, LEGAL_HOLD, via
            )
        if mark == FALSE_POSITIVE:
            via = "owner_mark"
        elif labels and not labels.isdisjoint(self._fp_labels):
            via = "label"
        if via is not None:
            return RetentionDecision(
                RetentionStatus.OK, None, "uitzondering_fout_positief", GEEN, FALSE_POSITIVE, via
            )
        return None

    def _applies(
        self,
        c: _CompiledRule,
        facts: ItemFacts,
        mask: int,
        rank: int | None,
        labels: frozenset[str] | None,
    ) -> bool:
        if not (mask >> c.index) & 1:
            return False
        if not facts.student_data and c.require_student_data:
            return False
        if c.kinds is not None and facts.kind not in c.kinds:
            return False
        if c.categories is not None and c.categories.isdisjoint(facts.categories):
            return False
        if c.entities is not None and c.entities.isdisjoint(facts.entities):
            return False
        if c.min_rank is not None and (rank is None or rank < c.min_rank):
            return False
        if c.source_kinds is not None and facts.source_kind not in c.source_kinds:
            return False
        if c.sources is not None and facts.source not in c.sources:
            return False
        if c.pupil is not None and (facts.pupil.state if facts.pupil else "unknown") not in c.pupil:
            return False
        if c.title_re is not None and not c.title_re.match(facts.title.casefold()):
            return False
        return not (c.labels is not None and (labels is None or c.labels.isdisjoint(labels)))

    def due_date(self, term: Term, item_day: date, pupil_left: date | None = None) -> date | None:
        """The last day an item dated ``item_day`` may exist under ``term`` (``None``: kept
        while the pupil is enrolled). ``pupil_left`` is the leaving day ``after: pupil_left``
        counts from."""
        if term.immediately:
            return item_day
        if term.while_enrolled:
            return None
        if term.after == "school_year_end":
            anchor = _school_year_end(item_day, *self._start)
        elif term.after == "pupil_left":
            if pupil_left is None:
                raise ValueError("after: pupil_left needs the pupil's leaving day")
            anchor = pupil_left
        else:
            anchor = item_day
        return add_years(anchor, term.years) + timedelta(days=term.days)

    def _matching(self, facts: ItemFacts) -> RetentionDecision | tuple[_CompiledRule, ...]:
        """The rules that apply to ``facts`` (in the order :meth:`evaluate` weighs them), or
        the decision when no term is counted (an exemption, no student data, no rule).

        Depends on neither the item's date nor the day, so it is remembered per combination
        of the facts it reads: items repeat those (a folder, its kind, the same categories)
        and a first scan's retention pass ran every rule over each of them (~17 rule checks
        per item). Of the title, which is unique, the key holds only which of the rules' title
        patterns it matches (what :meth:`_applies` asks of it)."""
        titles: tuple[bool, ...] = ()
        if self._title_patterns:
            folded = facts.title.casefold()
            literals = self._title_literals
            if literals is not None and folded.isascii() and not any(map(folded.__contains__, literals)):
                titles = self._no_titles
            else:
                titles = tuple(p.match(folded) is not None for p in self._title_patterns)
        key = (facts.folder, facts.owner_mark, facts.labels, facts.student_data, facts.kind, facts.source,
               facts.source_kind, facts.categories, facts.entities,
               facts.pupil.state if facts.pupil is not None else None, titles)
        got = self._matches.get(key)
        if got is None:
            got = remember(self._matches, key, self._match(facts), _MATCH_CACHE_MAX)
        return got

    def _match(self, facts: ItemFacts) -> RetentionDecision | tuple[_CompiledRule, ...]:
        hold_folder, mask = self._folder_info(facts.folder)
        if facts.owner_mark is not None or facts.labels or hold_folder:
            exempt = self._exemption(facts, hold_folder)
            if exempt is not None:
                return exempt
        if not facts.student_data and all(c.require_student_data for c in self._all):
            return _NO_STUDENT_DATA

        rank = None
        if self._needs_sensitivity:
            sens = item_sensitivity(facts.categories)
            rank = sens.rank if sens is not None else None
        labels = frozenset(_norm_label(x) for x in facts.labels) if facts.labels else None

        # Archiefwet first: a record the law keeps is never proposed for deletion, whatever
        # else applies (an exam list with BSNs is still archived, not deleted).
        matched = tuple(c for c in self._archive if self._applies(c, facts, mask, rank, labels))
        if not matched:  # then a term the law sets for this record, over the general rules
            matched = tuple(c for c in self._statutory if self._applies(c, facts, mask, rank, labels))
        if not matched:
            matched = tuple(c for c in self._rules if self._applies(c, facts, mask, rank, labels))
        if not matched:
            matched = tuple(c for c in self._fallbacks if self._applies(c, facts, mask, rank, labels))
        if not matched:
            if not facts.student_data:
                return _NO_STUDENT_DATA
            return _NO_RULE
        return matched

    def outcome(self, facts: ItemFacts) -> tuple[str, date | None, str, str, str | None]:
        """What the store keeps of :meth:`evaluate`'s decision (status key, due date, rule id,
        action, exempt reason), without building the decision and its explanation fields:
        the retention pass and the write-time judge keep nothing else, once per item."""
        decided = self._decide(facts, self._today)
        if isinstance(decided, RetentionDecision):
            return (_STATUS_KEYS[decided.status], decided.due_date, decided.rule_id, decided.action,
                    decided.exempt_reason)
        status, best, best_due, _, _ = decided
        return (_STATUS_KEYS[status], best_due, best.rule.id,
                best.rule.action if best_due is not None and best.rule.action else GEEN, None)

    def evaluate(self, facts: ItemFacts, today: date | None = None) -> RetentionDecision:
        """Decide the retention status of one item. Never raises on odd metadata: unknown
        categories count as ``normaal``, unknown owner marks are ignored, naive dates are
        taken as local time, a missing date gives ``ok`` without due date (rule ``geen_datum``)
        unless an ``immediately`` rule applies."""
        day = today if today is not None else self._today
        decided = self._decide(facts, day)
        if isinstance(decided, RetentionDecision):
            return decided
        status, best, best_due, matched, item_day = decided
        school_year = None
        sy_end = None
        if best.term.after == "school_year_end":
            sy_end = _school_year_end(item_day, *self._start)
            next_start = sy_end + timedelta(days=1)  # first day of the following school year
            school_year = (next_start.year - 1, next_start.year)
        return RetentionDecision(
            status=status,
            due_date=best_due,
            rule_id=best.rule.id,
            action=best.rule.action if best_due is not None and best.rule.action else GEEN,
            exempt_reason=None,
            rule=best.rule,
            item_date=item_day if facts.date is not None else None,
            today=day,
            school_year=school_year,
            school_year_end=sy_end,
            also_matched=tuple(c.rule.id for c in matched if c is not best),
            pupil=facts.pupil if best.pupil_term else None,
        )

    def _decide(self, facts: ItemFacts, day: date) -> (
            RetentionDecision | tuple[RetentionStatus, _CompiledRule, date | None, tuple[_CompiledRule, ...], date]):
        """The decision when no term is counted, else (status, winning rule, its due date, the
        rules that applied, the item's day): the part :meth:`evaluate` and :meth:`outcome` share."""
        matched = self._matching(facts)
        if isinstance(matched, RetentionDecision):
            return matched

        if facts.date is None:
            # A source that gave no date: no term can be counted, except "immediately" and
            # the terms of a pupil's lifecycle.
            matched = tuple(c for c in matched if c.term.immediately or c.pupil_term)
            if not matched:
                return RetentionDecision(RetentionStatus.OK, None, "geen_datum", GEEN, None)
            item_day = day  # "immediately" is due today; pupil terms do not count from the item
        else:
            item_day = local_date(facts.date, self._tz)
        left = facts.pupil.left if facts.pupil is not None else None
        best: _CompiledRule | None = None
        best_due: date | None = None
        for c in matched:
            due = self.due_date(c.term, item_day, left)
            # strict '<': ties keep the first listed; no due date (kept while enrolled) loses
            # to every date
            if best is None or (due is not None and (best_due is None or due < best_due)):
                best, best_due = c, due
        assert best is not None

        if best_due is None:
            status = RetentionStatus.OK
        elif best.term.immediately or day > best_due:
            status = RetentionStatus.OVERDUE
        elif day >= best_due - self._soon:
            status = RetentionStatus.DUE_SOON
        else:
            status = RetentionStatus.OK
        return status, best, best_due, matched, item_day
