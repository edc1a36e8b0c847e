"""``python -m scanner.demo OUT_DIR [--bulk N]``: write the demo (or a bulk) corpus and say where.

A convenience for trying things out and for benchmarks; ``schoonschip demo`` is the user-facing
command. Prints counts and paths only, never content.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

from scanner.demo import bulk_sources, generate_bulk, generate_demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scanner.demo", description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--mails-per-teacher", type=int, default=120)
    parser.add_argument("--teachers", type=int, default=3)
    parser.add_argument("--bulk", type=int, default=0, help="write N mails for benchmarks instead")
    parser.add_argument("--attachments-ratio", type=float, default=0.3)
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier corpus in OUT_DIR")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.bulk:
        root = generate_bulk(args.out_dir, args.bulk, args.seed, args.attachments_ratio, today=args.today,
                             overwrite=args.overwrite)
        print(json.dumps({"root": str(root), "sources": bulk_sources(root),
                          "seconds": round(time.perf_counter() - start, 2)}, indent=2))
        return 0
    corpus = generate_demo(args.out_dir, seed=args.seed, mails_per_teacher=args.mails_per_teacher,
                           teachers=args.teachers, today=args.today, overwrite=args.overwrite)
    summary = {
        "root": str(corpus.root),
        "roster_csv": str(corpus.roster_csv),
        "sources": corpus.sources,
        "items": len(corpus.expected_student_data),
        "items_with_student_data": sum(corpus.expected_student_data.values()),
        "seconds": round(time.perf_counter() - start, 2),
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
