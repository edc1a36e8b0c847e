"""Compile the detection hot path to C with mypyc, beside the ``.py`` files (install.sh runs it).

Why: detection is ~40 % of a scan's CPU, spread over many small Python steps per token and per
hit that no single rewrite removes; mypyc compiles the same, type-checked source to C and takes
~20-25 % off a warm pass with byte-identical results (docs/decisions.md, 2026-12-03 mypyc).
The modules and the sources the build depends on are listed in ``pyproject.toml``
(``[tool.schoonschip.mypyc]``). The build writes a manifest with a fingerprint of those sources;
``scanner.core.compiled.guard`` loads the ``.py`` files instead whenever they no longer match, so
an edit never runs against an old build.

    python scripts/build_compiled.py           # build when the sources changed (else: nothing)
    python scripts/build_compiled.py --force   # build anyway
    python scripts/build_compiled.py --clean   # remove the extension modules and the manifest
    python scripts/build_compiled.py --check   # exit 0 when the build matches the sources

Exits 0 after a build or when nothing needed building, 1 when the build failed (the package
then runs as plain Python, which ``schoonschip check`` reports), 2 on a wrong argument.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import json
import os
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanner.core.compiled import (  # noqa: E402
    FORMAT,
    MANIFEST_NAME,
    build_state,
    fingerprint,
    python_tag,
    read_manifest,
)


def _settings() -> dict[str, Any]:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        conf = tomllib.load(handle)["tool"]["schoonschip"]["mypyc"]
    assert isinstance(conf, dict)
    return conf


def _extension_files(package_dir: Path, group: str) -> list[Path]:
    """The extension modules of a previous build: every ``.so``/``.pyd`` in the package, and
    the group's shared library in the project root."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    found = [p for p in package_dir.rglob("*") if p.is_file() and p.name.endswith(suffixes)]
    return found + [p for p in ROOT.glob(f"{group}__mypyc.*") if p.name.endswith(suffixes)]


def clean(package_dir: Path, group: str) -> int:
    """Remove the manifest first (so a half-removed build is never taken for a whole one)."""
    removed = 0
    manifest = package_dir / MANIFEST_NAME
    if manifest.exists():
        manifest.unlink()
        removed += 1
    for path in _extension_files(package_dir, group):
        path.unlink()
        removed += 1
    return removed


def is_current(package_dir: Path, modules: list[str], sources: list[str]) -> bool:
    """A build of these modules from these sources, current for this Python (what the guard
    would load compiled)."""
    manifest = read_manifest(package_dir)
    if manifest is None or manifest.get("modules") != modules or manifest.get("sources") != sources:
        return False
    return build_state(manifest, ROOT) == "compiled"


def build(package_dir: Path, group: str, modules: list[str], sources: list[str]) -> None:
    from mypyc.build import mypycify
    from setuptools import setup

    before = fingerprint(ROOT, sources, python_tag())
    clean(package_dir, group)
    paths = [str(Path(*name.split(".")).with_suffix(".py")) for name in modules]
    target = ROOT / "build" / "mypyc"  # the generated C (build/ is not tracked)
    cwd = Path.cwd()
    os.chdir(ROOT)  # mypy finds its configuration ([tool.mypy]) and the packages from here
    try:
        extensions = mypycify(
            # pyproject's [tool.mypy] is the configuration; its overrides for packages outside
            # this build would otherwise be reported as unused, which mypyc treats as an error
            ["--no-warn-unused-configs", *paths],
            opt_level="3",
            group_name=group,
            target_dir=str(target),
        )
        with tempfile.TemporaryDirectory(prefix="schoonschip-mypyc-") as temp:
            # setuptools reads the pyproject.toml of the current directory as its own metadata
            # (ours is hatchling's): run it elsewhere, with the project as the package root
            os.chdir(temp)
            setup(
                name="schoonschip-compiled",
                packages=[],
                py_modules=[],
                package_dir={"": str(ROOT)},
                ext_modules=extensions,
                script_args=[
                    "--quiet",
                    "build_ext",
                    "--inplace",
                    "--build-temp",
                    temp,
                    "--parallel",
                    str(os.cpu_count() or 1),
                ],
            )
    finally:
        os.chdir(cwd)
    after = fingerprint(ROOT, sources, python_tag())
    if after != before:  # a source was edited during the build: do not vouch for it
        raise RuntimeError("sources changed during the build; run it again")
    manifest = {
        "format": FORMAT,
        "group": group,
        "modules": modules,
        "sources": sources,
        "python": python_tag(),
        "fingerprint": after,
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (package_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1) + "\n", "utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--force", action="store_true", help="build even when up to date")
    action.add_argument("--clean", action="store_true", help="remove the compiled modules")
    action.add_argument("--check", action="store_true", help="exit 0 when the build is current")
    args = parser.parse_args(argv)
    conf = _settings()
    package_dir = ROOT / str(conf["package"])
    group = str(conf["group"])
    modules = [str(m) for m in conf["modules"]]
    sources = [str(s) for s in conf["sources"]]
    if args.clean:
        print(f"compiled modules removed: {clean(package_dir, group)} files")
        return 0
    current = is_current(package_dir, modules, sources)
    if args.check:
        print("compiled modules: " + ("current" if current else "missing or stale"))
        return 0 if current else 1
    if current and not args.force:
        print("compiled modules: current, nothing to build")
        return 0
    started = time.monotonic()
    try:
        build(package_dir, group, modules, sources)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - any failure: plain Python, said why
        clean(package_dir, group)
        print(
            f"compiled modules: build failed ({type(exc).__name__}: {exc}); "
            "detection runs as plain Python (slower, same results)",
            file=sys.stderr,
        )
        return 1
    print(f"compiled modules: {len(modules)} built in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
