"""Optional mailbox actions: put an Outlook category on flagged mail so a teacher can filter on
it in Outlook. Off by default, enabled per school (``actions.tag_flagged``). Never deletes.

The owner's answer travels back the same way: a category such as "Schoonschip: geen
leerlinggegevens" is read as a label on the next crawl, and the retention policy's exemptions
take the item out of digests and count it as a false positive for the FG.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from connectors.base import ConnectorContext, SourceError
from connectors.registry import connector_class
from scanner.config import Settings
from scanner.core.model import DUE_STATUSES, RetentionAction
from scanner.store import Store

log = logging.getLogger(__name__)
TAG_STATUSES = DUE_STATUSES


@dataclass
class ActionStats:
    tagged: int = 0
    failed: int = 0
    skipped_sources: list[str] = field(default_factory=list)


def apply_actions(settings: Settings, store: Store) -> ActionStats:
    """Tag every flagged, not yet tagged mail item of sources that support labels."""
    stats = ActionStats()
    if not settings.actions.tag_flagged:
        return stats
    label = settings.actions.flag_category
    by_source = {source.name: source for source in settings.sources if source.enabled}
    connectors: dict[str, Any] = {}
    try:
        for row in store.iter_items(active_only=True, student_data_only=True):
            source = by_source.get(row.source)
            if (source is None or row.tagged or row.exempt_reason
                    or row.retention_status not in TAG_STATUSES or label in row.labels
                    or row.action == RetentionAction.ARCHIVEREN.value):  # archived, never "opruimen"
                continue
            cls = connector_class(source.kind)
            if not cls.supports_labels():
                if source.name not in stats.skipped_sources:
                    stats.skipped_sources.append(source.name)
                continue
            connector = connectors.get(source.name)
            if connector is None:
                connector = connectors[source.name] = cls(source, ConnectorContext())
            try:
                new_change_key = connector.set_label(row.ref(), label, True)
            except (SourceError, Exception) as exc:  # noqa: BLE001 - one item never stops the rest
                stats.failed += 1
                log.warning("tagging an item of %s failed (%s)", source.name, getattr(exc, "code", type(exc).__name__))
                continue
            store.mark_tagged(row.id, label, new_change_key)
            stats.tagged += 1
    finally:
        for connector in connectors.values():
            connector.close()
    return stats
