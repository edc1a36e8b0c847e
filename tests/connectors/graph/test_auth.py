"""App-only sign-in with every supported credential, token caching, renewal and validation."""

from __future__ import annotations

import base64

import pytest
from pydantic import ValidationError

from connectors.base import SourceError
from connectors.graph.config import GraphConnection, GraphMailConfig
from tests.crawling import crawl_all
from tests.services.graph_tls import PFX_PASSPHRASE

from .conftest import build_school, connection, mail_connector, write_secret

DEVRIES = "devries@school.nl"


def _sign_in(fake, certs, clock, **credential):
    build_school(fake)
    credential.setdefault("certificate", None)  # replaces the default credential of the helper
    connector = mail_connector(fake, certs, clock, mailboxes=[DEVRIES], **credential)
    return [u.key for u in connector.units()]


def test_pem_with_certificate_signs_ps256_with_sha256_thumbprint(fake, certs, clock) -> None:
    assert _sign_in(fake, certs, clock, certificate={"file": str(certs.app_key_and_cert)}) == [f"{DEVRIES}/Inbox"]
    request = fake.token_requests[-1]
    assert (request["auth"], request["alg"]) == ("certificate", "PS256")
    assert request["x5t#S256"]
    assert request["scope"] == f"{fake.base}/.default"


def test_pem_key_with_thumbprint_signs_rs256(fake, certs, clock) -> None:
    units = _sign_in(
        fake, certs, clock, certificate={"file": str(certs.app_key_only)}, certificate_thumbprint=certs.app_sha1
    )
    assert units == [f"{DEVRIES}/Inbox"]
    request = fake.token_requests[-1]
    assert (request["auth"], request["alg"]) == ("certificate", "RS256")
    assert base64.urlsafe_b64decode(request["x5t"] + "==").hex() == certs.app_sha1


def test_pfx_file_with_passphrase_from_environment(fake, certs, clock, monkeypatch) -> None:
    monkeypatch.setenv("TEST_PFX_PASS", PFX_PASSPHRASE)
    units = _sign_in(
        fake, certs, clock, pfx={"file": str(certs.app_pfx)}, certificate_passphrase={"env": "TEST_PFX_PASS"}
    )
    assert units == [f"{DEVRIES}/Inbox"]
    assert fake.token_requests[-1]["alg"] == "PS256"


