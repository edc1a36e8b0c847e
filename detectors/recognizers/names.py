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
from collections.abc import Callable, Iterable
from pathlib import Path

from detectors.entities import PERSON
from detectors.recognizers.base import DutchRecognizer
from detectors.termlists import DATA_DIR, WORD_RE, read_term_file, words_of

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
    rf"|{WORD_RE.pattern}|\S"
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
_TITLE_HEADS = frozenset("dfimpDFIMPİı")
"""The characters ``(?i:[dmfpi])`` matches, the first one of a title in ``_WORD``."""


def _next_start(text: str, start: int, end: int) -> int:
    """Where the token after the one ``_WORD`` takes at ``start`` starts (its piece's end)."""
    m = _WORD.match(text, start, end)
    pos = m.end() if m else end  # never None: ``\S`` takes any non-space character
    while pos < end and text[pos].isspace():
        pos += 1
    return pos


def _token_starts(text: str, end: int) -> list[int]:
    """Where the tokens of ``text[:end]`` start: the starts of ``_WORD`` matches found one after
    the other, each after the whitespace that follows the one before.

    WHY: a regex match per token (``findall`` of ``_WORD`` and ``\\s*``) was most of the name
    recognizer's time (~3,500 instructions a token, compiled). Without its special alternatives
    ``_WORD`` is ``WORD_RE`` or ``\\S``: its tokens are :func:`words_of`'s words and every
    non-space character between them (none of those is a word character or apostrophe), so
    their starts are found with ``find``. A special alternative can only start where such a
    word starts, and that word then starts with a capital, holds a hyphen and has a space after
    it ("Jansen-de Boer": ``WORD_RE`` takes all up to the space), or it has a "." after it and
    is one capital ("J.P.") or 2-4 characters from a title's first letter on ("dhr."). Only at
    such words is ``_WORD`` run. Where it takes more than the word, the regex goes on from there until it
    reaches a start of the plain tokens again: from a common start both ways give the same
    tokens up to the next such word.
    """
    words = words_of(text)
    plain: list[int] = []  # the starts of WORD_RE's words and of the single characters
    odd: list[int] = []  # the indexes in ``plain`` of the words _WORD may take otherwise
    pos = 0
    for word in words:
        at = text.find(word, pos)
        if at > pos and not text[pos:at].isspace():
            # no word character in between: each non-space character is a token
            for k in range(pos, at):
                if not text[k].isspace():
                    plain.append(k)
        pos = at + len(word)
        if pos < end:
            after = text[pos]
            if (after == "." and (
                    (len(word) == 1 and word.isupper())
                    or (2 <= len(word) <= 4 and word[0] in _TITLE_HEADS))
                ) or (after == " " and "-" in word and word[0].isupper()):
                odd.append(len(plain))
        plain.append(at)
    for k in range(pos, end):
        if not text[k].isspace():
            plain.append(k)
    if not odd:
        return plain
    starts: list[int] = []
    done = 0  # plain[:done] is in starts, or was passed over by a special token
    for k in odd:
        if k < done:
            continue
        at = plain[k]
        nxt = _next_start(text, at, end)
        if k + 1 < len(plain) and nxt == plain[k + 1]:  # _WORD takes the word itself
            continue
        starts.extend(plain[done:k])
        starts.append(at)
        done = bisect.bisect_left(plain, nxt)
        while nxt < end and not (done < len(plain) and plain[done] == nxt):
            starts.append(nxt)
            nxt = _next_start(text, nxt, end)
            done = bisect.bisect_left(plain, nxt)
    starts.extend(plain[done:])
    return starts


