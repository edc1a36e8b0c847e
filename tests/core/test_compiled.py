"""The mypyc build runs only while it matches the sources, and gives the same results.

``scanner.core.compiled.guard`` is tried on a throw-away package whose "extension module" is a
file that cannot load: importing it fails unless the guard sends the import to the ``.py``. The
real build (``scripts/build_compiled.py``, run by ``scripts/install.sh``) is compared with plain
Python on the detector snapshot of every evaluation text.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.core import compiled

ROOT = Path(__file__).resolve().parents[2]


def _package(tmp_path: Path, name: str) -> Path:
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "hot.py").write_text("VALUE = 'from source'\n")
    # not a loadable extension: importing it raises ImportError, so a successful import of
    # `hot` proves the .py was taken
    (package / ("hot" + importlib.machinery.EXTENSION_SUFFIXES[0])).write_bytes(b"not an ELF")
    return package


def _manifest(package: Path, fingerprint: str, python: str | None = None) -> None:
    data = {
        "format": 1,
        "group": "g",
        "modules": [f"{package.name}.hot"],
        "sources": [package.name],
        "python": python or compiled.python_tag(),
        "fingerprint": fingerprint,
    }
    (package / compiled.MANIFEST_NAME).write_text(json.dumps(data))


@pytest.fixture()
def isolated(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    monkeypatch.setattr(compiled, "_STATES", {})
    monkeypatch.delenv(compiled.PURE_ENV, raising=False)
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("guardpkg")]:
        del sys.modules[name]


def test_no_manifest_means_plain_python_whatever_extension_files_lie_around(isolated):
    """A build being written or removed has no manifest (it is written last, removed first)."""
    package = _package(isolated, "guardpkg_none")
    sub = package / "sub"
    sub.mkdir()
    (sub / "__init__.py").write_text("")
    (sub / "deep.py").write_text("VALUE = 'deep source'\n")
    (sub / ("deep" + importlib.machinery.EXTENSION_SUFFIXES[0])).write_bytes(b"half written")
    state = compiled.guard(package.name, package)
    assert (state.active, state.reason, state.modules) == (False, "not-built", ())
    assert importlib.import_module(f"{package.name}.hot").VALUE == "from source"
    assert importlib.import_module(f"{package.name}.sub.deep").VALUE == "deep source"


def test_a_current_build_is_imported(isolated):
    package = _package(isolated, "guardpkg_current")
    fp = compiled.fingerprint(isolated, [package.name], compiled.python_tag())
    _manifest(package, fp)
    state = compiled.guard(package.name, package)
    assert (state.active, state.reason) == (True, "compiled")
    with pytest.raises(ImportError):  # the (fake) extension module is what Python picks
        importlib.import_module(f"{package.name}.hot")


def test_an_edited_source_sends_the_group_to_the_py_files(isolated):
    package = _package(isolated, "guardpkg_stale")
    fp = compiled.fingerprint(isolated, [package.name], compiled.python_tag())
    _manifest(package, fp)
    (package / "hot.py").write_text("VALUE = 'edited'\n")
    state = compiled.guard(package.name, package)
    assert (state.active, state.reason) == (False, "stale")
    assert importlib.import_module(f"{package.name}.hot").VALUE == "edited"


def test_another_python_or_the_switch_means_plain_python(isolated, monkeypatch):
    other = _package(isolated, "guardpkg_other")
    _manifest(other, compiled.fingerprint(isolated, [other.name], "x"), python="cpython-0")
    assert compiled.guard(other.name, other).reason == "other-python"
    assert importlib.import_module(f"{other.name}.hot").VALUE == "from source"

    switched = _package(isolated, "guardpkg_switch")
    _manifest(switched, compiled.fingerprint(isolated, [switched.name], compiled.python_tag()))
    monkeypatch.setenv(compiled.PURE_ENV, "1")
    assert compiled.guard(switched.name, switched).reason == "disabled"
    assert importlib.import_module(f"{switched.name}.hot").VALUE == "from source"


def test_the_fingerprint_covers_text_and_file_names(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "a.py").write_text("x = 1\n")
    first = compiled.fingerprint(tmp_path, ["p"], "t")
    (tmp_path / "p" / "a.py").write_text("x = 2\n")
    second = compiled.fingerprint(tmp_path, ["p"], "t")
    (tmp_path / "p" / "a.py").rename(tmp_path / "p" / "b.py")
    (tmp_path / "p" / "b.py").write_text("x = 1\n")
    third = compiled.fingerprint(tmp_path, ["p"], "t")
    assert len({first, second, third, compiled.fingerprint(tmp_path, ["p"], "u")}) == 4


def _snapshot(out: Path, pure: bool) -> tuple[str, str]:
    env = {k: v for k, v in os.environ.items() if k != compiled.PURE_ENV}
    if pure:
        env[compiled.PURE_ENV] = "1"
    env["PYTHONPATH"] = str(ROOT)
    probe = (
        "import detectors, runpy, sys; print(detectors.COMPILED.reason); "
        f"sys.argv = ['detector_snapshot', {str(out)!r}]; "
        f"runpy.run_path({str(ROOT / 'scripts' / 'detector_snapshot.py')!r}, run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True,
        timeout=600, check=True,
    )
    return done.stdout.splitlines()[0], out.read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_compiled_detector_finds_exactly_what_plain_python_finds(tmp_path):
    """Every finding, mask, hash and verdict of every evaluation text, with and without the
    roster, is the same compiled and interpreted; and the default install is compiled."""
    import detectors

    state = detectors.COMPILED
    if not state.active:
        if os.environ.get("SCHOONSCHIP_NO_COMPILE") == "1" or shutil.which("cc") is None:
            pytest.skip(f"detection not compiled here ({state.reason}): nothing to compare")
        pytest.fail(f"scripts/install.sh should have compiled detection, but it is {state.reason}")
    reason_c, compiled_out = _snapshot(tmp_path / "compiled.txt", pure=False)
    reason_p, plain_out = _snapshot(tmp_path / "plain.txt", pure=True)
    assert (reason_c, reason_p) == ("compiled", "disabled")
    assert compiled_out.count("\n") > 3000
    assert compiled_out == plain_out
