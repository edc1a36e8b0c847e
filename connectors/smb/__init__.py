"""SMB file shares (issue 7): ``kind: smb`` in the configuration.

The registry imports ``connectors.smb:SmbConnector``; smbprotocol is imported only then.
"""

from connectors.smb.config import SmbConfig, SmbShare
from connectors.smb.connector import SmbConnector

__all__ = ["SmbConfig", "SmbConnector", "SmbShare"]
