"""Configuration of SMB sources: what IT gets told when the YAML is wrong. No server needed
(except the warning-cap test at the end, which uses the session's Samba)."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from connectors.registry import config_model, connector_class
from connectors.smb import SmbConfig, SmbConnector

from .smb_helpers import crawl_all, make_connector

EXAMPLE = """
name: fileserver-vo
kind: smb
server: fs01.school.local
username: 'SCHOOL\\svc-schoonschip'
password: {env: SCHOONSCHIP_SMB_PASSWORD}
auth_protocol: ntlm
require_encryption: true
department: VO Centrum
exclude: ["*/~$*", "*.tmp", "Software/*"]
shares:
  - {share: Gedeeld, folder: Zorg, owner: ib@school.nl, department: Zorg}
  - {share: Users$, split_subfolders: true, owner_template: "{folder}@school.nl"}
sid_owners:
  S-1-5-21-1004336348-1177238915-682003330-1104: j.devries@school.nl
"""


@pytest.fixture(autouse=True)
def _password(monkeypatch) -> None:
    monkeypatch.setenv("SCHOONSCHIP_SMB_PASSWORD", "geheim")


def _load(**changes) -> SmbConfig:
    data = yaml.safe_load(EXAMPLE)
    data.update(changes)
    return SmbConfig.model_validate(data)


def test_example_yaml_from_the_docs_loads() -> None:
    config = _load()
    assert connector_class("smb") is SmbConnector
    assert config_model("smb") is SmbConfig
    assert config.port == 445
    assert config.shares[0].base == "Gedeeld/Zorg"
    assert config.shares[1].split_subfolders
    assert config.password is not None and config.password.get() == "geheim"
    assert "geheim" not in config.model_dump_json()  # the secret itself is never in the model
    unit = next(SmbConnector(config).units())  # a non-split share needs no connection
    assert unit.key == "fs01.school.local/Gedeeld/Zorg"
    assert unit.owner == "ib@school.nl"
    assert unit.full_listing


@pytest.mark.parametrize("changes, fragment", [
    ({"kind": "folder"}, "smb"),
    ({"server": "\\\\fs01\\Gedeeld"}, "servernaam"),
    ({"port": 0}, "port"),
    ({"shares": []}, "shares"),
    ({"shares": [{"share": "Ge/deeld"}]}, "sharenaam"),
    ({"shares": [{"share": "Gedeeld", "folder": "../etc"}]}, ".."),
    ({"shares": [{"share": "Gedeeld"}, {"share": "gedeeld", "folder": "Zorg"}]}, "overlappen"),
    ({"shares": [{"share": "Gedeeld", "onbekend": 1}]}, "onbekend"),
    ({"sid_owners": {"1104": "x@school.nl"}}, "SID"),
    ({"password": None}, "NTLM"),
    ({"password": {"env": "NIET_GEZET_SMB"}}, "NIET_GEZET_SMB"),
    ({"auth_protocol": "basic"}, "auth_protocol"),
    ({"shares": [{"share": "Users$", "owner_template": "{folder}@school.nl"}]}, "split_subfolders"),
    ({"shares": [{"share": "Users$", "split_subfolders": True, "owner_template": "x"}]}, "{folder}"),
    ({"shares": [{"share": "U", "split_subfolders": True, "owner_template": "{folder}{0}"}]},
     "alleen {folder}"),
])
def test_invalid_configuration_says_what_to_fix(changes, fragment) -> None:
    with pytest.raises(ValidationError) as caught:
        _load(**changes)
    assert fragment in str(caught.value)


def test_kerberos_without_password_is_allowed_and_paths_are_normalised() -> None:
    config = _load(auth_protocol="kerberos", password=None, username=None,
                   shares=[{"share": "Gedeeld", "folder": "\\Zorg\\Klas 3\\"}])
    assert config.shares[0].folder == "Zorg/Klas 3"
    sid = "S-1-5-21-1004336348-1177238915-682003330-1104"
    assert config.sid_owners == {sid: "j.devries@school.nl"}


def test_unknown_unit_key_is_a_source_error() -> None:
    from connectors.base import SourceError
    from scanner.core.model import Unit

    connector = SmbConnector(_load())
    with pytest.raises(SourceError) as caught:
        list(connector.crawl(Unit(key="fs01.school.local/Anders", label=""), None))
    assert caught.value.code == "not_found"


@pytest.mark.service
def test_many_problems_are_summarised_not_repeated(samba) -> None:
    server, _ = samba
    share = server.shares["wijzig"]
    folder = share / "veel-dicht"
    folder.mkdir(exist_ok=True)
    folder.chmod(0o755)
    for i in range(25):
        (folder / f"dicht-{i:02d}").mkdir(exist_ok=True)
        (folder / f"dicht-{i:02d}").chmod(0o000)
    connector = make_connector(server, [{"share": "wijzig", "folder": "veel-dicht"}])
    _, summary = crawl_all(connector)
    assert summary["problems"] == 25
    # Each denied folder protects its own files, so each is a Blind (the pipeline records them).
    assert [b.item_prefix for b in summary["blind"]] == [f"wijzig/veel-dicht/dicht-{i:02d}/" for i in range(25)]
    assert connector.warnings == []
    for i in range(25):
        (folder / f"dicht-{i:02d}").mkdir(exist_ok=True)
        (folder / f"dicht-{i:02d}").chmod(0o755)
    for i in range(25):
        (folder / f"lus-{i:02d}").symlink_to(folder, target_is_directory=True)
    try:
        _, summary = crawl_all(connector)
    finally:
        for i in range(25):
            (folder / f"lus-{i:02d}").unlink()
    codes = [code for _, code, _ in connector.warnings]
    assert codes == ["symlink_loop"] * 21
    assert "nog 5 keer" in connector.warnings[-1][2]
    connector.close()


def test_loads_through_the_real_config_loader(tmp_path) -> None:
    """End to end through scanner.config: the share folder stays a share-relative folder."""
    from scanner.config import load_config

    config_file = tmp_path / "schoonschip.yaml"
    config_file.write_text(yaml.safe_dump({"sources": [yaml.safe_load(EXAMPLE)]}), encoding="utf-8")
    settings = load_config(config_file)
    source = settings.source("fileserver-vo")
    assert isinstance(source, SmbConfig)
    assert source.shares[0].folder == "Zorg"
    assert source.shares[0].base == "Gedeeld/Zorg"


def test_example_in_docs_is_valid() -> None:
    """docs/smb.md's example YAML must stay loadable (IT copies it)."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "docs" / "smb.md").read_text(encoding="utf-8")
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    sources = yaml.safe_load(block)["sources"]
    configs = [SmbConfig.model_validate(source) for source in sources]
    assert configs[0].shares[1].owner_template == "{folder}@school.nl"
