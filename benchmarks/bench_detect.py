"""Benchmark: schoonschip's detector against plain Presidio on the same texts.

    python benchmarks/bench_detect.py [--repeat 20] [--batch 64] [--model none|auto|PATH|tiny] [--long]
    python benchmarks/bench_detect.py --peers [--rounds 5] [--heldout]
    python benchmarks/bench_detect.py --names [--rounds 15] [--heldout]
    python benchmarks/bench_detect.py --roster [--rounds 15] [--heldout]
    python benchmarks/bench_detect.py --profile [--repeat 5]
    python benchmarks/bench_detect.py --stages [--repeat 5]

``--names``: the name recognizer alone (``NameLexiconRecognizer.candidates``) on the same texts
as ``--peers``, warm, median CPU time of ``--rounds`` rounds: the part of detection issue 21 item 1
measures. ``--roster``: the same for the two roster name recognizers (``RosterNameRecognizer``
and ``RosterFirstNameRecognizer`` on every text, with the corpus roster). ``--profile``: the
schoonschip set-up once under cProfile, printing the hottest functions and the share of CPU
spent in the name recognizer and in the roster recognizers. ``--stages``: the same set-up without a
profiler, each recognizer's ``find`` and the verdict timed with ``process_time`` around the call
(a few microseconds per call of overhead, where cProfile inflates Python-heavy code), so the
shares say which stage a speed-up must come from.

``--peers``: schoonschip beside its peers on the same texts, in interleaved rounds (each round
runs every system once, so a change in machine load hits all of them alike), reporting each
system's median CPU time and the ratios: first with each system in a worker process of its own
(the figure the README and issue 21 use: a scan runs schoonschip alone, and sharing a heap and
caches with DEDUCE's lexicons cost our pass ~7 %), then with all three in one process. Peers,
measured only when installed: **DEDUCE** (``pip install deduce``; ``Deduce().deidentify`` per
text) and **plain Presidio** (``AnalyzerEngine`` for ``nl`` with a blank spaCy pipeline and the
same Dutch recognizers, one text at a time). ``--heldout`` adds ``eval/heldout`` to the texts
(as bench_process.py does).

Texts: the labelled evaluation corpus (``eval/corpus``), repeated ``--repeat`` times so the run
lasts long enough to measure. Three set-ups see exactly the same items:

1. **schoonschip**: ``build_detector`` + ``Detector.analyze_many`` in batches (``nlp.pipe``,
   components NER does not need disabled, no spaCy at all without NER, lean NLP artifacts,
   recognizer-level context scoring, rows of a sheet merged into one text), *including* the
   verdict, masking and keyed hashing;
2. **presidio-standaard**: ``AnalyzerEngine`` as Presidio configures it by default for ``nl``
   (its predefined recognizers, spaCy recognizer, lemma context enhancer, full NLP artifacts)
   plus the same Dutch recognizers, called one text part at a time. Presidio's EmailRecognizer
   is left out because it needs tldextract's online suffix list (no network at run time);
3. **presidio-zelfde-herkenners**: ``AnalyzerEngine`` with only our recognizers but Presidio's
   default engine behaviour (lemma enhancer, full artifacts), one part at a time: this isolates
   what batching, merging and skipped components buy.

Both Presidio set-ups get the same spaCy pipeline as the detector (``--model``), with all its
components enabled. ``--model tiny`` trains a small Dutch NER pipeline first (as the tests do)
so the NER path can be measured without nl_core_news installed; a real nl_core_news_md is much
heavier per token, so ratios with NER differ from ratios without it.
"""

from __future__ import annotations

import argparse
import logging
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import spacy
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

from detectors import build_detector
from detectors.evaluation import DEFAULT_CORPUS, _effective_settings, load_corpus
from detectors.nlp import LANGUAGE, choose_pipeline
from detectors.presidio_bridge import PresidioRecognizer
from detectors.settings import DetectionSettings
from scanner.core.model import TextPart
from scanner.core.privacy import ValueHasher