# what a piece (a token and the whitespace after it) is, by its text alone
_CAPW = 1  # a capitalised word (_CAP_TOKEN)
_NAMECAP = 2  # ... that is no function word (_NOT_NAME): it continues a name chunk
_INIT = 4  # initials ("J.P.")
_TV = 8  # a tussenvoegsel word, whatever its capital
_PLAIN = 16  # an ordinary capitalised Dutch word no name list knows (see candidates)
_DEAD = 32  # can start no name chunk: no capital word, initials or tussenvoegsel, or a
# capitalised function word that is no tussenvoegsel (the chunk would end before it)
_SAME_AFTER = 64  # followed by one or two spaces or tabs: a name may go on
_NL_AFTER = 128  # followed by a line break
_TITLE = 256  # a title, whatever its capital or final dot ("Mevrouw", "dhr.")
_SENT_END = 512  # ".", "!" or "?": the next word starts a sentence
_KEEP = 1024  # a bullet, quote or bracket: at a sentence start the next word is initial too
_CACHE_MAX = 65_536  # pieces (~200 bytes each): ~13 MB at most, like fold's cache
_Info = tuple[int, str]  # flags and the token's text


def _same_line_gap(gap: str) -> bool:
    """One or two spaces or tabs: the parts of a name are never split by a line break."""
    return 0 < len(gap) <= 2 and gap.strip(" \t") == ""


class _PieceInfo(dict[str, _Info]):
    """Flags and text of pieces seen before (see :data:`_CAPW` ...), keyed by the piece.

    The same words recur in every text, so what a token is gets worked out once per process;
    a miss is classified by :meth:`__missing__`, a hit is one C-level subscript. The cache holds
    words of texts, in memory only (never stored or logged), and is emptied when it is full."""

    def __init__(self, classify: Callable[[str], _Info]) -> None:
        super().__init__()
        self.classify = classify

    def __missing__(self, piece: str) -> _Info:
        info = self.classify(piece)
        if len(self) >= _CACHE_MAX:
            self.clear()
        self[piece] = info
        return info


class _Tokens:
    """The tokens of one text as pieces (a token and the whitespace after it) and offsets.

    Built from :func:`_token_starts` and slices, with no object but the piece per token: one
    object per token was the biggest part of name detection (~180 tokens per kB).
    What a token is (capital, title, line break after it) comes from the :class:`_PieceInfo`
    cache, looked up only for the few tokens that can start a name and their neighbours."""

    __slots__ = ("text", "pieces", "starts", "n", "lead_same", "cache", "_closings")

    def __init__(self, text: str, cache: _PieceInfo) -> None:
        # trailing whitespace holds no token; leaving it out keeps the last piece's gap empty
        # (same tokens: a token never ends in or looks past whitespace)
        end = len(text.rstrip())
        starts = _token_starts(text, end)
        starts.append(end)
        pieces = [text[a:b] for a, b in itertools.pairwise(starts)]
        lead = starts[0] if pieces else 0
        self.pieces: list[str] = pieces
        self.starts = starts
        self.n = len(pieces)
        self.lead_same = _same_line_gap(text[:lead])
        self.cache = cache
        self.text = text
        self._closings: list[int] | None = None

    def closings(self) -> list[int]:
        """Where the closing lines ("Met vriendelijke groet,") end, in text order; found when
        a name first needs them (most texts never ask)."""
        if self._closings is None:
            self._closings = [m.end() for m in _CLOSING.finditer(self.text)]
        return self._closings

    def info(self, k: int) -> _Info:
        return self.cache[self.pieces[k]]

    def end(self, k: int) -> int:
        return self.starts[k] + len(self.cache[self.pieces[k]][1])

    def same_line_before(self, k: int) -> bool:
        """One or two spaces or tabs (no line break) between token ``k - 1`` and ``k``; for the
        first token: the text's leading whitespace."""
        return bool(self.cache[self.pieces[k - 1]][0] & _SAME_AFTER) if k else self.lead_same

    def line_start(self, i: int) -> bool:
        """The first token of a line."""
        return i == 0 or bool(self.cache[self.pieces[i - 1]][0] & _NL_AFTER)

    def initial(self, i: int) -> bool:
        """The first word of a sentence or line: its capital says nothing. A bullet, quote or
        bracket at the start keeps the next word initial."""
        cache, pieces = self.cache, self.pieces
        while i:
            flags = cache[pieces[i - 1]][0]
            if flags & (_NL_AFTER | _SENT_END):
                return True
            if not flags & _KEEP:
                return False
            i -= 1
        return True


