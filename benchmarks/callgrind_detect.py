"""Instructions per warm detection pass, counted by callgrind (issue 21, item 1).

    .venv/bin/python benchmarks/callgrind_detect.py [--passes 3] [--corpus eval/corpus] \
        [--no-roster | --peers] [--keep DIR] [--native]

The script runs itself under ``valgrind --tool=callgrind`` with ``PYTHONHASHSEED=0``. Inside,
it builds the detector of the evaluation corpus (``spacy_model="none"``, with the corpus's
roster and student-number pattern unless ``--no-roster``) and runs one pass over the corpus's
texts to warm its caches. Then it zeroes the counters (``callgrind_control -z``), runs
``--passes`` more passes and dumps them (``-d``), so imports, set-up and the warm-up are not
counted. It prints the instructions per warm pass and per character. ``--peers`` measures
what ``bench_detect.py --peers`` times for item 1 instead: each corpus file whole as one body
text, the default settings (no roster), batches of 64. With ``--keep DIR`` the
dumps stay in DIR: ``callgrind_annotate --inclusive=yes DIR/callgrind.<pid>.1`` shows where
the passes go. ``--native`` runs the passes without valgrind and prints their CPU.

Why instructions: speed changes to the detector are a few per cent each, and CPU seconds on a
shared two-core virtual machine vary by more than that between runs minutes apart; the
instruction count of the same code repeats to a fraction of a percent. Compare the compiled
build with ``SCHOONSCHIP_PURE_PYTHON=1`` (plain Python) to see what mypyc gives.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _callgrind import control, under_valgrind  # noqa: E402


def passes(args: argparse.Namespace) -> None:
    """The measured passes (run inside valgrind, or natively with ``--native``)."""
    from detectors.engine import build_detector
    from detectors.evaluation import _effective_settings, load_corpus
    from detectors.settings import DetectionSettings
    from scanner.core.model import TextPart
    from scanner.core.privacy import ValueHasher

    settings = DetectionSettings(spacy_model="none")
    if args.peers:
        texts = [p.read_text(encoding="utf-8") for p in sorted(args.corpus.glob("*.txt"))]
        items = [[TextPart("body", t)] for t in texts]
        batch = 64
    else:
        labels, docs = load_corpus(args.corpus)
        if not args.no_roster:
            settings = _effective_settings(settings, labels, args.corpus)
        items = [d.parts for d in docs]
        batch = len(items)
    detector = build_detector(settings, ValueHasher(b"callgrind-detect-fixed-key-00000"))
    characters = sum(len(p.text) for parts in items for p in parts)

    def one_pass() -> None:
        for i in range(0, len(items), batch):
            for _ in detector.analyze_many(items[i:i + batch]):
                pass

    one_pass()
    control("-z")
    cpu = time.process_time()
    for _ in range(args.passes):
        one_pass()
    cpu = time.process_time() - cpu
    control("-d")
    print(f"texts={len(items)} characters={characters} cpu_per_pass={cpu / args.passes:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=3, help="measured warm passes (after one warm-up pass)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "eval" / "corpus")
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--no-roster", action="store_true", help="without the corpus's roster and number pattern")
    shape.add_argument("--peers", action="store_true",
                       help="bench_detect.py --peers's texts: whole files, default settings, batches of 64")
    parser.add_argument("--keep", type=Path, help="keep the callgrind dumps in this directory")
    parser.add_argument("--native", action="store_true", help="no valgrind: print the CPU per warm pass")
    args = parser.parse_args()
    if under_valgrind() or args.native:
        passes(args)
        return
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind not found (Debian package valgrind), or use --native")
    with tempfile.TemporaryDirectory(prefix="schoonschip-callgrind-") as tmp:
        out = args.keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        command = [valgrind, "--tool=callgrind", f"--callgrind-out-file={out}/callgrind.%p", sys.executable,
                   __file__, *sys.argv[1:]]
        done = subprocess.run(command, env={**os.environ, "PYTHONHASHSEED": "0"}, capture_output=True,
                              text=True, check=False)
        if done.returncode:
            raise SystemExit(f"valgrind failed ({done.returncode}):\n{done.stderr[-2000:]}")
        facts = dict(re.findall(r"(\w+)=([\d.]+)", done.stdout))
        dumps = sorted(out.glob("callgrind.*.1"), key=lambda p: p.stat().st_mtime)
        summary = re.search(r"^summary: (\d+)", dumps[-1].read_text(errors="replace"), re.MULTILINE) if dumps else None
        if summary is None:
            raise SystemExit(f"no callgrind dump with a summary in {out}")
        per_pass = int(summary.group(1)) / args.passes
        build = "plain Python" if os.environ.get("SCHOONSCHIP_PURE_PYTHON") else "as installed (compiled if built)"
        print(f"{args.passes} warm pass(es) over {facts['texts']} texts, {int(facts['characters']):,} characters, "
              f"{build}: {per_pass / 1e6:.1f} M instructions per pass, {per_pass / int(facts['characters']):,.0f} "
              "per character")
        if args.keep:
            print(f"dumps: {dumps[-1]}")


if __name__ == "__main__":
    main()
