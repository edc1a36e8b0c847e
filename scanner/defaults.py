"""The built-in configuration files, read from the installed package (or the source tree).

``config/default.yaml`` is the one place where a default setting is written down: it ships
inside the wheel as ``scanner/_defaults`` and a school's file is laid over it key by key. The
retention rules are read from it too, so a configuration without a ``retention:`` section and
the shipped file cannot drift apart. A module of its own because both :mod:`scanner.config`
and :mod:`scanner.retention.settings` need it, and the first imports the second.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml


def default_config_text(name: str = "default.yaml") -> str:
    """Return a built-in YAML file, from the installed package or the source tree."""
    packaged = resources.files("scanner").joinpath("_defaults", name)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source_tree = Path(__file__).resolve().parent.parent / "config" / name
    return source_tree.read_text(encoding="utf-8")


def load_defaults() -> dict[str, Any]:
    """The parsed ``default.yaml`` (a fresh structure on every call: callers merge into it)."""
    return yaml.safe_load(default_config_text()) or {}
