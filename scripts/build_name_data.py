"""Derive the name and word lists in ``detectors/data`` from maintained data (run by hand).

Why derived at build time: the sources are large (names-dataset is 54 MB of pickles, hunspell-nl
needs its affix engine) and not installed on a school's server; the lists we need are a few MB of
plain text. The output is committed; rerun this script to refresh it:

    apt-get install hunspell-nl            # OpenTaal word list, BSD-3 / CC BY 3.0
    pip install names-dataset wordfreq     # MIT; Apache-2.0 code, CC BY-SA 4.0 frequency data
    python scripts/build_name_data.py

Outputs (one entry a line, ``#`` comments at the top, sorted):

* ``names_first.txt``  first names from many countries (a school's pupils come from everywhere);
* ``names_last.txt``   surnames from the same countries;
* ``names_ambiguous.txt`` names (first or last) that are also ordinary Dutch words (Roos, Bas,
  Winter, Visser): never a name without context;
* ``words_nl.txt``     lowercase Dutch words (OpenTaal stems plus frequent inflected forms):
  a capitalised token that is such a word is not an unknown surname;
* ``places_nl.txt``    capitalised OpenTaal entries that are places/inhabitant bases (they carry
  the inhabitant or geographic affix flags) and are not common names: "Nederland", "Gent".

The hand lists (first_names.txt, surnames.txt, ambiguous_first_names.txt) stay the project's own
additions and are merged at load time; this script does not touch them.
"""

from __future__ import annotations

import gzip
import pickle
import re
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "detectors" / "data"
HUNSPELL = Path("/usr/share/hunspell/nl.dic")