def train_tiny_model(folder: Path) -> Path:
    """A small Dutch NER pipeline (same recipe as tests/detectors/test_spacy_model.py)."""
    from spacy.training import Example

    spacy.util.fix_random_seed(7)
    nlp = spacy.blank("nl")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("ner")
    names = ["Quirijn Oudejans", "Xandrijn Vossebeld", "Sanne de Vries", "Daan Jansen"]
    templates = ["{n} is vandaag ziek.", "De ouders van {n} belden.", "Ik sprak {n} na de les."]
    examples = []
    for name in names:
        for t in templates:
            text = t.format(n=name)
            start = text.index(name)
            examples.append(Example.from_dict(nlp.make_doc(text),
                                              {"entities": [(start, start + len(name), "PERSON")]}))
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(7)
    for _ in range(30):
        rng.shuffle(examples)
        nlp.update(examples, sgd=optimizer)
    path = folder / "nl_tiny_ner"
    nlp.to_disk(path)
    return path


def plain_presidio(settings: DetectionSettings, hasher: ValueHasher, with_defaults: bool) -> AnalyzerEngine:
    """Presidio's own way: full pipeline, default artifacts, lemma enhancer, one text per call."""
    choice = choose_pipeline(settings.spacy_model)
    nlp = spacy.load(choice.model) if choice.model else spacy.blank(LANGUAGE)
    engine = SpacyNlpEngine(
        models=[{"lang_code": LANGUAGE, "model_name": choice.model or "blank"}],
        ner_model_configuration=NerModelConfiguration(),
    )
    engine.nlp = {LANGUAGE: nlp}  # preloaded: Presidio would otherwise try to download it
    ours = [PresidioRecognizer(r) for r in build_detector(settings, hasher).recognizers]
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    if with_defaults:
        registry.load_predefined_recognizers(languages=[LANGUAGE], nlp_engine=engine)
        registry.recognizers = [r for r in registry.recognizers if type(r).__name__ != "EmailRecognizer"]
    elif choice.has_ner:
        registry.add_nlp_recognizer(engine)
    for recognizer in ours:
        registry.add_recognizer(recognizer)
    return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=[LANGUAGE],
                          default_score_threshold=settings.score_threshold)


def run(args: argparse.Namespace) -> None:
    logging.disable(logging.WARNING)
    labels, documents = load_corpus(args.corpus)
    if args.long:
        # one long item per repeat: all corpus texts joined (long-text path: chunking, MB/s)
        joined = "\n\n".join(doc.text for doc in documents)
        documents = [type(documents[0])("lang", {}, joined, [TextPart("body", joined)], {None: 0})]
    model = args.model
    tmp = None
    if model == "tiny":
        tmp = tempfile.TemporaryDirectory()
        model = str(train_tiny_model(Path(tmp.name)))
    settings = _effective_settings(DetectionSettings(spacy_model=model, batch_size=args.batch),
                                   labels, args.corpus)
    hasher = ValueHasher(secrets.token_bytes(32))
    items: list[list[TextPart]] = [doc.parts for doc in documents] * args.repeat
    n_docs = len(items)
    n_parts = sum(len(parts) for parts in items)
    n_bytes = sum(len(p.text.encode("utf-8")) for parts in items for p in parts)
    mb = n_bytes / 1e6

    started = time.perf_counter()
    detector = build_detector(settings, hasher)
    build_seconds = time.perf_counter() - started
    print(f"corpus: {len(documents)} documenten x {args.repeat} = {n_docs} items, {n_parts} tekstdelen, "
          f"{mb:.2f} MB; detector: {detector.mode}; opbouw / build {build_seconds:.2f} s")

    rows = []
    detector.analyze_many(items[: args.batch])  # warm-up
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(0, n_docs, args.batch):
        detector.analyze_many(items[i : i + args.batch])
    rows.append(("schoonschip (batched)", time.perf_counter() - started, time.process_time() - cpu))

    for label, defaults in (("presidio-standaard", True), ("presidio-zelfde-herkenners", False)):
        analyzer = plain_presidio(settings, hasher, defaults)
        for part in items[0]:
            analyzer.analyze(part.text, language=LANGUAGE)  # warm-up
        started, cpu = time.perf_counter(), time.process_time()
        for parts in items:
            for part in parts:
                analyzer.analyze(part.text, language=LANGUAGE,
                                 context=part.context.get("column_headers") or None)
        rows.append((label, time.perf_counter() - started, time.process_time() - cpu))

    base = rows[0][2]
    print(f"{'opzet / set-up':<30}{'wall s':>8}{'cpu s':>8}{'docs/s':>10}{'MB/s':>8}{'x':>8}")
    for label, wall, cpu_s in rows:
        print(f"{label:<30}{wall:>8.2f}{cpu_s:>8.2f}{n_docs / cpu_s:>10.0f}{mb / cpu_s:>8.2f}"
              f"{cpu_s / base:>8.1f}")
    print("docs/s en MB/s per CPU-seconde (één proces, ongevoelig voor andere load op de machine); "
          "x = zoveel keer meer CPU dan schoonschip / per CPU second; x = times the CPU of schoonschip")
    if tmp is not None:
        tmp.cleanup()


