"""A store with a teacher's flagged items, settings that name their source, and a test-only
connector that really moves files (the folder connector plus ``remove``, as the contract in
``connectors.base`` describes it), so the answer service is tested without the ``act`` branch."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.base import Connector, ConnectorContext, ItemFetchError, SourceConfig
from connectors.folder import FolderConnector
from scanner.config import load_config
from scanner.core.model import AnalysisResult, Finding, ItemKind, ItemRef, Verdict
from scanner.retention_pass import recompute_retention
from scanner.store import Store

OWNER = "mentor@school.nl"
OTHER = "collega@school.nl"


class MovingFolderConnector(FolderConnector):
    """Moves a file into ``<root>/../quarantaine`` (never unlinks), idempotent as the contract
    asks: a file already gone returns normally."""

    calls: list[str] = []

    def remove(self, ref: ItemRef) -> str:
        MovingFolderConnector.calls.append(ref.item_key)
        root = Path(self.config.path)  # type: ignore[attr-defined]
        source = root / ref.item_key
        target = root.parent / "quarantaine" / ref.item_key
        if not source.exists():
            return "quarantaine"
        if source.name.startswith("weigert"):
            raise ItemFetchError("access_denied", "geen schrijfrechten / no write permission")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, target)
        return "quarantaine"


class ReadOnlyFolderConnector(FolderConnector):
    """A source that cannot act (whatever the folder connector learns on other branches): the
    base class's ``remove``, so ``supports_remove()`` is False."""

    remove = Connector.remove  # type: ignore[assignment]


def read_only_factory(source: SourceConfig, context: ConnectorContext) -> FolderConnector:
    return ReadOnlyFolderConnector(source, context)


def moving_factory(source: SourceConfig, context: ConnectorContext) -> FolderConnector:
    return MovingFolderConnector(source, context)


def settings_for(tmp: Path, database_url: str | None = None, answers_port: int | None = None):
    share = tmp / "share"
    share.mkdir(exist_ok=True)
    overrides: dict[str, Any] = {
        "school": {"name": "De Proefschool"},
        "state_dir": str(tmp / "data"),
        "sources": [{"name": "gedeeld", "kind": "folder", "path": str(share), "owner": OWNER}],
        "answers": {"public_url": "https://schoonschip.proefschool.nl",
                    **({"port": answers_port} if answers_port else {})},
    }
    if database_url:
        overrides["database"] = {"url": database_url}
    return load_config(None, overrides)


def flagged(store: Store, settings, names: list[str], owner: str = OWNER, folder: str = "Archief 2017") -> list[str]:
    """Save one overdue item per name (files under ``folder``) and return their ids."""
    run = store.begin_run("scan", pid=1, host="h")
    results = []
    for name in names:
        ref = ItemRef(source="gedeeld", item_key=f"{folder}/{name}", kind=ItemKind.FILE, owner=owner,
                      folder=folder, title=name, date=datetime(2017, 3, 1, tzinfo=UTC), size=10,
                      change_key="c1", unit_key=folder)
        finding = Finding("NL_BSN", "body", 0, 9, 0.9, "*****0012", "h1", "identificatie")
        results.append(AnalysisResult(ref=ref, content_hash=f"hash-{name}",
                                      verdict=Verdict(True, ["identificatie"], [finding], ["bsn"])))
    store.save_results(run, results, source_kind="folder", department=None)
    store.finish_run(run, "completed", {})
    recompute_retention(store, settings)
    return [store.item_id("gedeeld", f"{folder}/{name}") for name in names]