# (country, how many of its top-ranked names): the origins of pupils in Dutch schools first,
# then the names that appear in Dutch news (sport, politics abroad).
FIRST_TOP = {
    "NL": 5000, "BE": 5000, "TR": 2500, "MA": 2500, "PL": 2000, "DE": 1500, "GB": 1500,
    "US": 1500, "FR": 1500, "ES": 800, "PT": 800, "IT": 800, "BR": 500, "IN": 800, "ID": 600,
    "SY": 800, "IQ": 600, "AF": 600, "DZ": 600, "TN": 600, "EG": 400, "RS": 600, "HR": 600,
    "BG": 400, "RU": 500, "HU": 400, "CZ": 400, "LT": 300, "GH": 300, "NG": 400, "AO": 300,
    "ET": 300, "IR": 500, "GR": 300, "SE": 300, "DK": 300, "NO": 300, "FI": 300, "IE": 300,
    "CN": 200, "HK": 200, "MX": 300, "AR": 300, "CO": 300, "AL": 400, "JM": 200, "ZA": 400,
}
LAST_TOP = {
    "NL": 12000, "BE": 10000, "TR": 3000, "MA": 3000, "PL": 3000, "DE": 2500, "GB": 2500,
    "US": 3000, "FR": 2500, "ES": 1500, "PT": 1500, "IT": 1500, "BR": 800, "IN": 1000,
    "ID": 800, "SY": 800, "IQ": 600, "AF": 600, "DZ": 800, "TN": 800, "EG": 400, "RS": 1000,
    "HR": 1000, "BG": 400, "RU": 800, "HU": 500, "CZ": 500, "LT": 300, "GH": 300, "NG": 500,
    "AO": 300, "ET": 200, "IR": 500, "GR": 400, "SE": 400, "DK": 400, "NO": 400, "FI": 300,
    "IE": 500, "CN": 200, "HK": 200, "MX": 500, "AR": 500, "CO": 400, "AL": 500, "JM": 300,
    "ZA": 500,
}
# a name ranked this high in NL/BE stays a name even when it is also a word (then ambiguous)
KEEP_AMBIGUOUS_RANK = {"first": 1500, "last": 4000}
# a word this frequent (wordfreq zipf) is never a name token on its own ("De", "Het", "Was")
TOO_COMMON_ZIPF = 5.3
# OpenTaal affix flags that only places and organisations carry: compounds with a hyphen
# ("Amsterdam-Noord": CA, Ce), inhabitants ("Rotterdammer": PI), street names ("-laan", "-weg")
PLACE_FLAGS = ("CA", "Ce", "PI", "Gl", "Gw", "Zb")
# places whose OpenTaal entry has no such flag but that are also names in the data set
PLACES = frozenset(
    ["Gent", "Brugge", "Brussel", "Londen", "Madrid", "Parijs", "Paris", "Berlijn", "Rome", "Wenen", "Praag", "Lissabon", "Dublin", "Boston", "Sydney", "Jordan", "Georgia", "Florida", "Virginia", "Carolina", "Victoria", "Israel", "Syria", "Jemen", "Mali", "Chad", "Peru", "Cuba", "Chili", "China", "India", "Kenya", "Lima", "Sofia", "Valencia", "Sevilla", "Florence", "Milaan", "Napels", "Turijn", "Genua", "Venetië", "Lyon", "Nice", "Marseille", "Lille", "Luik", "Namen", "Bergen", "Aalst", "Genk", "Hasselt", "Kortrijk", "Oostende", "Mechelen", "Lier", "Geel", "Mol", "Tienen", "Ieper", "Zaventem", "Haarlem", "Leiden", "Delft", "Breda", "Tilburg", "Arnhem", "Nijmegen", "Venlo", "Almere", "Emmen", "Assen", "Gouda", "Ede", "Hengelo", "Deventer", "Zwolle", "Kampen", "Putten", "Baarn", "Soest", "Zeist", "Bussum", "Weert", "Oss", "Uden", "Boxtel", "Houten", "Vianen", "Borne", "Holland", "Twente", "Drenthe", "Zeeland", "Limburg", "Brabant", "Friesland", "Vlaanderen", "Wallonië", "Europa", "Afrika", "Amerika", "Azië", "Marokko", "Turkije", "Suriname", "Polen", "Syrië", "Eritrea", "Somalië", "Afghanistan", "Irak", "Iran", "Egypte", "Algerije", "Tunesië", "Spanje", "Portugal", "Italië", "Frankrijk", "Duitsland", "Engeland", "Schotland", "Ierland", "Oekraïne", "Rusland", "Roemenië", "Bulgarije", "Griekenland", "Curaçao", "Aruba", "Bonaire", "Indonesië", "Japan", "Korea", "Vietnam", "Canada", "Mexico", "Brazilië", "Argentinië", "Colombia", "Venezuela", "Ghana", "Nigeria", "Ethiopië", "Sudan"]
)
_NAME_SHAPE = re.compile(r"^[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'’]+(?:-[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'’]+)*$")
# tokens that look like names in the data set but are particles, titles or places
NOT_NAMES = frozenset(
    ["San", "Santa", "Santo", "Sao", "Los", "Las", "La", "Le", "El", "Al", "Ben", "Bin", "Abu", "Abd", "Ibn", "Mc", "Mac", "Van", "Von", "Der", "Den", "De", "Di", "Da", "Du", "Del", "Della", "Dos", "Das", "Ter", "Ten", "Het", "Sint", "Saint", "New", "North", "South", "West", "East", "Mr", "Mrs", "Dr", "Prof", "Miss", "Sir", "Lord", "Lady", "King", "Queen", "Prince", "Princess", "Jr", "Sr", "Junior", "Senior", "Mohd", "Md", "Muhamad"]
)


def hunspell_entries() -> tuple[set[str], dict[str, str]]:
    """OpenTaal's stems: the lowercase words, and capitalised entries with their affix flags."""
    lower: set[str] = set()
    capital: dict[str, str] = {}
    for n, raw in enumerate(HUNSPELL.read_text(encoding="utf-8").splitlines()):
        if n == 0 or not raw or raw.startswith("#"):
            continue
        word, _, flags = raw.partition("/")
        word = word.strip()
        if not word or " " in word or any(c.isdigit() for c in word):
            continue
        if word[0].islower():
            lower.add(word)
        elif word[0].isupper() and not word.isupper():
            capital[word] = flags
    return lower, capital


def top_names(table: dict, top: dict[str, int]) -> dict[str, tuple[int, int]]:
    """name -> (best NL/BE rank, best rank anywhere), for names in any country's top ``top[c]``."""
    chosen: dict[str, tuple[int, int]] = {}
    for name, info in table.items():
        ranks = info.get("rank") or {}
        if any(ranks.get(c, 10**9) <= n for c, n in top.items()):
            best = min((ranks[c] for c in top if c in ranks), default=10**6)
            chosen[name] = (min(ranks.get("NL", 10**6), ranks.get("BE", 10**6)), best)
    return chosen


