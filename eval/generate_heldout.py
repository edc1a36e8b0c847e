"""Generate the held-out person-name set in ``eval/heldout`` (seed 4711; never tuned on).

Why a second set: ``eval/corpus`` is what the detector is developed against, so its figures are
optimistic. This set is written apart from it: other templates (news-style sentences as well as
school mail), and names *sampled* from data the detector's lists are not cut from in the same way:

* Dutch names from DEDUCE's lookup lists (``pip install deduce``; its first names and surnames,
  an independent source);
* other origins from names-dataset at ranks 150-6000 of their country (the detector's lists keep
  the top 800-5000 per country, so part of these names is unknown to it).

It needs ``deduce`` and ``names-dataset`` installed, only to generate; the output is committed.
Run ``python eval/generate_heldout.py``; evaluate with ``schoonschip evaluate eval/heldout`` or
``python -m detectors.evaluation eval/heldout``. Numbers are not part of this set.
"""

from __future__ import annotations

import gzip
import json
import pickle
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_corpus import Doc

SEED = 4711
OUT = Path(__file__).parent / "heldout"
SHAPE = re.compile(r"^[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]{2,}$")
BANDS = {  # origin group -> countries of names-dataset
    "vlaams": ["BE"], "turks": ["TR"], "marokkaans": ["MA"], "pools": ["PL"], "engels": ["GB", "US"],
    "zuid-aziatisch": ["IN", "ID"], "overig": ["SY", "IQ", "AF", "ES", "PT", "RS", "NG"],
}
CITIES = ["Antwerpen", "Rotterdam", "Gent", "Utrecht", "Eindhoven", "Leuven", "Groningen", "Brussel"]
CLUBS = ["Ajax", "Feyenoord", "Club Brugge", "PSV", "AZ", "Anderlecht"]


def _names() -> dict[str, tuple[list[str], list[str]]]:
    import deduce
    import names_dataset
    from wordfreq import zipf_frequency

    src = Path(deduce.__file__).parent / "data" / "lookup" / "src" / "names"
    def lst(name: str) -> list[str]:
        return [w for w in (src / name / "items.txt").read_text(encoding="utf-8").split("\n")
                if SHAPE.match(w) and zipf_frequency(w.lower(), "nl") < 4]
    pools = {"nederlands": (lst("lst_first_name"), lst("lst_surname"))}
    folder = Path(names_dataset.__file__).parent / "v3"
    tables = {k: pickle.load(gzip.open(folder / f"{k}_names.pkl.gz")) for k in ("first", "last")}
    for group, countries in BANDS.items():
        picked = []
        for kind in ("first", "last"):
            picked.append(sorted(
                n for n, info in tables[kind].items()
                if SHAPE.match(n) and zipf_frequency(n.lower(), "nl") < 4
                and any(150 <= (info.get("rank") or {}).get(c, 0) <= 6000 for c in countries)
            ))
        pools[group] = (picked[0], picked[1])
    return pools