class NameLexiconRecognizer(DutchRecognizer):
    """PERSON from name lists, the Dutch word list, cues and earlier mentions (see module)."""

    ENTITY = PERSON
    RULE = None

    def __init__(self, lexicon: NameLexicon | None = None) -> None:
        self.lexicon = lexicon or name_lexicon()
        self._info = _PieceInfo(self._classify)
        super().__init__()

    def _classify(self, piece: str) -> _Info:
        """Flags and text of a piece (see :data:`_CAPW` ...), for :class:`_PieceInfo`."""
        word = piece.rstrip()
        gap = piece[len(word):]
        lex = self.lexicon
        flags = 0
        if _CAP_TOKEN.match(word):
            flags |= _CAPW
            if word not in _NOT_NAME:
                flags |= _NAMECAP
            head = word.split("-")[0]
            if lex.is_word(head):
                folded = fold(head)
                if not (word in lex.first or head in lex.first or folded in lex.first
                        or word in lex.surnames or head in lex.surnames
                        or folded in lex.surnames):
                    flags |= _PLAIN
        if _INITIALS.match(word):
            flags |= _INIT
        low = word.lower()
        if low in lex.tv_words:
            flags |= _TV
        if not flags & (_NAMECAP | _INIT | _TV):
            flags |= _DEAD
        if _same_line_gap(gap):
            flags |= _SAME_AFTER
        if "\n" in gap:
            flags |= _NL_AFTER
        if low.rstrip(".") in _TITLES_BARE:
            flags |= _TITLE
        if word in _SENTENCE_END:
            flags |= _SENT_END
        if word in _KEEPS_INITIAL:
            flags |= _KEEP
        return flags, word

    # -- chunks ----------------------------------------------------------------------------
    def _chunk(self, toks: _Tokens, i: int) -> int:
        """Index after the name-shaped run starting at ``i`` (caps, tussenvoegsels, initials)."""
        lex = self.lexicon
        cache, pieces, n = toks.cache, toks.pieces, toks.n
        j = i
        while j < n:
            if j > i and not cache[pieces[j - 1]][0] & _SAME_AFTER:
                break
            flags = cache[pieces[j]][0]
            if flags & _NAMECAP:
                j += 1
                continue
            if flags & _INIT and j == i:
                j += 1
                continue
            if flags & _TV and j + 1 < n:
                k = j
                while k < n and cache[pieces[k]][0] & _TV and toks.same_line_before(k):
                    k += 1
                if (
                    k < n
                    and cache[pieces[k]][0] & _CAPW
                    and toks.same_line_before(k)
                    and " ".join(cache[pieces[m]][1].lower() for m in range(j, k))
                    in lex.tussenvoegsels
                ):
                    j = k
                    continue
            break
        return j

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:
        cache = self._info
        toks = _Tokens(text, cache)
        pieces, n = toks.pieces, toks.n
        found: list[tuple[int, int, float]] = []
        parts_seen: dict[str, None] = {}
        # a name starts at a capital (C-level filter), or at a tussenvoegsel between a title
        # and a capital ("mevrouw van Dijk"): that one is found from the capital after it
        upper = list(itertools.compress(
            itertools.count(), map(str.isupper, map(operator.itemgetter(0), pieces))
        ))
        pos = 0  # the first token not yet consumed by a chunk
        for c in upper:
            if c < pos:
                continue
            todo: tuple[int, ...] = (c,)
            if (
                c > 1 and c - 1 >= pos and cache[pieces[c - 1]][0] & _TV
                and not pieces[c - 1][0].isupper() and cache[pieces[c - 2]][0] & _TITLE
            ):
                todo = (c - 1, c)
            for i in todo:
                if i < pos:
                    continue
                flags = cache[pieces[i]][0]
                if flags & _DEAD:
                    continue
                if not flags & (_CAPW | _INIT) and not (
                    i + 1 < n and cache[pieces[i + 1]][0] & _CAPW
                    and i > 0 and cache[pieces[i - 1]][0] & _TITLE
                ):
                    continue
                if flags & _NAMECAP and (
                    i + 1 == n or not flags & _SAME_AFTER
                    or not cache[pieces[i + 1]][0] & (_NAMECAP | _TV)
                ):
                    j = i + 1  # what _chunk gives a capitalised word no name part follows
                    if flags & _PLAIN and not (i > 0 and cache[pieces[i - 1]][0] & _TITLE):
                        # an ordinary Dutch word no name list knows, no title before it: _judge
                        # would turn it down whatever its context (most capitalised tokens:
                        # sentence starts)
                        pos = j
                        continue
                else:
                    j = self._chunk(toks, i)
                    if j == i:
                        continue
                    if j == i + 1 and flags & _PLAIN and not (
                        i > 0 and cache[pieces[i - 1]][0] & _TITLE
                    ):
                        pos = j
                        continue
                hit = self._judge(toks, i, j)
                if hit is not None:
                    start, end, score, parts = hit
                    found.append((start, end, score))
                    # a full name, or one word a cue vouches for ("de moeder van Collette"):
                    # later mentions of its parts are that person ("... slaapt Collette slecht")
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
            found.extend(self._later_mentions(toks, upper, found, parts_seen))
        return _drop_contained(found)

    def _judge(self, toks: _Tokens, i: int, j: int) -> tuple[int, int, float, list[str]] | None:
        cache, pieces = toks.cache, toks.pieces
        if j == i + 1:  # one token, the common case: no list of parts to build or trim
            flags, word = cache[pieces[i]]
            if not flags & _CAPW or flags & _TV:
                return None
            start = toks.starts[i]
            return self._decide(toks, i, j, [word], False, False, start, start + len(word))
        lex = self.lexicon
        caps: list[int] = []  # the capitalised parts that are no tussenvoegsel
        names: list[str] = []
        has_tv = False
        for k in range(i, j):
            flags, word = cache[pieces[k]]
            if flags & _TV:
                has_tv = True
            elif flags & _CAPW:
                caps.append(k)
                names.append(word)
        if not caps:
            return None
        # trim trailing words that are ordinary words (a sentence going on after a first name);
        # a trimmed word is a capital, no tussenvoegsel, so has_tv stays what it was
        last_k = j - 1  # the chunk's last token
        while (
            len(caps) > 1
            and caps[-1] == last_k
            and names[-1] not in lex.surnames
            and (lex.is_word(names[-1]) or names[-1] in _NOT_NAME)
        ):
            last_k -= 1
            caps.pop()
            names.pop()
        end = toks.starts[last_k] + len(cache[pieces[last_k]][1])
        return self._decide(toks, i, j, names, has_tv, bool(cache[pieces[i]][0] & _INIT),
                            toks.starts[i], end)

    def _decide(
        self, toks: _Tokens, i: int, j: int, names: list[str], has_tv: bool, has_initials: bool,
        start: int, end: int,
    ) -> tuple[int, int, float, list[str]] | None:
        """The score of the chunk ``toks[i:j]`` (trimmed to ``start:end``), whose capitalised
        parts are ``names``, or None when it is no name."""
        lex = self.lexicon
        cache, pieces = toks.cache, toks.pieces
        prev = cache[pieces[i - 1]][1].lower() if i > 0 else ""
        nxt = cache[pieces[j]][1].lower() if j < toks.n else ""
        last = names[-1]
        first = names[0]
        titled = prev.rstrip(".") in _TITLES_BARE or (
            prev == "heer" and i > 1 and cache[pieces[i - 2]][1].lower() == "de"
        )
        if titled and (lex.name_like(last) or has_tv or last in lex.first or last in lex.surnames):
            title_start = toks.starts[i - 1] if prev != "heer" else toks.starts[i - 2]
            # "juf Petra": the title is part of how the person is named
            return title_start, end, 0.75, names
        if has_initials and lex.name_like(last):
            return start, end, 0.75 if (has_tv or last in lex.surnames) else 0.6, [last]
        if len(names) >= 2:
            signed = (prev in _GREETING or nxt in _SPEECH or self._after_closing(toks, i, j)
                      or _pupil_next(toks, j))
            return self._full(names, has_tv, start, end, not signed and toks.initial(i), signed)
        # one capitalised word (maybe with a tussenvoegsel: "De Vries" alone is not a name)
        if has_tv:
            return None
        word = first
        if prev == "/" or nxt == "/":  # "Meta/Facebook", "Naam/Groep": not a person
            return None
        cue = self._cue(toks, i, j, prev, nxt)
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

    def _cue(self, toks: _Tokens, i: int, j: int, prev: str, nxt: str) -> bool:
        """Context that says the single capitalised word at ``toks[i:j]`` is a person."""
        if nxt in _SPEECH or (prev in _SPEECH and i > 1) or _pupil_next(toks, j):
            return True
        if prev in _GREETING and nxt in _AFTER_GREETING:
            return True
        if prev == "van" and i > 1 and toks.info(i - 2)[1].lower() in _RELATION:
            return True
        if prev == ":" and i > 1 and toks.info(i - 2)[1].lower() in _FORM_LABELS:
            return True
        return self._after_closing(toks, i, j)

    @staticmethod
    def _after_closing(toks: _Tokens, i: int, j: int) -> bool:
        """A name alone on a line right after a closing ("Groet,\nAylin")."""
        if toks.line_start(i) and (j >= toks.n or toks.line_start(j)):
            line_start = toks.starts[i]
            # a closing that ends 0-3 characters before the line (closings are in text order)
            closings = toks.closings()
            k = bisect.bisect_left(closings, line_start - 3)
            return k < len(closings) and closings[k] <= line_start
        return False

    @staticmethod
    def _later_mentions(
        toks: _Tokens, upper: list[int], found: list[tuple[int, int, float]],
        parts: dict[str, None],
    ) -> list[tuple[int, int, float]]:
        """First or last name alone elsewhere in the text, once the full name was found. The
        parts are capitalised words, so only the capitalised tokens are looked at."""
        covered = sorted((s, e) for s, e, _ in found)
        starts = [s for s, _ in covered]
        reach = list(itertools.accumulate((e for _, e in covered), max))  # furthest end so far
        extra: list[tuple[int, int, float]] = []
        cache, pieces, tok_starts = toks.cache, toks.pieces, toks.starts
        words = map(operator.itemgetter(1), map(cache.__getitem__, map(pieces.__getitem__, upper)))
        for k in itertools.compress(upper, map(parts.__contains__, words)):
            word = cache[pieces[k]][1]
            if word not in _NOT_NAME:
                # inside a found span: a span starting at or before it reaches past it
                at = tok_starts[k]
                c = bisect.bisect_right(starts, at)
                if c and reach[c - 1] > at:
                    continue
                extra.append((at, at + len(word), 0.75))
        return extra


_CLASS_WORDS = frozenset(["groep", "klas", "leerjaar", "mentorgroep", "mentorklas"])
_AFTER_GREETING = frozenset([",", "\n", "", "!"])


def _pupil_next(toks: _Tokens, j: int) -> bool:
    """The words after a name place it in a class: "Grzeniu Korzec uit groep 7", "Daan (groep
    5)", "Aylin zit in klas 2b". Its capital then says something even at a sentence start."""
    if j + 1 >= toks.n:
        return False
    cache, pieces = toks.cache, toks.pieces
    a = cache[pieces[j]][1].lower()
    if a in ("uit", "in", "van") or a == "(":
        return cache[pieces[j + 1]][1].lower() in _CLASS_WORDS
    if a == "zit" and j + 2 < toks.n:
        return (cache[pieces[j + 1]][1].lower() == "in"
                and cache[pieces[j + 2]][1].lower() in _CLASS_WORDS)
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
