"""Fixtures for the Graph connector tests: certificates, the fake server, a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.base import ConnectorContext
from connectors.graph.client import GraphClient
from connectors.graph.config import GraphFilesConfig, GraphMailConfig
from connectors.graph.files import GraphFilesConnector
from connectors.graph.mail import GraphMailConnector
from tests.crawling import FakeClock
from tests.services.fake_graph import FakeGraph
from tests.services.graph_tls import CertFiles, make_certificates


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return make_certificates(tmp_path_factory.mktemp("graph-certs"))


@pytest.fixture
def fake(certs: CertFiles) -> Iterator[FakeGraph]:
    with FakeGraph(certs) as server:
        yield server




@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def connection(fake: FakeGraph, certs: CertFiles, **overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "tenant_id": fake.tenant,
        "client_id": fake.client_id,
        "certificate": {"file": str(certs.app_key_and_cert)},
        "authority_url": fake.base,
        "graph_url": fake.graph_url,
        "ca_file": str(certs.server_cert),
    }
    settings.update(overrides)
    return settings


def client_for(config: Any, clock: FakeClock) -> GraphClient:
    return GraphClient(config, sleep=clock.sleep, clock=clock.time, token_clock=clock.time, rng=lambda: 0.5)


def mail_connector(
    fake: FakeGraph, certs: CertFiles, clock: FakeClock, context: ConnectorContext | None = None, **overrides: Any
) -> GraphMailConnector:
    settings = {"name": "m365-mail", "kind": "graph_mail", **connection(fake, certs), **overrides}
    config = GraphMailConfig(**settings)
    return GraphMailConnector(config, context, client=client_for(config, clock))


def files_connector(
    fake: FakeGraph, certs: CertFiles, clock: FakeClock, context: ConnectorContext | None = None, **overrides: Any
) -> GraphFilesConnector:
    settings = {"name": "m365-files", "kind": "graph_files", **connection(fake, certs), **overrides}
    config = GraphFilesConfig(**settings)
    return GraphFilesConnector(config, context, client=client_for(config, clock))




def build_school(fake: FakeGraph) -> dict[str, Any]:
    """Three teachers, nested groups (with a cycle and a user without mailbox), folders of
    every kind, and a few messages."""
    for mail in ("jansen@school.nl", "pietersen@school.nl", "devries@school.nl"):
        fake.add_mailbox(mail)
    m: dict[str, Any] = {}
    m["inbox1"] = fake.add_message("jansen@school.nl", "Inbox", "Ziekmelding Sanne", categories=["Leerling"])
    m["inbox2"] = fake.add_message("jansen@school.nl", "Inbox", "OPP Daan")
    m["inbox3"] = fake.add_message("jansen@school.nl", "Inbox", "Rooster")
    m["klas1"] = fake.add_message("jansen@school.nl", "Inbox/Klas 3B", "Cijferlijst 3B")
    m["klas2"] = fake.add_message("jansen@school.nl", "Inbox/Klas 3B/Ouders", "Gesprek ouders")
    m["sent"] = fake.add_message("jansen@school.nl", "Verzonden items", "Verslag IB")
    m["deleted"] = fake.add_message("jansen@school.nl", "Verwijderde items", "Oude klassenlijst")
    m["archive"] = fake.add_message("jansen@school.nl", "Archief/2021", "Dossier 2021")
    m["junk"] = fake.add_message("jansen@school.nl", "Ongewenste e-mail", "Reclame")
    fake.add_folder("jansen@school.nl", "Gesprekgeschiedenis", hidden=True)
    m["hidden"] = fake.add_message("jansen@school.nl", "Gesprekgeschiedenis", "Chat")
    fake.add_folder("jansen@school.nl", "Inbox/Ongelezen", search=True)
    m["p1"] = fake.add_message("pietersen@school.nl", "Inbox", "Verzuim", categories=["Rood", "Blauw"])
    m["d1"] = fake.add_message("devries@school.nl", "Inbox", "Handelingsplan")
    fake.add_group("grp-docenten", [("user", "jansen@school.nl"), ("group", "grp-sectie"), ("nomail", "stagiair")])
    fake.add_group("grp-sectie", [("user", "devries@school.nl"), ("group", "grp-docenten")])
    return m


def write_secret(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path
