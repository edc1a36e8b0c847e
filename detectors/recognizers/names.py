"""PERSON without a model: name lists, a Dutch word list and the cues Dutch text gives.

The nl_core_news models are not always installable (offline schools, locked-down servers), so
the default install needs another way to find the names that make school mail personal. A
school's pupils carry names from everywhere, so a hand list of Dutch names cannot be the whole
answer. This recognizer combines:

* name lists derived from maintained data (``scripts/build_name_data.py``: names-dataset's top
  first and last names of ~50 countries, plus the project's own hand lists);
* a Dutch word list (OpenTaal) and a list of places/organisations: Dutch capitalises proper
  nouns, not common nouns, so a capitalised token that is no Dutch word is a proper noun, and a
  name that is also a word (Roos, Bas, Winter, Visser) or a place (Gent) needs context;
* cues: titles ("mevrouw", "premier"), initials, tussenvoegsels, speech verbs ("zei", "aldus"),
  greetings ("Beste Aylin,"), relations ("de moeder van Daan"), signatures;
* the text itself: once a full name is found, its surname or first name alone later in the same
  text is the same person ("Kim Clijsters ... Clijsters zei").

Scores (the engine's threshold is 0.5):

* first name + (tussenvoegsel) + known surname, or with a tussenvoegsel: 0.85;
* first name + an unknown capitalised non-word: 0.7; two unknown proper nouns mid-sentence: 0.55;
* title or initials + (tussenvoegsel) + a name-like word: 0.75;
* a later mention of a found name's part: 0.75; a cue (greeting, speech verb, relation): 0.7;
* a first name alone: 0.6, unless it is also a word or a place: 0.3;
* a surname alone without a cue is never a name (Bakker, Visser, De Jong are also words).

Only spaces/tabs may separate the parts: a line break ends a name.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import operator
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from detectors.entities import PERSON
from detectors.recognizers.base import DutchRecognizer
from detectors.termlists import DATA_DIR, read_term_file

_UP = "A-ZÀ-ÖØ-ÞĀĂĄĆČĎĐĒĖĘĚĞĢĪĮİĶĹĻĽŁŃŅŇŌŐŒŔŘŚŞŠŢŤŪŮŰŲŸŹŻŽ"
_LOW = "a-zà-öø-ÿ\u0100-\u017f'’"  # Latin-1 and Latin Extended-A: Yılmaz, Wiśniewski, Şahin
CAP = rf"[{_UP}][{_LOW}]+(?:-[{_UP}][{_LOW}]+)*"
_HYPHEN_TV = rf"{CAP}-(?:van der|van den|van de|van|de|der|den|ter|ten|te|el|al) {CAP}"
"""A double surname whose second part has a tussenvoegsel ("Jansen-de Boer"): one token."""
_WORD = re.compile(
    # each special alternative starts with a lookahead that is implied by it: the regex engine
    # tries the alternatives at every position, and the cheap guard rejects most of them at
    # once (2.4x faster tokenizing, same tokens)
    rf"(?<!\w)(?=[{_UP}][^\s-]*-){_HYPHEN_TV}(?![\w@])"
    r"|(?<!\w)(?=(?i:[dmfpi]))(?i:dhr|mevr|mw|mnr|mr|dr|prof|fam|ir|drs|ing)\."
    rf"|(?=[{_UP}]\.)(?:[{_UP}]\.){{1,4}}(?!\w)"
    r"|[\w'’]+(?:-[\w'’]+)*|\S"
)
_INITIALS = re.compile(rf"^(?:[{_UP}]\.){{1,4}}$")
_CAP_TOKEN = re.compile(rf"^(?:{_HYPHEN_TV}|{CAP})$")
_NOT_NAME = frozenset(
    [
        "De",
        "Het",
        "Een",
        "En",
        "Is",
        "Op",
        "In",
        "Van",
        "Voor",
        "Met",
        "Aan",
        "Bij",
        "Uit",
        "Om",
        "Te",
        "Naar",
        "Ook",
        "Maar",
        "Dat",
        "Die",
        "Dit",
        "Wat",
        "Wie",
        "Groep",
        "Klas",
        "Heeft",
        "Had",
        "Was",
        "Wordt",
        "Werd",
        "Gaat",
        "Kan",
        "Mag",
        "Moet",
        "Zal",
        "Wil",
        "Komt",
        "Kwam",
        "Krijgt",
        "Zit",
        "Maandag",
        "Dinsdag",
        "Woensdag",
        "Donderdag",
        "Vrijdag",
        "Zaterdag",
        "Zondag",
        "Januari",
        "Februari",
        "Maart",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Augustus",
        "September",
        "Oktober",
        "November",
        "December",
        "Beste",
        "Hoi",
        "Hallo",
        "Groet",
        "Groeten",
        "Ik",
        "Jij",
        "Hij",
        "Zij",
        "Wij",
        "We",
        "Je",
        "Ze",
        "U",
        "Mijn",
        "Onze",
        "Jouw",
        "Uw",
        "Hun",
        "Zijn",
        "Haar",
        "Niet",
        "Wel",
        "Nog",
        "Al",
        "Dan",
        "Als",
        "School",
        "Leerling",
        "Ouders",
        "Mentor",
        "Juf",
        "Meester",
        "Collega",
        "Team",
        "Geachte",
        "Lieve",
        "Dag",
        "Dank",
        "Bedankt",
        "Namens",
        "Vriendelijke",
        "Hartelijke",
        "Met",
        "Vertrouwelijk",
        "Bijlage",
        "Onderwerp",
        "Datum",
        "Naam",
        "Tel",
        "Mail",
        "Nieuwsbrief",
        "Agenda",
        "Beleid",
        "Notulen",
        "Voorzitter",
        "Rapport",
        "Toets",
        "Cijfer",
        "The",
        "And",
        "Of",
        "For",
        "Dear",
    ]
)
TITLES = frozenset(
    [
        "mevrouw",
        "mevr",
        "mevr.",
        "mw",
        "mw.",
        "meneer",
        "mijnheer",
        "mnr",
        "mnr.",
        "dhr",
        "dhr.",
        "heer",
        "juf",
        "juffrouw",
        "meester",
        "familie",
        "fam",
        "fam.",
        "dr",
        "dr.",
        "prof",
        "prof.",
        "mr",
        "mr.",
        "ir",
        "ir.",
        "ing",
        "ing.",
        "drs",
        "drs.",
        "premier",
        "minister",
        "staatssecretaris",
        "president",
        "burgemeester",
        "wethouder",
        "trainer",
        "coach",
        "bondscoach",
        "voorzitter",
        "directeur",
        "schrijver",
        "schrijfster",
        "zanger",
        "zangeres",
        "acteur",
        "actrice",
        "collega",
        "oud-premier",
        "oud-minister",
        "kamerlid",
        "advocaat",
        "rechter",
        "agent",
        "rector",
        "conrector",
        "teamleider",
        "mentor",
        "ib'er",
        "leerkracht",
        "docent",
        "docente",
        "zuster",
        "broeder",
        "pastoor",
        "dominee",
        "imam",
        "rabbijn",
        "sir",
        "koning",
        "koningin",
        "prins",
        "prinses",
        "paus",
        "kapitein",
        "aanvoerder",
        "spits",
        "doelman",
        "keeper",
    ]
)
_TITLES_BARE = frozenset(x.rstrip(".") for x in TITLES)
_SPEECH = frozenset(
    [
        "zei",
        "zegt",
        "vertelde",
        "vertelt",
        "verklaarde",
        "verklaart",
        "aldus",
        "antwoordde",
        "reageerde",
        "meldde",
        "meldt",
        "schreef",
        "schrijft",
        "vond",
        "vindt",
        "stelde",
        "stelt",
        "benadrukte",
        "liet",
        "vroeg",
        "vraagt",
        "riep",
    ]
)
_RELATION = frozenset(
    [
        "moeder",
        "vader",
        "ouders",
        "ouder",
        "zoon",
        "dochter",
        "broer",
        "broertje",
        "zus",
        "zusje",
        "oma",
        "opa",
        "tante",
        "oom",
        "verzorger",
        "verzorgers",
        "pleegouders",
        "voogd",
    ]
)
_FORM_LABELS = frozenset(
    [
        "naam",
        "achternaam",
        "voornaam",
        "voornamen",
        "roepnaam",
        "leerling",
        "kind",
        "ouder",
        "verzorger",
        "moeder",
        "vader",
        "contactpersoon",
        "aanvrager",
        "afzender",
        "ondertekenaar",
        "mentor",
        "leerkracht",
    ]
)
_GREETING = frozenset(
    ["beste", "hoi", "hallo", "lieve", "dag", "hey", "hee", "geachte", "goedemorgen", "goedemiddag"]
)
_CLOSING = re.compile(
    r"^[ \t>]*(?:met )?(?:vriendelijke |hartelijke |lieve |warme |sportieve )?(?:groet(?:en)?|"
    r"mvg|gr\.?|groetjes|dank|bedankt|namens)\b[^\n]{0,25}$",
    re.I | re.M,
)


def _read(path: Path) -> list[str]:
    return read_term_file(path) if path.is_file() else []


_FOLD = str.maketrans("ıłøđŁØĐ", "ilodLOD")


@functools.lru_cache(maxsize=65536)
def fold(token: str) -> str:
    """The token without diacritics: data sets spell "Ayşe" as "Ayse", "Wiśniewski" both ways.

    Memoised: the same capitalised words recur in every text, and NFKD per call was a visible
    part of name detection."""
    decomposed = unicodedata.normalize("NFKD", token.translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class NameLexicon:
    """The name, word and place lists, loaded once per process (a few MB, ~0.2 s)."""

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        hand_first = _read(data_dir / "first_names.txt")
        hand_last = _read(data_dir / "surnames.txt")
        first = hand_first + _read(data_dir / "names_first.txt")
        last = hand_last + _read(data_dir / "names_last.txt")
        self.words = frozenset(_read(data_dir / "words_nl.txt"))
        # with and without diacritics: a pupil's name is written both ways (but "Önder" folded
        # is the word "Onder")
        self.first = frozenset(first) | self._folded(first)
        self.surnames = frozenset(last) | self._folded(last)
        # hand lists are curated: a hand-listed Dutch name is a strong name even when the data
        # set also calls it a word (unless the hand ambiguous list says so)
        self.ambiguous = frozenset(_read(data_dir / "ambiguous_first_names.txt")) | (
            frozenset(_read(data_dir / "names_ambiguous.txt")) - frozenset(hand_first)
        )
        self.places = frozenset(_read(data_dir / "places_nl.txt")) - frozenset(
            hand_first + hand_last
        )
        self.tussenvoegsels = frozenset(t.lower() for t in _read(data_dir / "tussenvoegsels.txt"))
        self.tv_words = frozenset(w for t in self.tussenvoegsels for w in t.split())

    def _folded(self, names: list[str]) -> frozenset[str]:
        # an ASCII name folds to itself and is in the unfolded set already: skipping those
        # (nearly all) leaves the union unchanged and takes two thirds off loading the lists
        plain = (fold(n) for n in names if not n.isascii())
        return frozenset(p for p in plain if p.lower() not in self.words and p not in _NOT_NAME)

    def is_word(self, token: str) -> bool:
        """An ordinary Dutch word (or a function word), whatever its capital."""
        return token in _NOT_NAME or token.lower() in self.words

    def compound(self, token: str) -> bool:
        """A Dutch compound of two words ("Montessorischool", "Oudercommissie")."""
        low = token.lower()
        words = self.words
        for cut in range(3, len(low) - 3):
            head, tail = low[:cut], low[cut:]
            if tail in words and (head in words or (head.endswith("s") and head[:-1] in words)):
                return True
        return False

    def name_like(self, token: str) -> bool:
        """Could be a surname: a known one, or a capitalised token that is no word or place."""
        head = token.split("-")[0]
        if token in _NOT_NAME or head in _NOT_NAME:
            return False
        if head in self.surnames or token in self.surnames or fold(head) in self.surnames:
            return True
        return not self.is_word(head) and head not in self.places

    def strong_first(self, token: str) -> bool:
        head = token.split("-")[0]
        return (
            (token in self.first or head in self.first or fold(head) in self.first)
            and token not in self.ambiguous
            and token not in _NOT_NAME
        )


_LEXICON: NameLexicon | None = None


def name_lexicon() -> NameLexicon:
    """The shared, lazily loaded name lists (read once per worker process)."""
    global _LEXICON
    if _LEXICON is None:
        _LEXICON = NameLexicon()
    return _LEXICON


_SENTENCE_END = frozenset(".!?")
_KEEPS_INITIAL = frozenset("-•*>\"'“‘(:")
_GAP_WORD = re.compile(rf"(\s*)({_WORD.pattern})")
"""A token with the whitespace before it: every character of a text is either whitespace or
part of a token (``\\S`` is the last alternative), so the gaps and words give the offsets."""


class _Tokens:
    """The tokens of one text as parallel sequences (words, the whitespace before each, offsets).

    Built by one ``findall`` and C-level ``map``/``accumulate`` calls, so no Python code runs per
    token: one object per token was the biggest part of name detection (~180 tokens per kB).
    What a name needs of a token beyond its text (first word of a sentence, first on a line) is
    worked out only for the few tokens that can start a name."""

    __slots__ = ("words", "gaps", "starts", "ends", "n")

    def __init__(self, text: str) -> None:
        # trailing whitespace holds no token; leaving it out keeps findall from retrying the
        # gap group at every position of a long blank tail (same tokens: a token never ends in
        # or looks past whitespace)
        pairs = _GAP_WORD.findall(text, 0, len(text.rstrip()))
        gaps: tuple[str, ...] = ()
        words: tuple[str, ...] = ()
        if pairs:
            gaps, words = zip(*pairs, strict=True)
        lengths = list(map(len, words))
        self.words = words
        self.gaps = gaps  # gaps[i] is text[ends[i - 1]:starts[i]] (gaps[0]: before the first)
        self.ends = list(itertools.accumulate(map(operator.add, map(len, gaps), lengths)))
        self.starts = list(map(operator.sub, self.ends, lengths))
        self.n = len(words)

    def line_start(self, i: int) -> bool:
        """The first token of a line."""
        return i == 0 or "\n" in self.gaps[i]

    def initial(self, i: int) -> bool:
        """The first word of a sentence or line: its capital says nothing. A bullet, quote or
        bracket at the start keeps the next word initial."""
        words, gaps = self.words, self.gaps
        while i and "\n" not in gaps[i]:
            prev = words[i - 1]
            if prev in _SENTENCE_END:
                return True
            if prev not in _KEEPS_INITIAL:
                return False
            i -= 1
        return True


# what a word is, by its text alone (cached per recognizer: the same words recur in every text)
_CAPW = 1  # a capitalised word (_CAP_TOKEN)
_NAMECAP = 2  # ... that is no function word (_NOT_NAME): it continues a name chunk
_INIT = 4  # initials ("J.P.")
_TV = 8  # a tussenvoegsel word, whatever its capital
_PLAIN = 16  # an ordinary capitalised Dutch word no name list knows (see _plain_word)
_DEAD = 32  # can start no name chunk: not capitalised and no tussenvoegsel, or a capitalised
# function word that is no tussenvoegsel (the chunk would end before it)
_KIND_CACHE_MAX = 200_000


def _same_line_gap(gap: str) -> bool:
    """One or two spaces or tabs: the parts of a name are never split by a line break."""
    return gap == " " or (0 < len(gap) <= 2 and gap.strip(" \t") == "")


class NameLexiconRecognizer(DutchRecognizer):
    """PERSON from name lists, the Dutch word list, cues and earlier mentions (see module)."""

    ENTITY = PERSON
    RULE = None

    def __init__(self, lexicon: NameLexicon | None = None) -> None:
        self.lexicon = lexicon or name_lexicon()
        self._kinds: dict[str, int] = {}
        # every spelling whose lower() is a tussenvoegsel word: a set test on the raw words
        # finds the tokens that may start a name without lower-casing every token
        # (tests/detectors/test_names.py checks no other character lower-cases into them)
        self._tv_any_case = frozenset(
            "".join(p) for w in self.lexicon.tv_words
            for p in itertools.product(*({c, c.upper()} for c in w))
        )
        super().__init__()

    def _kind(self, word: str) -> int:
        """The word's :data:`_CAPW`... flags (memoised)."""
        kind = self._kinds.get(word)
        if kind is None:
            kind = self._classify(word)
            if len(self._kinds) >= _KIND_CACHE_MAX:
                self._kinds.clear()
            self._kinds[word] = kind
        return kind

    def _classify(self, word: str) -> int:
        lex = self.lexicon
        kind = 0
        if _CAP_TOKEN.match(word):
            kind |= _CAPW
            if word not in _NOT_NAME:
                kind |= _NAMECAP
        if _INITIALS.match(word):
            kind |= _INIT
        if word.lower() in lex.tv_words:
            kind |= _TV
        if kind & _CAPW:
            head = word.split("-")[0]
            if lex.is_word(head):
                folded = fold(head)
                if not (word in lex.first or head in lex.first or folded in lex.first
                        or word in lex.surnames or head in lex.surnames
                        or folded in lex.surnames):
                    kind |= _PLAIN
        if not kind & (_NAMECAP | _INIT | _TV):
            kind |= _DEAD
        return kind

    # -- chunks ----------------------------------------------------------------------------
    def _chunk(self, toks: _Tokens, i: int) -> int:
        """Index after the name-shaped run starting at ``i`` (caps, tussenvoegsels, initials)."""
        lex = self.lexicon
        words, gaps, n = toks.words, toks.gaps, toks.n
        kind_of = self._kind
        j = i
        while j < n:
            if j > i and not _same_line_gap(gaps[j]):
                break
            kind = kind_of(words[j])
            if kind & _NAMECAP:
                j += 1
                continue
            if kind & _INIT and j == i:
                j += 1
                continue
            if kind & _TV and j + 1 < n:
                k = j
                while k < n and kind_of(words[k]) & _TV and _same_line_gap(gaps[k]):
                    k += 1
                if (
                    k < n
                    and kind_of(words[k]) & _CAPW
                    and _same_line_gap(gaps[k])
                    and " ".join(w.lower() for w in words[j:k]) in lex.tussenvoegsels
                ):
                    j = k
                    continue
            break
        return j

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:
        toks = _Tokens(text)
        words, n = toks.words, toks.n
        found: list[tuple[int, int, float]] = []
        parts_seen: dict[str, None] = {}
        closings: list[int] | None = None
        kinds = self._kinds
        kind_of = self._kind
        # only a capital, an initial or a tussenvoegsel can start a name: C-level filter
        may_start = map(
            operator.or_,
            map(str.isupper, map(operator.itemgetter(0), words)),
            map(self._tv_any_case.__contains__, words),
        )
        pos = 0  # the first token not yet consumed by a chunk
        for i in itertools.compress(itertools.count(), may_start):
            if i < pos:
                continue
            word = words[i]
            kind = kinds.get(word)
            if kind is None:
                kind = kind_of(word)
            if kind & _DEAD:
                continue
            if not kind & (_CAPW | _INIT) and not (
                i + 1 < n
                and kind_of(words[i + 1]) & _CAPW
                and i > 0
                and words[i - 1].lower().rstrip(".") in _TITLES_BARE
            ):
                continue
            j = self._chunk(toks, i)
            if j == i:
                continue
            if j == i + 1 and kind & _PLAIN and not self._titled_before(words, i):
                # an ordinary Dutch word no name list knows, no title before it: _judge would
                # turn it down whatever its context (most capitalised tokens: sentence starts)
                pos = i + 1
                continue
            if closings is None:
                closings = [m.end() for m in _CLOSING.finditer(text)]
            hit = self._judge(toks, i, j, closings)
            if hit is not None:
                start, end, score, parts = hit
                found.append((start, end, score))
                # a full name, or one word a cue vouches for ("de moeder van Collette"): later
                # mentions of its parts are that person ("... slaapt Collette slecht")
                if len(parts) > 1 or score >= 0.7:
                    for p in parts:
                        parts_seen[p] = None
                pos = j
                continue
            pos = j if j > i + 1 else i + 1
        if parts_seen:
            # a part of a full name found anywhere in the text is that person, also where it
            # alone looked like a word ("Wout Vandenbroucke ... Wout was ziek")
            found = [
                (s, e, 0.75 if sc < 0.5 and text[s:e] in parts_seen else sc) for s, e, sc in found
            ]
            found.extend(self._later_mentions(toks, found, parts_seen))
        return _drop_contained(found)

    @staticmethod
    def _titled_before(words: tuple[str, ...], i: int) -> bool:
        prev = words[i - 1].lower().rstrip(".") if i > 0 else ""
        return prev in _TITLES_BARE or prev == "heer"

    def _judge(
        self, toks: _Tokens, i: int, j: int, closings: list[int]
    ) -> tuple[int, int, float, list[str]] | None:
        lex = self.lexicon
        words, n = toks.words, toks.n
        kind_of = self._kind
        caps = [k for k in range(i, j) if kind_of(words[k]) & _CAPW and not kind_of(words[k]) & _TV]
        has_tv = any(kind_of(words[k]) & _TV for k in range(i, j))
        has_initials = bool(kind_of(words[i]) & _INIT)
        prev = words[i - 1].lower() if i > 0 else ""
        prev2 = words[i - 2].lower() if i > 1 else ""
        nxt = words[j].lower() if j < n else ""
        start = toks.starts[i]
        if not caps:
            return None
        # trim trailing words that are ordinary words (a sentence going on after a first name)
        last_k = j - 1  # the chunk's last token
        while (
            len(caps) > 1
            and caps[-1] == last_k
            and words[last_k] not in lex.surnames
            and (lex.is_word(words[last_k]) or words[last_k] in _NOT_NAME)
        ):
            last_k -= 1
            caps.pop()
            has_tv = any(kind_of(words[k]) & _TV for k in range(i, last_k + 1))
        end = toks.ends[last_k]
        names = [words[k] for k in caps]
        last = names[-1]
        first = names[0]
        titled = prev.rstrip(".") in _TITLES_BARE or (prev == "heer" and prev2 == "de")
        if titled and (lex.name_like(last) or has_tv or last in lex.first or last in lex.surnames):
            title_start = toks.starts[i - 1] if prev != "heer" else toks.starts[i - 2]
            # "juf Petra": the title is part of how the person is named
            return title_start, end, 0.75, names
        if has_initials and lex.name_like(last):
            return start, end, 0.75 if (has_tv or last in lex.surnames) else 0.6, [last]
        if len(caps) >= 2:
            signed = (self._after_closing(toks, i, j, closings) or prev in _GREETING
                      or nxt in _SPEECH or _pupil_next(words, j))
            return self._full(names, has_tv, start, end, not signed and toks.initial(i), signed)
        # one capitalised word (maybe with a tussenvoegsel: "De Vries" alone is not a name)
        if has_tv:
            return None
        word = first
        if prev == "/" or nxt == "/":  # "Meta/Facebook", "Naam/Groep": not a person
            return None
        cue = self._cue(toks, i, j, prev, nxt, closings)
        if lex.strong_first(word) and word not in lex.places:
            return start, end, 0.7 if cue else 0.6, [word]
        if (
            cue
            and (word in lex.first or word in lex.surnames or lex.name_like(word))
            and word not in lex.places
        ):
            return start, end, 0.7, [word]
        if word in lex.first:
            return start, end, 0.3, [word]
        return None

    def _full(
        self, names: list[str], has_tv: bool, start: int, end: int, initial: bool,
        signed: bool = False,
    ) -> tuple[int, int, float, list[str]] | None:
        lex = self.lexicon
        first, last = names[0], names[-1]
        head = first.split("-")[0]
        is_first = (
            first in lex.first or head in lex.first or fold(head) in lex.first
        ) and first not in lex.places
        ambiguous = first in lex.ambiguous or (initial and lex.is_word(first))  # "Elke Roos ..."
        last_known = last in lex.surnames or fold(last.split("-")[0]) in lex.surnames
        if is_first and not ambiguous:
            if last_known or has_tv:
                return start, end, 0.85, names
            if not lex.is_word(last):
                return start, end, 0.7, names
            return None
        if is_first:  # a first name that is also a word: the surname must carry it
            if (last_known and not lex.is_word(last)) or has_tv:
                return start, end, 0.7, names
            if last_known and not initial:
                return start, end, 0.6, names
            return None
        if lex.is_word(head) or first in lex.places or first in _NOT_NAME or lex.compound(head):
            return None
        if last_known and not lex.is_word(last):
            return start, end, 0.6, names
        if not initial and lex.name_like(last) and not lex.compound(last) and len(names) == 2:
            return start, end, 0.55, names
        if signed and len(names) == 2 and not lex.is_word(last) and not lex.compound(last):
            # alone on the line under "Groet,": a name even when a village is called so too
            return start, end, 0.55, names
        return None

    def _cue(
        self, toks: _Tokens, i: int, j: int, prev: str, nxt: str, closings: list[int]
    ) -> bool:
        """Context that says the single capitalised word at ``toks[i:j]`` is a person."""
        words = toks.words
        if nxt in _SPEECH or (prev in _SPEECH and i > 1) or _pupil_next(words, j):
            return True
        if prev in _GREETING and nxt in {",", "\n", ""} | {"!"}:
            return True
        if prev == "van" and i > 1 and words[i - 2].lower() in _RELATION:
            return True
        if prev == ":" and i > 1 and words[i - 2].lower() in _FORM_LABELS:
            return True
        return self._after_closing(toks, i, j, closings)

    @staticmethod
    def _after_closing(toks: _Tokens, i: int, j: int, closings: list[int]) -> bool:
        """A name alone on a line right after a closing ("Groet,\nAylin")."""
        if toks.line_start(i) and (j >= toks.n or "\n" in toks.gaps[j]):
            line_start = toks.starts[i]
            return any(0 <= line_start - c <= 3 for c in closings)
        return False

    @staticmethod
    def _later_mentions(
        toks: _Tokens, found: list[tuple[int, int, float]], parts: dict[str, None]
    ) -> list[tuple[int, int, float]]:
        """First or last name alone elsewhere in the text, once the full name was found."""
        covered = sorted((s, e) for s, e, _ in found)
        starts = [s for s, _ in covered]
        reach = list(itertools.accumulate((e for _, e in covered), max))  # furthest end so far
        extra: list[tuple[int, int, float]] = []
        words, tok_starts, tok_ends = toks.words, toks.starts, toks.ends
        for k in itertools.compress(itertools.count(), map(parts.__contains__, words)):
            if words[k] not in _NOT_NAME:
                # inside a found span: a span starting at or before it reaches past it
                at = tok_starts[k]
                c = bisect.bisect_right(starts, at)
                if c and reach[c - 1] > at:
                    continue
                extra.append((at, tok_ends[k], 0.75))
        return extra


_CLASS_WORDS = frozenset(["groep", "klas", "leerjaar", "mentorgroep", "mentorklas"])


def _pupil_next(words: tuple[str, ...], j: int) -> bool:
    """The words after a name place it in a class: "Grzeniu Korzec uit groep 7", "Daan (groep
    5)", "Aylin zit in klas 2b". Its capital then says something even at a sentence start."""
    if j + 1 >= len(words):
        return False
    a, b = words[j].lower(), words[j + 1].lower()
    if a in ("uit", "in", "van") or a == "(":
        return b in _CLASS_WORDS
    if a == "zit" and j + 2 < len(words):
        return b == "in" and words[j + 2].lower() in _CLASS_WORDS
    return False


def _drop_contained(found: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Keep the longest of overlapping spans (a first name inside a full name goes)."""
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    kept: list[tuple[int, int, float]] = []
    for start, end, score in found:
        if kept and start < kept[-1][1]:
            if end - start > kept[-1][1] - kept[-1][0]:
                kept[-1] = (start, end, max(score, kept[-1][2]))
            continue
        kept.append((start, end, score))
    return kept
