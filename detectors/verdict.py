"""From findings to a verdict: does this item hold student data, of which categories, and why.

Rules (ids are stable; they appear in ``Verdict.reasons`` with counts, never with values):

* ``bsn``, ``onderwijsnummer``, ``leerlingenlijst`` (roster hit), ``leerlingnummer``: one is
  enough. Their recognizers already demanded the context that makes them trustworthy.
* ``naam_met_leerlingcontext``: a person name that is the *subject* of the text with a student
  word (leerling, groep 7, klas 3B, ouders van, mentor, uw zoon ...) within 150 characters.
* ``naam_met_categorie``: a subject name with a category term (ziekmelding, dyslexie, OPP,
  Veilig Thuis ...) within 250 characters.
* ``geboortedatum_met_context`` / ``id_document_met_context``: a birth date or ID-document
  number together with a subject name or a student word in the same item.

A name alone is not enough: colleagues and authors are named everywhere. Names are not
subjects when they are *correspondents* (right after a greeting such as "Beste", "Hoi", in the
lines after "Met vriendelijke groet", in "Van:/Aan:" header lines) or *staff* (after "juf",
"meester", "collega", or in a sentence about rosters, substitutes, meetings). Contact details
inside a signature are the sender's, not the student's, and do not add ``contactgegevens``.

Categories are only reported when the item holds student data: a category describes the kind of
student data in the item (what retention rules and the FG statistics count); a newsletter that
mentions "ziekmelding" holds no student data of category verzuim. Term counts still appear in
the reasons, so a false negative can be explained.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass

from detectors import entities as E
from detectors.termlists import DATA_DIR, TermMatcher, read_term_file
from scanner.core.categories import CATEGORY_ORDER, category_label
from scanner.core.memo import remember

STUDENT_WINDOW = 150
CATEGORY_WINDOW = 250
SIGNATURE_LINES = 5

DECISIVE = {
    E.NL_BSN: "bsn",
    E.NL_ONDERWIJSNUMMER: "onderwijsnummer",
    E.STUDENT_ROSTER: "leerlingenlijst",
    E.NL_LEERLINGNUMMER: "leerlingnummer",
}
NAME_ENTITIES = frozenset({E.PERSON})
CONTACT_ENTITIES = frozenset({E.PHONE_NUMBER, E.EMAIL_ADDRESS, E.NL_ADDRESS, E.IBAN_CODE})


@dataclass(slots=True)
class Hit:
    """One kept detection inside an analysed text (offsets in that text)."""

    entity: str
    start: int
    end: int
    score: float
    category: str | None


def _drop_other_mentions(text: str, named: list[Hit], staff: list[Hit],
                         counts: defaultdict[str, int]) -> list[Hit]:
    """Subject names of one text that are a word of a name that text gives with a title (staff,
    a public office) are that person again: no longer subjects. Correspondents do not count:
    a parent who signs a sick note can share a first name with the child it is about.

    ``staff`` are the text's names :func:`judge` found to be staff (not correspondents): the
    names that are neither subjects nor correspondents, so they need not be judged again."""
    others = {word.casefold() for h in staff for word in text[h.start:h.end].split()}
    kept = []
    for hit in named:
        words = text[hit.start:hit.end].split()
        if words and all(w.casefold() in others for w in words):
            counts["naam_herhaald"] += 1
        else:
            kept.append(hit)
    return kept


class Cues:
    """Word lists the verdict reads: student context, staff titles/sentences, greetings."""

    def __init__(self) -> None:
        self.student = TermMatcher()
        self.student.add_many("leerling", read_term_file(DATA_DIR / "student_context.txt"))
        self.staff_title = TermMatcher()
        self.staff_title.add_many("personeel", read_term_file(DATA_DIR / "staff_context.txt"))
        self.staff_sentence = TermMatcher()
        self.staff_sentence.add_many("werk", read_term_file(DATA_DIR / "staff_sentence.txt"))
        greetings: list[str] = []
        closings: list[str] = []
        for line in read_term_file(DATA_DIR / "correspondence.txt"):
            kind, _, word = line.partition(":")
            (greetings if kind.strip() == "aanhef" else closings).append(word.strip())
        alt = "|".join(sorted((re.escape(g) for g in greetings), key=len, reverse=True))
        # no "^": matched with pos/endpos at a line's start and end (``re`` treats endpos as the
        # string's end), so the line need not be copied out of the text for every name
        self.greeting_at = re.compile(rf"[ \t>]*(?:{alt})\b", re.IGNORECASE)
        alt = "|".join(sorted((re.escape(c) for c in closings), key=len, reverse=True))
        closing = rf"[ \t>]*(?:{alt})\b[^\n]{{0,25}}$"
        # a closing line is the first line or follows a newline: the newline as the pattern's
        # first character lets ``re`` jump from newline to newline instead of trying a match at
        # every character as it does for "^" (see TextFacts._signature_ends)
        self.closing_first = re.compile(closing, re.IGNORECASE | re.M)
        self.closing_after_newline = re.compile("\n" + closing, re.IGNORECASE | re.M)
        # line starts up to a name that hold nothing but a greeting ("Beste ", "Hoi, "): do they
        # hold a student word? The same few strings come back in mail after mail, and matching
        # one costs a tokenization and every student regex (see greeting_has_student_word)
        self._greeting_only: dict[str, bool] = {}

    def greeting_has_student_word(self, text: str, line_start: int, greeting_end: int,
                                  name_start: int) -> bool:
        """Whether the student words match in ``text[line_start:name_start]``, the part of a
        greeting line before a name (the greeting ends at ``greeting_end``).

        The answer only depends on that string, so it is remembered, but only when the string
        is the greeting formula and spacing or punctuation: it then holds words of the
        correspondence list, never a word of the message (a name, "ouders van ...").
        """
        part = text[line_start:name_start]
        if name_start > greeting_end and _WORD_CHAR.search(text, greeting_end, name_start):
            return bool(self.student.find(part, remember=False))
        known = self._greeting_only.get(part)
        if known is None:  # bounded: odd punctuation, many spellings
            known = remember(self._greeting_only, part, bool(self.student.find(part, remember=False)), 256)
        return known


_CUES: Cues | None = None
_WORD_CHAR = re.compile(r"\w")


def cues() -> Cues:
    global _CUES
    if _CUES is None:
        _CUES = Cues()
    return _CUES


# matched with pos/endpos at a line's start and end, hence no "^" (see Cues.greeting_at)
_HEADER_AT = re.compile(
    r"[ \t>]*(?:van|aan|cc|bcc|from|to|verzonden|sent|aanwezig|afwezig|notulist|notulen|"
    r"voorzitter|secretaris|gasten?|afzender|ontvanger)\s*:",
    re.I,
)
# "cijfers" and "score" also head financial tables and policy statistics ("de cijfers van 2024"):
# they only make a grade with a grade context in the same text (a test, a report, a mark on
# the 1-10 scale with decimals). The specific terms (rapportcijfer, onvoldoende, Cito) need none.
WEAK_GRADE_TERMS = frozenset({"cijfer", "cijfers", "score", "scores", "resultaat", "resultaten"})
_GRADE_CONTEXT = re.compile(
    r"\b(?:toets\w*|rapport\w*|proefwerk\w*|overhoring\w*|tentamen\w*|\w*onvoldoende\w*|"
    r"herkansing\w*|gemiddeld\w*|schoolexamen\w*|(?:10|[1-9])[,.]\d\b)",
    re.I,
)
_SENTENCE_END = re.compile(r"[.!?\n]")
# matched from a window's start, m.end() is just after the window's last such character: one
# C scan instead of an rfind per character
_LAST_CLAUSE_BREAK = re.compile(r"(?s:.*)[,.;:!?()\n]")
_LAST_SENTENCE_END = re.compile(r"(?s:.*)[.!?\n]")


class TextFacts:
    """Lazily computed facts about one analysed text that several rules need."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._student: list[tuple[int, int]] | None = None
        self._student_starts: list[int] = []
        # signature blocks (see _signature_ends), None until a rule asks
        self._sig_starts: list[int] | None = None
        self._sig_ends: list[int] = []
        # staff titles and staff-work sentences: sorted spans and their starts (see _spans)
        self._titles: tuple[list[tuple[int, int]], list[int]] | None = None
        self._sentences: tuple[list[tuple[int, int]], list[int]] | None = None
        self._grade_context: bool | None = None

    @property
    def student_spans(self) -> list[tuple[int, int]]:
        if self._student is None:
            self._student, self._student_starts = self._spans(cues().student)
        return self._student

    def _signature_ends(self) -> tuple[list[int], list[int]]:
        """Starts and ends of the blocks of up to SIGNATURE_LINES lines after a closing formula
        ("Groet,"), in text order: computed once per text, as two flat lists so that
        :meth:`in_signature` bisects ints instead of tuples."""
        text = self.text
        starts: list[int] = []
        ends: list[int] = []
        c = cues()
        first = c.closing_first.match(text)
        # (line start, end of the closing formula's line) of every closing line, as a
        # "^"-anchored multi-line pattern would find them (matches cannot span a newline)
        lines = [(first.start(), first.end())] if first else []
        lines += [(m.start() + 1, m.end()) for m in c.closing_after_newline.finditer(text)]
        for start, end in lines:
            for _ in range(SIGNATURE_LINES):
                nxt = text.find("\n", end + 1)
                if nxt < 0:
                    end = len(text)
                    break
                end = nxt
            starts.append(start)
            ends.append(end)
        self._sig_starts, self._sig_ends = starts, ends
        return starts, ends

    def in_signature(self, pos: int) -> bool:
        starts = self._sig_starts
        if starts is None:
            starts, ends = self._signature_ends()
        else:
            ends = self._sig_ends
        if not starts:  # most texts: no closing formula at all
            return False
        # the last two blocks starting at or before pos (blocks can overlap when a closing
        # formula follows another within SIGNATURE_LINES lines)
        i = bisect.bisect_right(starts, pos) - 1
        if i < 0:
            return False
        return pos < ends[i] or (i > 0 and pos < ends[i - 1])

    def is_correspondent(self, hit: Hit) -> bool:
        """In a header line, after a greeting, in a signature, or alone on one of the last
        lines. Not memoised: :func:`judge` asks once per hit (it remembers which names were
        staff for :func:`_drop_other_mentions`)."""
        text = self.text
        start = hit.start
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", start)
        if line_end < 0:
            line_end = len(text)
        if _HEADER_AT.match(text, line_start, line_end):
            return True
        c = cues()
        greeting = c.greeting_at.match(text, line_start, line_end)
        # "Beste ouders van Sanne" is about Sanne, not addressed to her
        if (greeting and start <= greeting.end() + 25
                and not c.greeting_has_student_word(text, line_start, greeting.end(), start)):
            return True
        if self.in_signature(start):
            return True
        # a name alone on one of the last lines is the sender signing off ("Kees", "Mevr. Jansen")
        if text[line_start:line_end].strip(" \t,.-") == text[start : hit.end]:
            return self._nonempty_lines_from(line_start, limit=4) <= 3
        return False

    def _nonempty_lines_from(self, pos: int, limit: int) -> int:
        """Non-empty lines from ``pos`` to the end, counting at most ``limit``."""
        count = 0
        while pos < len(self.text) and count < limit:
            nxt = self.text.find("\n", pos)
            nxt = len(self.text) if nxt < 0 else nxt
            if self.text[pos:nxt].strip():
                count += 1
            pos = nxt + 1
        return count

    def _spans(self, matcher: TermMatcher) -> tuple[list[tuple[int, int]], list[int]]:
        """The matcher's spans in this text, sorted, and their starts: a bisect on the starts
        finds the same index as one on the spans with (start, 0) (ends are >= 0), comparing
        ints instead of tuples."""
        spans = sorted((m.start, m.end) for m in matcher.find(self.text))
        return spans, [s for s, _ in spans]

    def is_staff(self, hit: Hit) -> bool:
        """A title right before the name (juf, collega ...) or a staff-work sentence."""
        text = self.text
        start, end = hit.start, hit.end
        if self._titles is None:
            self._titles = self._spans(cues().staff_title)
        titles, title_starts = self._titles
        # the clause start only matters within 30 characters before the name: look no further
        # back (a text without commas would be scanned from its start for every name)
        window = max(0, start - 30)
        lo = bisect.bisect_left(title_starts, window)
        # only titles starting in [max(clause, window), end) count: with none in [window, end)
        # (most names) the clause start cannot matter and is not searched for
        if lo < len(titles) and title_starts[lo] < end:
            last = _LAST_CLAUSE_BREAK.match(text, window, start)
            clause = last.end() if last else 0
            if clause > window:
                lo = bisect.bisect_left(title_starts, clause)
            for k in range(lo, len(titles)):
                s, e = titles[k]
                if s >= end:
                    break
                between = text[e:start] if e <= start else ""
                if s >= start or len(between.split()) <= 1:  # "juf Anna", "nieuwe collega Mark"
                    return True
        if self._sentences is None:
            self._sentences = self._spans(cues().staff_sentence)
        sentence_starts = self._sentences[1]
        if not sentence_starts:
            return False
        last = _LAST_SENTENCE_END.match(text, max(0, start - 300), start)
        s0 = last.end() if last else 0
        found = _SENTENCE_END.search(text, end, end + 300)
        e0 = found.start() if found else min(len(text), end + 300)
        i = bisect.bisect_left(sentence_starts, s0)
        return i < len(sentence_starts) and sentence_starts[i] < e0

    def student_near(self, hit: Hit, window: int = STUDENT_WINDOW) -> bool:
        spans = self.student_spans  # in text order
        if not spans:
            return False
        starts = self._student_starts
        start, end = hit.start, hit.end
        # the spans starting in [start - window - 200, end + window), without copying the tail
        for k in range(bisect.bisect_left(starts, start - window - 200),
                       bisect.bisect_left(starts, end + window)):
            s, e = spans[k]
            if e > start - window and not (s >= start and e <= end):
                return True
        return False

    def grade_term_counts(self, hit: Hit) -> bool:
        """A ``cijfers`` term counts when it is specific, or a weak one with grade context."""
        if self.text[hit.start:hit.end].lower() not in WEAK_GRADE_TERMS:
            return True
        if self._grade_context is None:
            self._grade_context = bool(_GRADE_CONTEXT.search(self.text))
        return self._grade_context

    def has_student_word(self) -> bool:
        return bool(self.student_spans)


