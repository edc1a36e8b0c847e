"""Whole-process throughput: ``schoonschip analyze --input jsonl`` beside DEDUCE and plain Presidio.

    python benchmarks/bench_process.py [--kb 400] [--json FILE]

What a school's server pays: a fresh process that starts, loads its lists/models, reads ~400 kB
of Dutch text (the evaluation corpus and the held-out name set, repeated) and writes results.
Each peer runs as its own process on the same JSON-lines file, so start-up is in the figure;
start-up is also measured apart (the same process on one empty line) and subtracted for the
"steady" column. Peers (optional, measured only when installed; never dependencies):

* **deduce**: ``pip install deduce`` (DEDUCE 3.0, Dutch de-identification), ``Deduce().deidentify``
  per text;
* **presidio-plain**: Presidio ``AnalyzerEngine`` for ``nl`` with a blank spaCy pipeline and the
  same Dutch recognizers as schoonschip (``detectors.engine`` registry), one text at a time.

With ``--json FILE`` one line ``{"bench": "process", ...}`` is appended (per system: total and
start-up seconds), which ``report.py`` turns into README's whole-process table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEDUCE = """
import json, sys
from deduce import Deduce
d = Deduce()
for line in open(sys.argv[1], encoding="utf-8"):
    if line.strip():
        doc = d.deidentify(json.loads(line)["text"])
        print(len(doc.annotations))
"""
PRESIDIO = """
import json, secrets, sys
sys.path.insert(0, sys.argv[2])
import spacy
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from detectors.engine import build_detector
from detectors.nlp import NlpChoice
from detectors.presidio_bridge import PresidioRecognizer, SchoolSpacyNlpEngine
from detectors.settings import DetectionSettings
from scanner.core.privacy import ValueHasher
detector = build_detector(DetectionSettings(spacy_model="none"), ValueHasher(secrets.token_bytes(32)))
nlp_engine = SchoolSpacyNlpEngine(NlpChoice(spacy.blank("nl"), None, False, "blank", None))
registry = RecognizerRegistry(recognizers=[PresidioRecognizer(r) for r in detector.recognizers],
                              supported_languages=["nl"])
engine = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["nl"])
for line in open(sys.argv[1], encoding="utf-8"):
    if line.strip():
        print(len(engine.analyze(json.loads(line)["text"], language="nl")))
"""


def corpus_lines(kb: int) -> list[str]:
    texts = [p.read_text(encoding="utf-8") for folder in ("corpus", "heldout")
             for p in sorted((ROOT / "eval" / folder).glob("*.txt"))]
    lines, size, n = [], 0, 0
    while size < kb * 1000:
        text = texts[n % len(texts)]
        lines.append(json.dumps({"id": f"d{n}", "text": text}, ensure_ascii=False))
        size += len(text.encode())
        n += 1
    return lines


def timed(cmd: list[str], stdin_path: Path | None) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    start = time.perf_counter()
    with open(stdin_path or os.devnull, "rb") as stdin:
        subprocess.run(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True, env=env, cwd=ROOT)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kb", type=int, default=400)
    parser.add_argument("--json", type=Path, help="append one JSON line with the figures to this file")
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "in.jsonl"
        empty = Path(tmp) / "empty.jsonl"
        lines = corpus_lines(args.kb)
        data.write_text("\n".join(lines) + "\n", encoding="utf-8")
        empty.write_text(json.dumps({"id": "x", "text": ""}) + "\n", encoding="utf-8")
        kb = data.stat().st_size / 1000
        peers = {"schoonschip": lambda f: ([py, "-m", "scanner.cli", "analyze", "--input", "jsonl",
                                            "--format", "json"], f)}
        for name, script, module in (("deduce", DEDUCE, "deduce"), ("presidio-plain", PRESIDIO, "presidio_analyzer")):
            try:
                __import__(module)
            except ImportError:
                print(f"{name}: niet geïnstalleerd / not installed, overgeslagen")
                continue
            path = Path(tmp) / f"peer_{name.replace('-', '_')}.py"  # not "deduce.py": it would shadow the package
            path.write_text(script, encoding="utf-8")
            peers[name] = (lambda p: lambda f: ([py, str(p), str(f), str(ROOT)], None))(path)
        print(f"{len(lines)} documenten, {kb:.0f} kB, 1 proces per meting / one process per run")
        print(f"{'systeem':<16}{'totaal s':>9}{'start s':>9}{'kB/s':>9}{'kB/s excl. start':>18}")
        results = {}
        for name, make in peers.items():
            cmd, stdin = make(data)
            total = timed(cmd, stdin)
            cmd0, stdin0 = make(empty)
            start = timed(cmd0, stdin0)
            results[name] = (total, start)
            # a peer whose start-up is nearly all of its run (DEDUCE: ~17 s of lookup lists) has
            # no measurable steady rate: the two runs' noise is larger than the difference
            steady = f"{kb / (total - start):.1f}" if total - start > 0.1 * total else "n.v.t. / n/a"
            print(f"{name:<16}{total:>9.2f}{start:>9.2f}{kb / total:>9.1f}{steady:>18}")
        ours = results["schoonschip"]
        for name, (total, start) in results.items():
            if name != "schoonschip":
                steady = (f"{(total - start) / (ours[0] - ours[1]):.1f}x"
                          if total - start > 0.1 * total and ours[0] > ours[1] else "n.v.t. / n/a")
                print(f"schoonschip / {name}: {total / ours[0]:.1f}x (totaal / whole process), "
                      f"{steady} (excl. start)")
        if args.json:
            row = {"bench": "process", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                   "kb": round(kb, 1), "docs": len(lines), "load": os.getloadavg()[0],
                   "systems": {name: {"total": round(total, 3), "start": round(start, 3)}
                               for name, (total, start) in results.items()}}
            with open(args.json, "a", encoding="utf-8") as stream:
                stream.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
