"""Which modules of a package run as mypyc-compiled C extensions, and never a stale one.

``scripts/build_compiled.py`` (run by ``scripts/install.sh``) compiles the detection hot path
with mypyc into extension modules beside their ``.py`` files and writes a manifest
(:data:`MANIFEST_NAME`) into the package: the modules it compiled and a fingerprint of the
sources they were built from. Python prefers an extension module to a ``.py`` of the same name,
so an extension built from older sources would silently run old code after an edit or a
``git pull``. :func:`guard` prevents that: when the package's sources no longer match the
manifest's fingerprint, or when there is no manifest (no build, or one being written: the
manifest is written last and removed first), every module of the package is loaded from its
``.py`` instead (the group shares one C library, so one stale member makes the whole group
stale), until the build is run again. Setting ``SCHOONSCHIP_PURE_PYTHON=1`` does the same on
purpose (to compare the two, or to debug with pdb).

Both paths give the same results (a test compares the detector snapshot of the two); the
compiled one is ~20-25 % faster (docs/performance.md, 3 December 2026).
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

MANIFEST_NAME = "_compiled.json"
PURE_ENV = "SCHOONSCHIP_PURE_PYTHON"
FORMAT = 1
"""The manifest's layout; a manifest of another format counts as no build."""


@dataclass(frozen=True)
class CompiledState:
    """What :func:`guard` decided for one package, for ``schoonschip check`` and the logs."""

    package: str
    modules: tuple[str, ...]  # the compiled group, empty when nothing was built
    active: bool  # the extension modules are the ones imported
    reason: str  # "compiled", "not-built", "stale", "disabled", "other-python"


_STATES: dict[str, CompiledState] = {}


def fingerprint(root: Path, sources: Iterable[str], python_tag: str) -> str:
    """A digest of the source trees a compiled group depends on, and the Python it is for.

    ``sources`` are paths relative to ``root``: a directory stands for every ``.py`` below
    it. The compiled modules' own text is in it, and so is the text of the interpreted modules
    they call into (their attribute types are compiled into the checks mypyc generates).
    """
    digest = hashlib.sha256(python_tag.encode())
    for rel in sources:
        path = root / rel
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(root)).encode())
            digest.update(b"\0")
            digest.update(file.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()


def python_tag() -> str:
    """The interpreter an extension module was built for (its ABI tag)."""
    return f"{sys.implementation.cache_tag}-{importlib.machinery.EXTENSION_SUFFIXES[0]}"


def read_manifest(package_dir: Path) -> dict[str, object] | None:
    """The build's manifest of ``package_dir``, or None when nothing was compiled there."""
    path = package_dir / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    return data


def build_state(manifest: dict[str, object], root: Path) -> str:
    """Whether the build a manifest describes matches this interpreter and the sources under
    ``root`` now: ``"compiled"``, ``"other-python"`` or ``"stale"`` (the guard's decision and
    the build script's "nothing to build", in one place)."""
    if manifest.get("python") != python_tag():
        return "other-python"
    if manifest.get("fingerprint") != fingerprint(root, _strings(manifest.get("sources")), python_tag()):
        return "stale"
    return "compiled"


def _strings(value: object) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


class _SourceFirst(importlib.abc.MetaPathFinder):
    """Finds every module of a package as its ``.py`` file, ahead of any extension module
    beside it (which may be missing, stale or half-written by a build in progress)."""

    def __init__(self, package: str, package_dir: Path) -> None:
        self._prefix = package + "."
        self._dir = package_dir

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(self._prefix):
            return None
        base = self._dir.joinpath(*fullname[len(self._prefix) :].split("."))
        init = base / "__init__.py"
        if init.is_file():
            return importlib.util.spec_from_file_location(
                fullname, init, submodule_search_locations=[str(base)]
            )
        source = base.with_suffix(".py")
        if source.is_file():
            return importlib.util.spec_from_file_location(fullname, source)
        return None  # not ours to decide (a data file, a missing module): the usual finders


def guard(package: str, package_dir: Path) -> CompiledState:
    """Decide, before any module of ``package`` is imported, whether its compiled group runs.

    Called first thing in the package's ``__init__``. Cheap: it reads the manifest and hashes
    the sources it names (a few hundred kB, ~1 ms), once per process.
    """
    known = _STATES.get(package)
    if known is not None:
        return known
    manifest = read_manifest(package_dir)
    if manifest is None:
        # no build, or one being written or removed: whatever extension files lie around, the
        # package runs from its sources
        sys.meta_path.insert(0, _SourceFirst(package, package_dir))
        state = CompiledState(package, (), False, "not-built")
    else:
        modules = _strings(manifest.get("modules"))
        if os.environ.get(PURE_ENV, "") not in ("", "0"):
            reason = "disabled"
        else:
            reason = build_state(manifest, package_dir.parent)
        if reason != "compiled":
            sys.meta_path.insert(0, _SourceFirst(package, package_dir))
        state = CompiledState(package, modules, reason == "compiled", reason)
    _STATES[package] = state
    return state