def _cpu(fn) -> float:
    started = time.process_time()
    fn()
    return time.process_time() - started


PEERS = ("schoonschip", "deduce", "presidio-plain")


def _peer_systems(args: argparse.Namespace, texts: list[str],
                  only: str | None = None) -> tuple[dict[str, Callable[[], object]], dict[str, float]]:
    """Each installed system as one warm pass over ``texts`` (a callable), and its build time;
    ``only`` builds just that one (a worker process)."""
    settings = DetectionSettings(spacy_model="none", batch_size=args.batch)
    hasher = ValueHasher(secrets.token_bytes(32))
    systems: dict[str, Callable[[], object]] = {}
    builds: dict[str, float] = {}
    if only in (None, "schoonschip"):
        items = [[TextPart("body", t)] for t in texts]
        started = time.perf_counter()
        detector = build_detector(settings, hasher)
        builds["schoonschip"] = time.perf_counter() - started
        systems["schoonschip"] = lambda: [detector.analyze_many(items[i : i + args.batch])
                                          for i in range(0, len(items), args.batch)]
    if only in (None, "deduce"):
        try:
            from deduce import Deduce
        except ImportError:
            if only is None:
                print("deduce: niet geïnstalleerd / not installed, overgeslagen / skipped")
        else:
            started = time.perf_counter()
            deduce = Deduce()
            builds["deduce"] = time.perf_counter() - started
            systems["deduce"] = lambda: [deduce.deidentify(t) for t in texts]
    if only in (None, "presidio-plain"):
        started = time.perf_counter()
        presidio = plain_presidio(settings, hasher, with_defaults=False)
        builds["presidio-plain"] = time.perf_counter() - started
        systems["presidio-plain"] = lambda: [presidio.analyze(t, language=LANGUAGE) for t in texts]
    return systems, builds


def run_peer_worker(args: argparse.Namespace) -> None:
    """One system in a process of its own (``--peer-worker NAME``, started by :func:`run_peers`):
    build, one warm-up pass, then one timed pass per ``run`` line on stdin, its CPU seconds on
    stdout. Says ``absent`` when the system is not installed."""
    logging.disable(logging.WARNING)
    systems, builds = _peer_systems(args, _texts(args), only=args.peer_worker)
    fn = systems.get(args.peer_worker)
    if fn is None:
        print("absent", flush=True)
        return
    fn()
    print(f"ready {builds[args.peer_worker]:.6f}", flush=True)
    for line in sys.stdin:
        if line.strip() == "run":
            print(f"{_cpu(fn):.6f}", flush=True)