def build(seed: int = SEED) -> tuple[dict, dict[str, str]]:
    r = random.Random(seed)
    pools = _names()
    docs: dict = {}
    texts: dict[str, str] = {}

    def person(group: str) -> tuple[str, str]:
        first, last = pools[group]
        return r.choice(first), r.choice(last)

    def news(d: Doc, g: str) -> None:
        f, l = person(g)
        f2, l2 = person(r.choice(list(pools)))
        kind = r.randrange(5)
        if kind == 0:
            d.put("PERSON", f"{f} {l}", origin=g).add(f" ({r.randint(19, 64)}) uit {r.choice(CITIES)} won zaterdag de finale. ")
            d.put("PERSON", l, origin=g).add(" zei na afloop dat de wind het lastig maakte.")
        elif kind == 1:
            d.add("Volgens ").put("PERSON", f"{f} {l}", origin=g).add(f", woordvoerder van de gemeente {r.choice(CITIES)}, is het plan te duur. ")
            d.add("De gemeenteraad beslist in de winter.")
        elif kind == 2:
            d.add("Trainer ").put("PERSON", l, origin=g).add(f" van {r.choice(CLUBS)} was ontevreden. 'We speelden slordig,' aldus ")
            d.put("PERSON", l, origin=g).add(".")
        elif kind == 3:
            d.put("PERSON", f"{f} {l}", origin=g).add(" en ").put("PERSON", f"{f2} {l2}")
            d.add(f" presenteerden gisteren in {r.choice(CITIES)} hun boek over de Tweede Wereldoorlog.")
        else:
            d.add(f"In {r.choice(CITIES)} sprak burgemeester ").put("PERSON", f"{f} {l}", origin=g)
            d.add(" met leerlingen over pesten. ").put("PERSON", f, origin=g).add(" vertelde over haar eigen schooltijd.")

    def mail(d: Doc, g: str) -> None:
        f, l = person(g)
        staff_f, staff_l = person("nederlands")
        kind = r.randrange(4)
        if kind == 0:
            d.add("Hallo ").put("PERSON", staff_f).add(",\n\n").put("PERSON", f"{f} {l}", origin=g)
            d.add(f" uit groep {r.randint(3, 8)} heeft hoofdpijn en gaat naar huis. Zijn moeder haalt ")
            d.put("PERSON", f, origin=g).add(" om twaalf uur op.\n\nGroet,\n").put("PERSON", f"{staff_f} {staff_l}")
            d.categories = ["gezondheid"]
        elif kind == 1:
            d.add("Verslag oudergesprek\n\nGesprek met de vader van ").put("PERSON", f, origin=g)
            d.add(". Sinds de scheiding slaapt ").put("PERSON", f, origin=g)
            d.add(" slecht; er is een omgangsregeling. Afspraak: de mentor belt over twee weken.")
            d.categories = ["thuissituatie"]
        elif kind == 2:
            d.add("Beste ouders van ").put("PERSON", f"{f} {l}", origin=g)
            d.add(",\n\nHet rapportcijfer voor wiskunde is een 4,6. We willen graag een gesprek plannen.")
            d.add("\n\nMet vriendelijke groet,\n").put("PERSON", f"{staff_f} {staff_l}").add("\nMentor")
            d.categories = ["cijfers"]
        else:
            d.add("Aanmelding nieuwe leerling\n\nNaam: ").put("PERSON", f"{f} {l}", origin=g)
            d.add(f"\nGroep: {r.randint(1, 8)}\nBijzonderheden: astma, gebruikt een puffer.\n")
            d.categories = ["gezondheid"]

    n = 0
    for g in pools:
        for _ in range(12):
            n += 1
            is_news = r.random() < 0.5
            d = Doc("nieuws" if is_news else "schoolmail", not is_news)
            d.origin = g
            (news if is_news else mail)(d, g)
            doc_id = f"{n:03d}_{d.kind}_{g}"
            texts[doc_id] = d.text
            docs[doc_id] = {"file": f"{doc_id}.txt", "kind": d.kind, "student_data": d.student_data,
                            "categories": d.categories, "hard_negative": False, "parts": "whole",
                            "column_headers": [], "entities": d.entities, "origin": g}
    negatives = [
        "Ajax won zondag van Feyenoord in Rotterdam. De Tweede Kamer debatteert dinsdag over het onderwijs.",
        "Winter in Gent: de kerstmarkt opent vrijdag. Roos, tulp en narcis staan op de markt van Leuven.",
        "Bakker De Graaf opent een winkel. Visser Jan vangt haring. De Wit en De Jong zijn kleuren en een woord.",
        "Het ministerie van Onderwijs publiceert het rapport. De Inspectie van het Onderwijs is kritisch.",
        "Mark de datum in je agenda: Koningsdag in Utrecht. Bas en trompet spelen in de fanfare.",
        "Hoop en Geloof: de tentoonstelling in Brussel trekt veel bezoekers. Iris en Lelie zijn bloemen.",
    ]
    for text in negatives:
        n += 1
        doc_id = f"{n:03d}_woorden"
        texts[doc_id] = text
        docs[doc_id] = {"file": f"{doc_id}.txt", "kind": "woorden_als_naam", "student_data": False,
                        "categories": [], "hard_negative": False, "parts": "whole",
                        "column_headers": [], "entities": []}
    return {"settings": {}, "documents": docs}, texts


def main() -> None:
    labels, texts = build()
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.txt"):
        old.unlink()
    for doc_id, text in texts.items():
        (OUT / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    (OUT / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{len(texts)} documenten geschreven naar {OUT}")


if __name__ == "__main__":
    main()
