"""Microsoft 365 through Microsoft Graph: Exchange Online mail (``graph_mail``) and
OneDrive/SharePoint files (``graph_files``), plus a standalone :class:`GraphClient` for
sending digests. See docs/graph.md for the permissions the app registration needs."""

from connectors.graph.client import GraphClient, GraphError
from connectors.graph.config import GraphConnection, GraphFilesConfig, GraphMailConfig

__all__ = ["GraphClient", "GraphError", "GraphConnection", "GraphFilesConfig", "GraphMailConfig"]
