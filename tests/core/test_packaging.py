"""The wheel carries everything the installed package needs without the source tree:
default configuration, migrations, lexicons, name lists and report templates."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    (path,) = out.glob("schoonschip-*.whl")
    return zipfile.ZipFile(path)


def test_defaults_and_migrations_are_in_the_wheel(wheel):
    names = set(wheel.namelist())
    assert {"scanner/_defaults/default.yaml", "scanner/_defaults/example.yaml"} <= names
    assert any(n.startswith("scanner/store/migrations/versions/0001") for n in names)
    assert "scanner/store/migrations/env.py" in names


def test_data_files_are_in_the_wheel(wheel):
    names = wheel.namelist()
    for folder in ("detectors/lexicons/", "detectors/data/", "reports/templates/"):
        assert any(n.startswith(folder) for n in names), folder
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "schoonschip = scanner.cli:main" in wheel.read(entry_points).decode()


def test_installed_defaults_load_from_the_package(wheel, tmp_path):
    """Unpacked wheel, source tree out of the way: the defaults still load."""
    wheel.extractall(tmp_path)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import scanner.config as c; "
            "assert c.__file__.startswith(sys.argv[1]); "
            "s = c.load_config(None); print(s.school.timezone); "
            "print(','.join(r.id for r in s.retention.rules))")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    zone, rules = result.stdout.split()
    assert zone == "Europe/Amsterdam"
    assert "id_documenten" in rules.split(",")  # retention defaults come from the packaged YAML