def _isolated_rounds(args: argparse.Namespace) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Interleaved rounds with every system in a worker process of its own: no system runs
    on a heap and in caches another one filled (docs/decisions.md, 2026-12-05)."""
    import subprocess

    command = [sys.executable, __file__, "--corpus", str(args.corpus), "--batch", str(args.batch),
               *(["--heldout"] if args.heldout else [])]
    workers: dict[str, subprocess.Popen[str]] = {}
    builds: dict[str, float] = {}
    try:
        for name in PEERS:  # built one after another: builds do not compete for the cores
            worker = subprocess.Popen([*command, "--peer-worker", name], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True)
            assert worker.stdout is not None
            answer = worker.stdout.readline().split()
            if answer[:1] == ["ready"]:
                workers[name], builds[name] = worker, float(answer[1])
            else:
                worker.wait()
        cpu: dict[str, list[float]] = {name: [] for name in workers}
        for _ in range(args.rounds):
            for name, worker in workers.items():
                assert worker.stdin is not None and worker.stdout is not None
                worker.stdin.write("run\n")
                worker.stdin.flush()
                cpu[name].append(float(worker.stdout.readline()))
    finally:
        for worker in workers.values():
            if worker.stdin is not None:
                worker.stdin.close()
            worker.wait(timeout=60)
    return cpu, builds


def _print_peers(title: str, mb: float, cpu: dict[str, list[float]], builds: dict[str, float]) -> None:
    import statistics

    print(title)
    print(f"{'systeem / system':<18}{'opbouw s':>10}{'cpu s (med)':>13}{'min':>8}{'max':>8}{'MB/s':>8}{'x':>7}")
    ours = statistics.median(cpu["schoonschip"])
    for name, times in cpu.items():
        med = statistics.median(times)
        print(f"{name:<18}{builds[name]:>10.2f}{med:>13.3f}{min(times):>8.3f}{max(times):>8.3f}"
              f"{mb / med:>8.2f}{med / ours:>7.1f}")


def run_peers(args: argparse.Namespace) -> None:
    """Interleaved rounds of schoonschip, DEDUCE and plain Presidio over the same texts: first
    each system in a process of its own (the figure that counts: a scan runs schoonschip
    alone), then all three in this process, as before 2026-12-05."""
    import statistics

    logging.disable(logging.WARNING)
    texts = _texts(args)
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    isolated, isolated_builds = _isolated_rounds(args)
    print(f"{len(texts)} teksten / texts, {mb:.3f} MB, {args.rounds} rondes / interleaved rounds")
    _print_peers("elk systeem in een eigen proces / each system in a process of its own:", mb,
                 isolated, isolated_builds)
    systems, builds = _peer_systems(args, texts)
    for fn in systems.values():  # warm-up: caches, lazy loading
        fn()
    shared: dict[str, list[float]] = {name: [] for name in systems}
    for _ in range(args.rounds):
        for name, fn in systems.items():
            shared[name].append(_cpu(fn))
    _print_peers("alle systemen in één proces / all systems in one process:", mb, shared, builds)
    print("x = CPU-tijd t.o.v. schoonschip / CPU time relative to schoonschip (warm, per core)")
    if args.json:  # read by benchmarks/report.py
        import json

        def figures(cpu: dict[str, list[float]], built: dict[str, float]) -> dict[str, dict[str, float]]:
            return {name: {"build": built[name], "cpu": statistics.median(times)} for name, times in cpu.items()}

        with open(args.json, "a", encoding="utf-8") as stream:
            stream.write(json.dumps({"bench": "peers", "texts": len(texts), "mb": mb, "rounds": args.rounds,
                                     "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                     "systems": figures(isolated, isolated_builds),
                                     "one_process": figures(shared, builds)}) + "\n")


def _texts(args: argparse.Namespace) -> list[str]:
    root = Path(__file__).resolve().parent.parent
    folders = [args.corpus] + ([root / "eval" / "heldout"] if args.heldout else [])
    return [p.read_text(encoding="utf-8") for folder in folders for p in sorted(Path(folder).glob("*.txt"))]


def run_names(args: argparse.Namespace) -> None:
    """The name recognizer alone: warm CPU time per round over the texts."""

    from detectors.recognizers.names import NameLexiconRecognizer

    texts = _texts(args)
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    started = time.perf_counter()
    recognizer = NameLexiconRecognizer()
    build = time.perf_counter() - started
    cold = _cpu(lambda: [recognizer.candidates(t) for t in texts])  # first pass: caches empty
    times = [_cpu(lambda: [recognizer.candidates(t) for t in texts]) for _ in range(args.rounds)]
    print(f"naamherkenner / name recognizer: {len(texts)} teksten / texts, {mb:.3f} MB, "
          f"opbouw / build {build:.2f} s")
    _report_rounds(args, "names", len(texts), mb, build, cold, times, docs_per_second=True)


def run_roster(args: argparse.Namespace) -> None:
    """The two roster name recognizers alone (corpus roster): warm CPU time per round."""

    from detectors.recognizers.roster import Roster, RosterFirstNameRecognizer, RosterNameRecognizer

    labels, _ = load_corpus(args.corpus)
    settings = _effective_settings(DetectionSettings(spacy_model="none"), labels, args.corpus)
    if settings.roster is None:
        raise SystemExit("het corpus heeft geen leerlingenlijst / the corpus has no roster")
    texts = _texts(args)
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    hasher = ValueHasher(secrets.token_bytes(32))
    started = time.perf_counter()
    roster = Roster.load(settings.roster, hasher)
    recognizers = [RosterNameRecognizer(roster, hasher), RosterFirstNameRecognizer(roster, hasher)]
    build = time.perf_counter() - started

    def one_round() -> None:
        for text in texts:  # as the detector runs them: one text, every recognizer
            for recognizer in recognizers:
                list(recognizer.candidates(text))

    cold = _cpu(one_round)
    times = [_cpu(one_round) for _ in range(args.rounds)]
    print(f"leerlingenlijst-herkenners / roster recognizers: {len(texts)} teksten / texts, {mb:.3f} MB, "
          f"{roster.students} leerlingen / pupils, opbouw / build {build:.2f} s")
    _report_rounds(args, "roster", len(texts), mb, build, cold, times, docs_per_second=False)


def _report_rounds(args: argparse.Namespace, bench: str, texts: int, mb: float, build: float, cold: float,
                   times: list[float], *, docs_per_second: bool) -> None:
    """The cold and warm rounds of one recognizer benchmark, printed and (``--json``) appended."""
    import statistics

    med = statistics.median(times)
    docs = f", {texts / med:.0f} docs/s" if docs_per_second else ""
    print(f"eerste ronde / first round {cold * 1000:.1f} ms CPU ({mb / cold:.2f} MB/s); warm: mediaan / "
          f"median {med * 1000:.1f} ms, min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f} ms CPU, "
          f"{mb / med:.2f} MB/s{docs} per CPU-seconde / per CPU second")
    if args.json:
        import json

        with open(args.json, "a", encoding="utf-8") as stream:
            stream.write(json.dumps({"bench": bench, "texts": texts, "mb": mb, "rounds": args.rounds,
                                     "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                     "build": build, "cold": cold, "cpu": med}) + "\n")


def run_profile(args: argparse.Namespace) -> None:
    """One pass of the schoonschip set-up under cProfile: hottest functions, name recognizer share."""
    import cProfile
    import pstats

    logging.disable(logging.WARNING)
    labels, documents = load_corpus(args.corpus)
    settings = _effective_settings(DetectionSettings(spacy_model=args.model, batch_size=args.batch),
                                   labels, args.corpus)
    detector = build_detector(settings, ValueHasher(secrets.token_bytes(32)))
    items: list[list[TextPart]] = [doc.parts for doc in documents] * args.repeat
    detector.analyze_many(items[: args.batch])  # warm-up
    profile = cProfile.Profile()
    profile.enable()
    for i in range(0, len(items), args.batch):
        detector.analyze_many(items[i : i + args.batch])
    profile.disable()
    stats = pstats.Stats(profile)
    total = stats.total_tt  # type: ignore[attr-defined]
    # cumulative time of the recognizer's entry point: its own code and the regex calls it makes
    names = sum(row[3] for func, row in stats.stats.items()  # type: ignore[attr-defined]
                if func[0].endswith(str(Path("recognizers") / "names.py")) and func[2] == "candidates")
    roster = sum(row[3] for func, row in stats.stats.items()  # type: ignore[attr-defined]
                 if func[0].endswith(str(Path("recognizers") / "roster.py")) and func[2] == "candidates")
    stats.sort_stats("tottime").print_stats(15)
    print(f"naamherkenner / name recognizer (NameLexiconRecognizer.candidates, cumulatief / cumulative): "
          f"{names:.3f} s van / of {total:.3f} s = {100 * names / total:.0f} % (onder cProfile / under cProfile)")
    print(f"leerlingenlijst / roster (roster.py candidates, cumulatief / cumulative): "
          f"{roster:.3f} s van / of {total:.3f} s = {100 * roster / total:.0f} % (onder cProfile / under cProfile)")


def run_stages(args: argparse.Namespace) -> None:
    """The schoonschip set-up with CPU time per recognizer and for the verdict, no profiler.

    The timers replace methods of one detector's objects, which compiled (mypyc) classes do not
    allow: with the compiled build active, the script runs itself again as plain Python
    (``SCHOONSCHIP_PURE_PYTHON=1``) and says so. The shares are then plain Python's; callgrind on
    the compiled build (docs/performance.md) gives the compiled ones."""
    import detectors

    if detectors.COMPILED.active:
        import os
        import subprocess

        print("stappen gemeten in gewoon Python (gecompileerde klassen laten geen timers toe) / "
              "stages measured in plain Python (compiled classes take no timers)", flush=True)
        env = dict(os.environ, SCHOONSCHIP_PURE_PYTHON="1")
        raise SystemExit(subprocess.call([sys.executable, *sys.argv], env=env))
    logging.disable(logging.WARNING)
    labels, documents = load_corpus(args.corpus)
    settings = _effective_settings(DetectionSettings(spacy_model="none", batch_size=args.batch),
                                   labels, args.corpus)
    detector = build_detector(settings, ValueHasher(secrets.token_bytes(32)))
    spent: dict[str, float] = {}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        clock = time.process_time

        def call(*a: Any, **k: Any) -> Any:
            t = clock()
            try:
                return fn(*a, **k)
            finally:
                spent[name] = spent.get(name, 0.0) + clock() - t
        return call

    # instance attributes shadow the methods of this one detector only
    for recognizer in detector.recognizers:
        recognizer.find = timed(type(recognizer).__name__, recognizer.find)  # type: ignore[method-assign]
    detector._verdict = timed("verdict (judge, masks, hashes)", detector._verdict)  # type: ignore[method-assign]
    items: list[list[TextPart]] = [doc.parts for doc in documents] * args.repeat
    mb = sum(len(p.text.encode("utf-8")) for parts in items for p in parts) / 1e6
    detector.analyze_many(items[: args.batch])  # warm-up
    spent.clear()
    cpu = time.process_time()
    for i in range(0, len(items), args.batch):
        detector.analyze_many(items[i : i + args.batch])
    total = time.process_time() - cpu
    spent["rest (units, resolve, duplicates, timing)"] = total - sum(spent.values())
    print(f"{len(items)} items, {mb:.2f} MB, {total:.3f} CPU-s, {mb / total:.2f} MB/s "
          f"(met tijdmeting / with timing)")
    print(f"{'stap / stage':42} {'cpu s':>7} {'aandeel / share':>16}")
    for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"{name:42} {seconds:7.3f} {100 * seconds / total:15.1f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--model", default="none", help="none | auto | PATH | tiny")
    parser.add_argument("--long", action="store_true",
                        help="join the corpus into one long text per repeat (long-text throughput)")
    parser.add_argument("--peers", action="store_true",
                        help="schoonschip beside DEDUCE and plain Presidio, interleaved rounds")
    parser.add_argument("--peer-worker", choices=PEERS, help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--heldout", action="store_true", help="with --peers: add eval/heldout")
    parser.add_argument("--json", type=Path, default=None,
                        help="with --peers, --names or --roster: append the figures as one JSON line")
    parser.add_argument("--names", action="store_true", help="the name recognizer alone, warm rounds")
    parser.add_argument("--roster", action="store_true",
                        help="the roster name recognizers alone (corpus roster), warm rounds")
    parser.add_argument("--profile", action="store_true",
                        help="the schoonschip set-up under cProfile: name recognizer share")
    parser.add_argument("--stages", action="store_true",
                        help="the schoonschip set-up, CPU per recognizer and for the verdict")
    args = parser.parse_args()
    if args.peer_worker:
        run_peer_worker(args)
    elif args.peers:
        run_peers(args)
    elif args.names:
        run_names(args)
    elif args.roster:
        run_roster(args)
    elif args.profile:
        run_profile(args)
    elif args.stages:
        run_stages(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
