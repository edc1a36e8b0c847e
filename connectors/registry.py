"""Which connector class serves which ``kind`` of source.

Entries are import paths, resolved lazily, so a school that never uses SMB does not pay for
importing smbprotocol, and a connector whose optional dependency is missing fails with a
clear message only when a source of that kind is configured.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.base import Connector, SourceConfig

CONNECTORS: dict[str, str] = {
    "maildir": "connectors.local_mail:MaildirConnector",
    "mbox": "connectors.local_mail:MboxConnector",
    "eml": "connectors.local_mail:MessageFolderConnector",
    "folder": "connectors.folder:FolderConnector",
    "pst": "connectors.pst:PstConnector",
    "graph_mail": "connectors.graph.mail:GraphMailConnector",
    "graph_files": "connectors.graph.files:GraphFilesConnector",
    "ews": "connectors.ews:EwsConnector",
    "imap": "connectors.imap:ImapConnector",
    "smb": "connectors.smb:SmbConnector",
    "google_mail": "connectors.google.mail:GoogleMailConnector",
    "google_drive": "connectors.google.drive:GoogleDriveConnector",
}


def known_kinds() -> list[str]:
    return sorted(CONNECTORS)


def connector_class(kind: str) -> type[Connector]:
    """Import and return the connector class for ``kind`` (KeyError if unknown)."""
    module_name, _, class_name = CONNECTORS[kind].partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, class_name)


def config_model(kind: str) -> type[SourceConfig]:
    return connector_class(kind).config_model
