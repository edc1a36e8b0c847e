"""Whole-unit failures (wrong password, unreachable, denied or missing share) and SMB3
encryption, against real Samba servers on loopback."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from connectors.base import ItemFetchError, SourceError
from connectors.smb import SmbConnector
from scanner.core.model import ItemKind, ItemRef

from .samba_server import Samba, free_port, make_base_dir, start_samba, stop_samba
from .smb_helpers import crawl_all, make_config, make_connector
from .smb_tree import Tree

pytestmark = pytest.mark.service


def _crawl_error(connector: SmbConnector) -> SourceError:
    unit = next(iter(connector.units()))
    with pytest.raises(SourceError) as caught:
        list(connector.crawl(unit, None))
    return caught.value


def test_wrong_password_is_auth_failed(samba: tuple[Samba, Tree], monkeypatch) -> None:
    server, _ = samba
    config = make_config(server, [{"share": "data"}])
    monkeypatch.setenv("SCHOONSCHIP_TEST_SMB_PASSWORD", "fout-wachtwoord")
    error = _crawl_error(SmbConnector(config))
    assert error.code == "auth_failed"
    assert "fout-wachtwoord" not in str(error)
    assert " / " in str(error)


def test_unknown_user_is_auth_failed(samba) -> None:
    server, _ = samba
    error = _crawl_error(make_connector(server, [{"share": "data"}], username="niemand"))
    assert error.code == "auth_failed"


def test_unreachable_server(samba) -> None:
    server, _ = samba
    connector = make_connector(server, [{"share": "data"}], port=free_port(), connection_timeout=5)
    error = _crawl_error(connector)
    assert error.code == "unreachable"
    with pytest.raises(ItemFetchError) as caught:  # fetch turns it into an item error
        connector.fetch(ItemRef("fileserver", "data/leesmij.txt", ItemKind.FILE, "x", "data",
                                "leesmij.txt", datetime.now(UTC)))
    assert caught.value.code == "unreachable"


def test_share_without_access_and_missing_share(samba) -> None:
    server, _ = samba
    connector = make_connector(server, [{"share": "verboden"}, {"share": "bestaat-niet"},
                                        {"share": "data", "folder": "Zorg"}])
    units = list(connector.units())
    errors = {}
    for unit in units[:2]:
        with pytest.raises(SourceError) as caught:
            list(connector.crawl(unit, None))
        errors[unit.key.rsplit("/", 1)[1]] = caught.value.code
    assert errors == {"verboden": "access_denied", "bestaat-niet": "not_found"}
    # The other share of the same source still works with the same connector.
    refs, _ = crawl_all(connector, units[2].key)
    assert "data/Zorg/OPP Klas 3B.txt" in refs
    connector.close()


def test_missing_subfolder_is_not_found(samba) -> None:
    server, _ = samba
    error = _crawl_error(make_connector(server, [{"share": "data", "folder": "Bestaat/Niet"}]))
    assert error.code == "not_found"
    assert "Bestaat" in str(error)  # the configured path, not a discovered name


def _tcon_encryption(server: Samba, share: str) -> dict:
    status = json.loads(server.status_json())
    tcons = [t for t in status.get("tcons", {}).values() if t.get("service") == share]
    assert tcons, f"no tree connect to {share} seen by smbstatus"
    return tcons[-1].get("encryption", {})


def test_share_that_requires_encryption(samba) -> None:
    server, _ = samba
    for required in (False, True):
        connector = make_connector(server, [{"share": "versleuteld"}], require_encryption=required)
        refs, _ = crawl_all(connector)
        assert connector.fetch(refs["versleuteld/geheim.txt"]).read() == b"alleen versleuteld\n"
        assert connector.client.encrypted
        encryption = _tcon_encryption(server, "versleuteld")
        assert encryption.get("degree") == "full" and encryption.get("cipher")
        connector.close()


def test_encryption_used_whenever_the_server_offers_it(samba) -> None:
    """The 'data' share does not require encryption; SMB3 traffic is encrypted anyway."""
    server, _ = samba
    connector = make_connector(server, [{"share": "data", "folder": "Zorg"}])
    crawl_all(connector)
    assert connector.client.encrypted
    encryption = _tcon_encryption(server, "data")
    assert encryption.get("degree") == "full", encryption
    connector.close()


@pytest.fixture(scope="module")
def smb2_only_server():
    """A second Samba that speaks SMB 2.1 at most, so it cannot encrypt."""
    base = make_base_dir()
    (base / "oud").mkdir(mode=0o755)
    (base / "oud").chmod(0o755)
    (base / "oud" / "a.txt").write_bytes(b"onversleuteld\n")
    (base / "oud" / "a.txt").chmod(0o644)
    server = start_samba(base, {"oud": {"path": str(base / "oud")}},
                         global_extra="  server max protocol = SMB2_10")
    yield server
    stop_samba(server)


def test_require_encryption_refuses_server_without_smb3(smb2_only_server: Samba) -> None:
    server = smb2_only_server
    error = _crawl_error(make_connector(server, [{"share": "oud"}], require_encryption=True))
    assert error.code == "protocol"
    assert "versleuteling" in str(error)
    connector = make_connector(server, [{"share": "oud"}])
    refs, _ = crawl_all(connector)
    assert not connector.client.encrypted
    assert connector.fetch(refs["oud/a.txt"]).read() == b"onversleuteld\n"
    connector.close()


def test_kerberos_without_ticket_or_gssapi_is_auth_failed(samba) -> None:
    """No KDC on loopback: Kerberos must fail as a clear logon error, never fall back to NTLM."""
    import importlib.util

    server, _ = samba
    error = _crawl_error(make_connector(server, [{"share": "data"}], auth_protocol="kerberos",
                                        password=None, username=None))
    assert error.code == "auth_failed"
    if importlib.util.find_spec("gssapi") is None:
        assert "gssapi" in str(error)