def judge(units: list[tuple[str, list[Hit]]]) -> tuple[bool, list[str], list[str], set[int]]:
    """Decide over all analysed texts of one item.

    Returns (student_data, categories, reasons, ignored) where ``ignored`` holds ids of hits
    (``id(hit)``) that are correspondents' contact details and do not count for categories.
    """
    # defaultdicts, not Counters: both are only ever incremented, and an empty Counter() takes
    # about 3x as long to make (its __init__ runs update() in Python), twice per item
    counts: defaultdict[str, int] = defaultdict(int)
    categories: set[str] = set()
    term_categories: defaultdict[str, int] = defaultdict(int)
    ignored: set[int] = set()
    decisive = False
    subjects = 0  # subject names of all texts (after _drop_other_mentions)
    dated: list[str] = []
    all_facts: list[TextFacts] = []
    category_term, birth_date, id_document = E.CATEGORY_TERM, E.DATE_OF_BIRTH, E.NL_ID_DOCUMENT
    for text, hits in units:
        facts = TextFacts(text)
        in_signature = facts.in_signature
        # the category terms that can make a name a subject (not in a signature, a weak grade
        # term only with grade context), collected in the one pass over the hits below
        terms: list[Hit] = []
        named: list[Hit] = []  # this text's subject names, in hit order
        staff: list[Hit] = []  # this text's names of staff (for _drop_other_mentions)
        names = 0
        for hit in hits:
            entity = hit.entity
            if entity == category_term:
                if in_signature(hit.start):
                    if hit.category:  # "Intern begeleider" under a mail
                        counts["term_in_ondertekening"] += 1
                    continue
                counted = hit.category != "cijfers" or facts.grade_term_counts(hit)
                if counted:
                    terms.append(hit)
                if hit.category:
                    if counted:
                        term_categories[hit.category] += 1
                    else:
                        counts["cijfers_zonder_cijfercontext"] += 1
                continue
            rule = DECISIVE.get(entity)
            if rule:
                counts[rule] += 1
                decisive = True
                if hit.category:
                    categories.add(hit.category)
            elif entity in NAME_ENTITIES:
                names += 1
                if facts.is_correspondent(hit):
                    counts["naam_correspondent"] += 1
                elif facts.is_staff(hit):
                    counts["naam_personeel"] += 1
                    staff.append(hit)
                else:
                    named.append(hit)
            elif entity in CONTACT_ENTITIES:
                if in_signature(hit.start) or facts.is_correspondent(hit):
                    ignored.add(id(hit))
                    counts["contact_afzender"] += 1
                else:
                    counts[f"contact:{entity}"] += 1
                    categories.add("contactgegevens")
            elif entity == birth_date:
                dated.append("geboortedatum")
            elif entity == id_document:
                dated.append("id_document")
        if named and len(named) < names:
            # "burgemeester Wiebigje Tange ... Wiebigje vertelde": a later mention of a titled
            # person is that person, not a pupil
            named = _drop_other_mentions(text, named, staff, counts)
        subjects += len(named)
        for hit in named:
            if facts.student_near(hit):
                counts["naam_met_leerlingcontext"] += 1
                decisive = True
            elif any(t.start < hit.end + CATEGORY_WINDOW and t.end > hit.start - CATEGORY_WINDOW
                     for t in terms):
                counts["naam_met_categorie"] += 1
                decisive = True
            else:
                counts["naam_zonder_context"] += 1
        all_facts.append(facts)
    if dated:
        categories.add("identificatie")
        # with a subject name anywhere the student words do not matter: not looked for
        if subjects or any(f.has_student_word() for f in all_facts):
            for kind in dated:
                counts[f"{kind}_met_context"] += 1
            decisive = True
        else:
            for kind in dated:
                counts[f"{kind}_zonder_context"] += 1
    for category, n in term_categories.items():
        counts[f"term:{category}"] += n
    if decisive:
        categories.update(term_categories)
        ordered = [c for c in CATEGORY_ORDER if c in categories]
    else:
        ordered = []
    reasons = [f"{rule}:{n}" for rule, n in sorted(counts.items())]
    return decisive, ordered, reasons, ignored


