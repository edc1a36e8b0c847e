"""Delivery through Microsoft Graph sendMail and EWS, each against the fake server the
connector tests use (real HTTP(S) on 127.0.0.1, real GraphClient / exchangelib), with the
transport that scanner.outgoing opens for the configured source."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest

from connectors.ews import EwsConfig
from connectors.graph.config import GraphMailConfig
from reports.delivery import DeliverySummary, deliver_digests
from reports.ledger import InMemoryLedger
from reports.settings import DeliverySettings
from scanner.config import Settings
from scanner.outgoing import open_transport
from tests.services.fake_ews import JUF, SERVICE_PASSWORD, SERVICE_USER, FakeEwsServer, FakeExchange
from tests.services.fake_graph import FakeGraph
from tests.services.graph_tls import make_certificates

from .reports_testkit import digest, item

PERIOD = "2026-W48"
SENDER = "privacy@school.nl"


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def through_source(digests: list, delivery: DeliverySettings, source, ledger) -> DeliverySummary:
    """A digest batch the way ``schoonschip digest`` sends it: the transport for ``delivery``
    opened by scanner.outgoing over the configured ``source``."""
    settings = Settings().model_copy(update={"delivery": delivery, "sources": [source]})
    return deliver_digests(digests, delivery, ledger, PERIOD, clock=FakeClock(),
                           open_transport=lambda: open_transport(settings, PERIOD))


def _teachers() -> list:
    return [digest([item(1, categories=("gezondheid",))], owner="jansen@school.nl"),
            digest([item(2)], owner="de.vries@school.nl")]


@pytest.mark.service
def test_graph_send_mail_through_the_configured_source(tmp_path: Path) -> None:
    certs = make_certificates(tmp_path / "certs")
    with FakeGraph(certs) as fake:
        fake.add_mailbox(SENDER)
        source = GraphMailConfig(
            name="m365-mail", kind="graph_mail", tenant_id=fake.tenant, client_id=fake.client_id,
            certificate={"file": str(certs.app_key_and_cert)}, authority_url=fake.base,
            graph_url=fake.graph_url, ca_file=str(certs.server_cert), mailboxes=[SENDER],
        )
        settings = DeliverySettings(method="graph", sender=SENDER, source="m365-mail")
        ledger = InMemoryLedger()
        summary = through_source(_teachers(), settings, source, ledger)
        assert summary.sent == ["jansen@school.nl", "de.vries@school.nl"], summary.failed
        assert [(s[0], s[1]) for s in fake.sent] == [(SENDER, "text/plain")] * 2
        first = message_from_bytes(fake.sent[0][2], policy=default)
        assert first["To"] == "jansen@school.nl" and first["X-Schoonschip-Digest"] == PERIOD

        # a mailbox Graph does not know: recorded as failed, retried next time
        other = settings.model_copy(update={"sender": "bestaat.niet@school.nl"})
        failed = through_source(_teachers()[:1], other, source, InMemoryLedger())
        assert list(failed.failed) == ["jansen@school.nl"]
        assert len(fake.sent) == 2


@pytest.mark.service
def test_ews_send_through_the_configured_source(monkeypatch: pytest.MonkeyPatch) -> None:
    exchange = FakeExchange(SERVICE_USER, SERVICE_PASSWORD)
    exchange.add_mailbox(JUF)
    server = FakeEwsServer(exchange).start()
    try:
        monkeypatch.setenv("TEST_EWS_PASSWORD", SERVICE_PASSWORD)
        source = EwsConfig(name="exchange", service_endpoint=server.endpoint, auth="basic",
                           username=SERVICE_USER, password={"env": "TEST_EWS_PASSWORD"}, mailboxes=[JUF],
                           max_wait=5)
        settings = DeliverySettings(method="ews", sender=JUF, source="exchange")
        summary = through_source(_teachers(), settings, source, InMemoryLedger())
        assert summary.sent == ["jansen@school.nl", "de.vries@school.nl"], summary.failed
        assert [kind for kind, _ in exchange.sent] == ["SendAndSaveCopy"] * 2
        assert message_from_bytes(exchange.sent[1][1], policy=default)["To"] == "de.vries@school.nl"
    finally:
        server.stop()