def test_pfx_as_base64_in_environment(fake, certs, clock, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TEST_PFX", base64.b64encode(certs.app_pfx.read_bytes()).decode())
    passphrase = write_secret(tmp_path / "pfx-pass", PFX_PASSPHRASE + "\n")
    units = _sign_in(fake, certs, clock, pfx={"env": "TEST_PFX"}, certificate_passphrase={"file": str(passphrase)})
    assert units == [f"{DEVRIES}/Inbox"]


def test_client_secret_from_environment(fake, certs, clock, monkeypatch) -> None:
    monkeypatch.setenv("TEST_GRAPH_SECRET", fake.client_secret)
    assert _sign_in(fake, certs, clock, client_secret={"env": "TEST_GRAPH_SECRET"}) == [f"{DEVRIES}/Inbox"]
    assert fake.token_requests[-1]["auth"] == "secret"


def test_wrong_secret_is_auth_failed_without_the_secret_in_the_message(fake, certs, clock, tmp_path) -> None:
    secret = write_secret(tmp_path / "secret", "totaal-fout-geheim")
    with pytest.raises(SourceError) as error:
        _sign_in(fake, certs, clock, client_secret={"file": str(secret)})
    assert error.value.code == "auth_failed"
    assert "invalid_client" in str(error.value)
    assert "totaal-fout-geheim" not in str(error.value)


def test_wrong_certificate_is_rejected(fake, certs, clock, tmp_path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pem = write_secret(tmp_path / "other.pem", other.decode() + certs.app_cert_pem.decode())
    with pytest.raises(SourceError) as error:
        _sign_in(fake, certs, clock, certificate={"file": str(pem)})
    assert error.value.code == "auth_failed"


def test_token_is_cached_and_renewed_before_it_expires(fake, certs, clock) -> None:
    build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=["jansen@school.nl"])
    crawl_all(connector)
    assert len(fake.token_requests) == 1  # dozens of requests, one token
    clock.now += 3000  # 599 s of life left: still good
    crawl_all(connector)
    assert len(fake.token_requests) == 1
    clock.now += 350  # 249 s left, under the 300 s margin: renewed before Graph refuses it
    crawl_all(connector)
    assert len(fake.token_requests) == 2


def test_token_rejected_mid_crawl_is_renewed_once(fake, certs, clock) -> None:
    build_school(fake)
    baseline = crawl_all(mail_connector(fake, certs, clock, mailboxes=["jansen@school.nl"], page_size=2))
    tokens_before = len(fake.token_requests)
    fake.inject("401", r"/messages/delta$", times=1)
    connector = mail_connector(fake, certs, clock, mailboxes=["jansen@school.nl"], page_size=2)
    result = crawl_all(connector)
    assert result.snapshot() == baseline.snapshot()
    assert len(fake.token_requests) == tokens_before + 2  # first token, then one renewal
    assert tuple({kind for kind, _ in fake.fault_hits}) == ("401", )


def test_token_that_keeps_being_rejected_fails_the_unit(fake, certs, clock) -> None:
    build_school(fake)
    fake.inject("401", r"/messages/delta$", times=2)
    connector = mail_connector(fake, certs, clock, mailboxes=[DEVRIES])
    result = crawl_all(connector)
    assert result.errors[f"{DEVRIES}/Inbox"].code == "auth_failed"


def test_exactly_one_credential_is_required(fake, certs, monkeypatch) -> None:
    monkeypatch.setenv("TEST_GRAPH_SECRET", "x")
    base = connection(fake, certs)
    with pytest.raises(ValidationError, match="precies een"):
        GraphConnection(**base, client_secret={"env": "TEST_GRAPH_SECRET"})
    base.pop("certificate")
    with pytest.raises(ValidationError, match="precies een"):
        GraphConnection(**base)


def test_endpoints_must_be_https_and_sources_need_targets(fake, certs) -> None:
    with pytest.raises(ValidationError, match="https"):
        GraphConnection(**{**connection(fake, certs), "graph_url": "http://127.0.0.1:1/v1.0"})
    with pytest.raises(ValidationError, match="mailboxes of groups"):
        GraphMailConfig(name="x", kind="graph_mail", **connection(fake, certs))
    with pytest.raises(ValidationError, match="niet gezet"):
        GraphMailConfig(
            name="x", kind="graph_mail", mailboxes=["a@b.nl"],
            **{**connection(fake, certs), "certificate": {"env": "SCHOONSCHIP_UNSET_VARIABLE"}},
        )


def test_defaults_point_at_microsoft(fake, certs) -> None:
    settings = connection(fake, certs)
    for key in ("authority_url", "graph_url", "ca_file"):
        settings.pop(key)
    conn = GraphConnection(**settings)
    assert conn.authority_url == "https://login.microsoftonline.com"
    assert conn.graph_url == "https://graph.microsoft.com/v1.0"
    assert conn.max_concurrent_per_mailbox == 4


def test_yaml_example_in_docs_loads_through_the_configuration_loader(certs, tmp_path) -> None:
    """The example in docs/graph.md is what IT copies: it must stay valid."""
    import re
    from pathlib import Path

    from connectors.graph.config import GraphFilesConfig
    from scanner.config import load_config

    doc = (Path(__file__).resolve().parents[3] / "docs" / "graph.md").read_text(encoding="utf-8")
    example = next(b for b in re.findall(r"```yaml\n(.*?)```", doc, re.S) if "sources:" in b)
    pem = tmp_path / "graph.pem"
    pem.write_bytes(certs.app_key_and_cert.read_bytes())
    config_file = tmp_path / "schoonschip.yaml"
    config_file.write_text(example.replace("/etc/schoonschip/graph.pem", "graph.pem"), encoding="utf-8")
    settings = load_config(config_file)
    mail, files = settings.sources
    assert isinstance(mail, GraphMailConfig) and isinstance(files, GraphFilesConfig)
    assert mail.certificate is not None and mail.certificate.file == pem  # relative to the YAML file
    assert files.drives[0].name == "Zorg" and files.max_file_bytes == 50 * 1024 * 1024