def main() -> int:
    import names_dataset
    from wordfreq import top_n_list, zipf_frequency

    folder = Path(names_dataset.__file__).parent / "v3"
    lower, capital = hunspell_entries()
    # inflected forms (plurals, verb forms) are not stems; add frequent lowercase word forms
    frequent = {w for w in top_n_list("nl", 60000) if w.isalpha() and w.islower()}
    # wordfreq lowercases proper nouns too ("amsterdam", "jan"): only keep a frequent form as a
    # word when OpenTaal does not know it as a capitalised entry
    capital_lower = {c.lower() for c in capital}
    tables = {kind: pickle.load(gzip.open(folder / f"{kind}_names.pkl.gz")) for kind in ("first", "last")}
    # ... nor when names-dataset knows it as a name ("williams", "kim"): wordfreq lowercases
    known_names = {n.lower() for t in tables.values() for n in t}
    words = lower | {w for w in frequent if (w not in capital_lower and w not in known_names)}
    # ... unless the word is so frequent that it is a function word first ("elke", "hoop")
    words |= {w for w in frequent if zipf_frequency(w, "nl") >= TOO_COMMON_ZIPF}

    # a first name in the data set that Dutch and Flemish people carry far more as a surname
    # ("Jansen", "Peeters") is no first name here
    last_rank = {n: min((i.get("rank") or {}).get("NL", 10**6), (i.get("rank") or {}).get("BE", 10**6))
                 for n, i in tables["last"].items()}
    out: dict[str, set[str]] = {"first": set(), "last": set()}
    ambiguous: set[str] = set()
    for kind, top in (("first", FIRST_TOP), ("last", LAST_TOP)):
        table = tables[kind]
        for name, (nl_rank, best_rank) in top_names(table, top).items():
            if not _NAME_SHAPE.match(name) or name in NOT_NAMES or len(name) < 2:
                continue
            low = name.lower()
            if kind == "first" and last_rank.get(name, 10**6) < min(nl_rank, 10**5) / 2:
                continue
            if zipf_frequency(low, "nl") >= TOO_COMMON_ZIPF and nl_rank > 300:
                continue
            place_like = any(f in capital.get(name, "") for f in PLACE_FLAGS) or name in PLACES
            if low in words or place_like:
                # "Smith" is also an OpenTaal word: a top name of its own country stays a name
                if nl_rank > KEEP_AMBIGUOUS_RANK[kind] and best_rank > 300 and not place_like:
                    continue
                ambiguous.add(name)
            out[kind].add(name)

    names = out["first"] | out["last"]
    # capitalised OpenTaal entries that are no name in the data set: countries, places,
    # organisations, brands ("Nederland", "Marokko", "Feyenoord"), plus the place-like names
    places = {c for c in capital if _NAME_SHAPE.match(c) and c not in names}
    places |= {n for n in names if any(f in capital.get(n, "") for f in PLACE_FLAGS)} | PLACES
    header = {
        "names_first.txt": "# Voornamen uit names-dataset 3.3.1 (MIT), top per land; gemaakt door scripts/build_name_data.py\n",
        "names_last.txt": "# Achternamen uit names-dataset 3.3.1 (MIT), top per land; gemaakt door scripts/build_name_data.py\n",
        "names_ambiguous.txt": "# Namen die ook een gewoon Nederlands woord zijn (OpenTaal/wordfreq); alleen met context een naam\n",
        "words_nl.txt": "# Nederlandse woorden (OpenTaal hunspell-nl, BSD-3/CC BY 3.0, plus frequente vormen uit wordfreq, CC BY-SA 4.0)\n",
        "places_nl.txt": "# Plaats- en landnamen uit OpenTaal hunspell-nl (BSD-3/CC BY 3.0) die geen gangbare naam zijn\n",
    }
    content = {
        "names_first.txt": out["first"], "names_last.txt": out["last"],
        "names_ambiguous.txt": ambiguous, "words_nl.txt": words, "places_nl.txt": places,
    }
    for file, entries in content.items():
        (DATA / file).write_text(header[file] + "\n".join(sorted(entries)) + "\n", encoding="utf-8")
        print(f"{file}: {len(entries)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
