"""Pipeline tests run against an in-test source that follows the connector contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from scanner.config import load_config
from tests.pipeline import memory_source


@pytest.fixture(autouse=True)
def memory_kind(monkeypatch):
    """Register the in-test source kind the way every connector is registered."""
    from connectors import registry

    monkeypatch.setitem(registry.CONNECTORS, memory_source.KIND, memory_source.IMPORT_PATH)
    yield
    memory_source.WORLDS.clear()


def settings_for(tmp_path: Path, sources: list[dict[str, Any]], database_url: str | None = None,
                 scan: dict[str, Any] | None = None, name: str = "config") -> Any:
    data: dict[str, Any] = {"state_dir": str(tmp_path / f"{name}-state"), "sources": sources,
                            "school": {"name": "Test"}, "detection": {"spacy_model": "none"},
                            # one secret for every store of a test, so keyed hashes compare
                            "secret_file": str(tmp_path / "hmac.key")}
    if database_url:
        data["database"] = {"url": database_url}
    if scan:
        data["scan"] = scan
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_config(path)