# --- explanations ------------------------------------------------------------------------------

_RULE_TEXT = {
    "bsn": ("{n}× een burgerservicenummer (BSN, 11-proef en context)",
            "{n}× a citizen service number (BSN, check digit and context)"),
    "onderwijsnummer": ("{n}× een onderwijsnummer (PGN van een leerling zonder BSN)",
                        "{n}× an education number (PGN of a pupil without BSN)"),
    "leerlingenlijst": ("{n}× een naam of nummer van de eigen leerlingenlijst",
                        "{n}× a name or number from the school's student roster"),
    "leerlingnummer": ("{n}× een leerlingnummer", "{n}× a student number"),
    "naam_met_leerlingcontext": ("{n}× een naam bij leerlingwoorden (leerling, groep, klas, ouders van ...)",
                                 "{n}× a name next to student words (pupil, class, parents of ...)"),
    "naam_met_categorie": ("{n}× een naam bij een gevoelige term (gezondheid, zorg, verzuim ...)",
                           "{n}× a name next to a sensitive term (health, care, absence ...)"),
    "naam_zonder_context": ("{n}× een naam zonder leerlingcontext (telt niet mee)",
                            "{n}× a name without student context (not counted)"),
    "naam_correspondent": ("{n}× een naam in aanhef, ondertekening of kopregel (telt niet mee)",
                           "{n}× a name in a greeting, signature or header line (not counted)"),
    "naam_personeel": ("{n}× een naam van personeel of een publieke functie (juf, collega, "
                       "burgemeester; telt niet mee)",
                       "{n}× a name of staff or a public office (not counted)"),
    "naam_herhaald": ("{n}× een naam die in de tekst met een functie (juf, burgemeester) voorkomt "
                      "(telt niet mee)",
                      "{n}× a name the text gives with a title of staff or office (not counted)"),
    "geboortedatum_met_context": ("{n}× een geboortedatum bij een leerling",
                                  "{n}× a date of birth of a pupil"),
    "geboortedatum_zonder_context": ("{n}× een geboortedatum zonder leerlingcontext",
                                     "{n}× a date of birth without student context"),
    "id_document_met_context": ("{n}× een nummer van een paspoort of ID-kaart bij een leerling",
                                "{n}× a passport or ID card number of a pupil"),
    "id_document_zonder_context": ("{n}× een nummer van een paspoort of ID-kaart",
                                   "{n}× a passport or ID card number"),
    "term_in_ondertekening": ("{n}× een categorieterm in een ondertekening (functie; telt niet mee)",
                              "{n}× a category term in a signature (job title; not counted)"),
    "detectiefout": ("{n}× kon een tekstdeel niet onderzocht worden (fout in de detectie)",
                     "{n}× a text part could not be analysed (detection error)"),
    "cijfers_zonder_cijfercontext": ("{n}× 'cijfer(s)' of 'score' zonder toets, rapport of cijfer "
                                     "op de schaal 1-10 (telt niet mee)",
                                     "{n}× 'grade(s)' or 'score' without a test, report or 1-10 mark (not counted)"),
    "contact_afzender": ("{n}× contactgegevens van de afzender (ondertekening; telt niet mee)",
                         "{n}× the sender's contact details (signature; not counted)"),
}
_CONTACT_TEXT = {
    E.PHONE_NUMBER: ("telefoonnummer", "phone number"),
    E.EMAIL_ADDRESS: ("e-mailadres", "e-mail address"),
    E.NL_ADDRESS: ("adres", "address"),
    E.IBAN_CODE: ("IBAN-rekeningnummer", "IBAN bank account"),
}


