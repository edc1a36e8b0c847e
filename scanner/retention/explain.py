"""Human explanations of retention decisions, in Dutch and English.

The text tells a teacher (digest) or IT (run report, ``schoonschip explain``) which rule
applied, what its term is, from which date it counts and when the item became or becomes due.
It never contains a label, folder, subject or detected value: only rule ids, the rule's own
description from the configuration, dates and counts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from scanner.core.dates import format_date
from scanner.core.model import RetentionStatus
from scanner.retention.actions import ARCHIVEREN, action_label

if TYPE_CHECKING:
    from scanner.retention.policy import RetentionDecision
    from scanner.retention.settings import Term

LANGS = ("nl", "en")


def _duration(years: int, days: int, lang: str) -> str:
    parts = []
    if years:
        parts.append(
            f"{years} jaar" if lang == "nl" else f"{years} year{'s' if years != 1 else ''}"
        )
    if days:
        if lang == "nl":
            parts.append(f"{days} dag{'en' if days != 1 else ''}")
        else:
            parts.append(f"{days} day{'s' if days != 1 else ''}")
    return (" en " if lang == "nl" else " and ").join(parts)


def term_text(term: Term, lang: str = "nl") -> str:
    """The term in words, e.g. '2 jaar na het einde van het schooljaar'."""
    if term.immediately:
        return (
            "direct: mag niet bewaard worden" if lang == "nl" else "immediately: must not be kept"
        )
    if term.while_enrolled:
        return (
            "bewaren zolang de leerling ingeschreven is" if lang == "nl"
            else "keep while the pupil is enrolled"
        )
    span = _duration(term.years, term.days, lang)
    if term.after == "pupil_left":
        if lang == "nl":
            return f"{span} na uitschrijving van de leerling" if span else "tot de uitschrijving"
        return f"{span} after the pupil left school" if span else "until the pupil leaves"
    if term.after == "school_year_end":
        if lang == "nl":
            return (
                f"{span} na het einde van het schooljaar"
                if span
                else "tot het einde van het schooljaar"
            )
        return (
            f"{span} after the end of the school year"
            if span
            else "until the end of the school year"
        )
    if lang == "nl":
        return f"{span} na de datum van het item" if span else "tot de datum van het item"
    return f"{span} after the item's date" if span else "until the item's date"


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(
            f"onbekende taal '{lang}' (nl of en) / unknown language '{lang}' (nl or en)"
        )


def explain(decision: RetentionDecision, lang: str = "nl") -> str:
    """Explain ``decision`` in ``lang`` ("nl" or "en")."""
    _check_lang(lang)
    nl = lang == "nl"
    if decision.exempt_reason is not None:
        via = {
            "owner_mark": ("door de eigenaar gemarkeerd", "marked by the owner"),
            "label": ("via een label", "by a label"),
            "folder": ("via de map", "by its folder"),
        }.get(decision.exempt_via or "", ("", ""))[0 if nl else 1]
        if decision.exempt_reason == "legal_hold":
            what = "juridische bewaarplicht" if nl else "legal hold"
        else:
            what = (
                "geen leerlinggegevens (fout-positief)"
                if nl
                else "no student data (false positive)"
            )
        head = "Uitgezonderd van opruimen" if nl else "Exempt from clean-up"
        tail = "geen vervaldatum" if nl else "no due date"
        return f"{head}: {what}{', ' + via if via else ''}; {tail}."
    if decision.rule_id == "geen_leerlinggegevens":
        return (
            "Geen leerlinggegevens gevonden: er geldt geen bewaartermijn."
            if nl
            else "No student data found: no retention term applies."
        )
    if decision.rule_id == "geen_datum":
        return (
            "Leerlinggegevens gevonden, maar het item heeft geen datum: de bewaartermijn kan niet "
            "worden berekend."
            if nl
            else "Student data found, but the item has no date: the retention term cannot be counted."
        )
    if decision.rule is not None and decision.rule.term.while_enrolled:
        return _enrolled_text(decision, lang)
    if decision.rule is None or decision.due_date is None:
        return (
            "Leerlinggegevens gevonden, maar geen enkele regel is van toepassing: geen vervaldatum."
            if nl
            else "Student data found, but no rule applies: no due date."
        )

    rule = decision.rule
    due = decision.due_date
    desc = f" ({rule.description.get(lang)})" if rule.description else ""
    sentences = [f"{'Regel' if nl else 'Rule'} '{rule.id}'{desc}: {term_text(rule.term, lang)}."]
    if decision.pupil is not None and decision.pupil.left is not None:
        ref = decision.pupil.ref
        left = format_date(decision.pupil.left, lang)
        sentences.append(
            f"Leerlingregel: alle leerlingen in dit item zijn uitgeschreven; de laatste "
            f"(leerling #{ref}) op {left}."
            if nl
            else f"Pupil rule: every pupil in this item has left school; the last one "
            f"(pupil #{ref}) on {left}."
        )

    if decision.item_date is not None:
        item = format_date(decision.item_date, lang)
    else:
        item = "onbekend" if nl else "unknown"
    if decision.school_year is not None and decision.school_year_end is not None:
        sy = f"{decision.school_year[0]}-{decision.school_year[1]}"
        end = format_date(decision.school_year_end, lang)
        sentences.append(
            f"Datum van het item: {item} (schooljaar {sy}, eindigt {end})."
            if nl
            else f"Item date: {item} (school year {sy}, ends {end})."
        )
    else:
        sentences.append(f"Datum van het item: {item}." if nl else f"Item date: {item}.")

    if not rule.term.immediately:
        sentences.append(
            f"Bewaren tot en met {format_date(due, lang)}."
            if nl
            else f"Keep until {format_date(due, lang)} at the latest."
        )
    sentences.append(_status_sentence(decision, lang))
    sentences.append(f"{'Actie' if nl else 'Action'}: {action_label(decision.action, lang)}.")
    if decision.action == ARCHIVEREN:
        sentences.append(
            "Archiefwet: dit stuk wordt bewaard in het LAS of het archief en nooit ter "
            "verwijdering voorgesteld."
            if nl
            else "Archives Act: this record is kept in the LAS or the archive and never "
            "proposed for deletion."
        )

    if rule.fallback:
        sentences.append(
            "Vangnetregel: geen specifiekere regel was van toepassing."
            if nl
            else "Fallback rule: no more specific rule applied."
        )
    if decision.also_matched:
        n = len(decision.also_matched) + 1
        others = ", ".join(decision.also_matched)
        sentences.append(
            f"Strengste van {n} passende regels (ook van toepassing: {others})."
            if nl
            else f"Strictest of {n} applicable rules (also applicable: {others})."
        )
    return " ".join(sentences)


def _enrolled_text(decision: RetentionDecision, lang: str) -> str:
    nl = lang == "nl"
    rule = decision.rule
    assert rule is not None
    desc = f" ({rule.description.get(lang)})" if rule.description else ""
    ref = decision.pupil.ref if decision.pupil is not None else "?"
    return (
        f"Regel '{rule.id}'{desc}: {term_text(rule.term, lang)}. Leerling #{ref} in dit item is "
        "nog ingeschreven: geen vervaldatum. Status: op tijd."
        if nl
        else f"Rule '{rule.id}'{desc}: {term_text(rule.term, lang)}. Pupil #{ref} in this item "
        "is still enrolled: no due date. Status: within its term."
    )


def _status_sentence(decision: RetentionDecision, lang: str) -> str:
    nl = lang == "nl"
    due = decision.due_date
    assert due is not None
    if decision.status is RetentionStatus.OVERDUE:
        if decision.rule is not None and decision.rule.term.immediately:
            return "Status: verlopen (direct)." if nl else "Status: overdue (immediately)."
        since = format_date(due + timedelta(days=1), lang)
        return f"Status: verlopen sinds {since}." if nl else f"Status: overdue since {since}."
    if decision.status is RetentionStatus.DUE_SOON:
        left = (due - decision.today).days if decision.today is not None else None
        if left == 0:
            return (
                "Status: binnenkort (vandaag is de laatste dag)."
                if nl
                else "Status: due soon (today is the last day)."
            )
        if left is not None:
            return (
                f"Status: binnenkort (nog {left} dag{'en' if left != 1 else ''})."
                if nl
                else f"Status: due soon ({left} day{'s' if left != 1 else ''} left)."
            )
        return "Status: binnenkort." if nl else "Status: due soon."
    return "Status: op tijd." if nl else "Status: within its term."