def explain_reasons(student_data: bool, categories: list[str], reasons: list[str],
                    lang: str = "nl") -> list[str]:
    """Human lines for a verdict's reasons (no values, only kinds and counts)."""
    en = lang.lower().startswith("en")
    i = 1 if en else 0
    lines = [
        ("Contains student personal data." if en else "Bevat persoonsgegevens van leerlingen.")
        if student_data
        else ("No student personal data found." if en else "Geen persoonsgegevens van leerlingen gevonden.")
    ]
    if categories:
        labels = ", ".join(category_label(c, "en" if en else "nl") for c in categories)
        lines.append(("Categories: " if en else "Categorieën: ") + labels)
    for reason in reasons:
        rule, _, n = reason.rpartition(":")
        if rule.startswith("term:"):
            cat = rule.split(":", 1)[1]
            label = category_label(cat, "en" if en else "nl")
            lines.append(f"{n}× a term of category {label}" if en else f"{n}× een term uit categorie {label}")
        elif rule.startswith("contact:"):
            kind = _CONTACT_TEXT.get(rule.split(":", 1)[1], (rule, rule))[i]
            lines.append(f"{n}× {kind}")
        elif rule in _RULE_TEXT:
            lines.append(_RULE_TEXT[rule][i].format(n=n))
        else:
            lines.append(f"{n}× {rule}")
    return lines
