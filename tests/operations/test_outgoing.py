"""scanner.outgoing: one place chooses the transport for digests and for IT notifications.

Both kinds of mail ask the same function, so a delivery setting that cannot send (a Graph
method whose source is not a Graph source) fails the digests and sends the IT mail to the
outbox instead, and a Graph source sends both through the same sendMail."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest

from reports.delivery import DeliveryError, OutboxTransport, SmtpTransport, deliver_digests
from reports.ledger import InMemoryLedger
from scanner.notify import notify_job_failed
from scanner.outgoing import open_transport
from scanner.store import open_store
from tests.operations.conftest import make_settings
from tests.reports.reports_testkit import digest, item

NOW = datetime(2027, 1, 4, 6, 0, tzinfo=UTC)
SENDER = "privacy@school.nl"
EWS_SOURCE = {"kind": "ews", "name": "exchange", "service_endpoint": "https://127.0.0.1:9/EWS/Exchange.asmx",
              "auth": "basic", "username": "svc", "password": {"env": "TEST_OUTGOING_EWS"},
              "mailboxes": [SENDER]}


def test_outbox_and_smtp_come_from_the_delivery_settings(tmp_path: Path) -> None:
    outbox = make_settings(tmp_path)
    transport = open_transport(outbox, "2027-W01")
    assert isinstance(transport, OutboxTransport)
    assert transport.directory == outbox.outbox_dir == tmp_path / "state" / "outbox"
    smtp = make_settings(tmp_path, delivery={"method": "smtp", "host": "127.0.0.1", "sender": SENDER})
    assert isinstance(open_transport(smtp, "2027-W01"), SmtpTransport)


def test_a_source_that_cannot_send_fails_digests_and_sends_it_mail_to_the_outbox(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_OUTGOING_EWS", "x")
    settings = make_settings(tmp_path, sources=[EWS_SOURCE],
                             delivery={"method": "graph", "sender": SENDER, "source": "exchange"},
                             notify={"it_recipients": ["ict@school.nl"]})
    with pytest.raises(DeliveryError) as info:
        open_transport(settings, "2027-W01")
    assert info.value.code == "not_configured" and info.value.fatal
    assert "Graph-bron" in str(info.value)

    ledger = InMemoryLedger()
    summary = deliver_digests([digest([item(1)], owner="jansen@school.nl"), digest([item(2)], owner="b@school.nl")],
                              settings.delivery, ledger, "2027-W01",
                              open_transport=lambda: open_transport(settings, "2027-W01"))
    assert all(reason.startswith("not_configured") for reason in summary.failed.values())
    assert [entry.status for entry in ledger.entries] == ["failed", "failed"]

    store = open_store(settings)
    assert notify_job_failed(settings, store, "digest", 1, now=NOW) is False  # not sent: retried later
    store.close()
    files = list(settings.outbox_dir.glob("it-*.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["To"] == "ict@school.nl"


def test_ews_method_needs_an_ews_source(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, delivery={"method": "ews", "sender": SENDER, "source": "bestaat-niet"})
    with pytest.raises(DeliveryError) as info:
        open_transport(settings, "2027-W01")
    assert info.value.code == "not_configured" and "EWS-bron" in str(info.value)


@pytest.mark.service
def test_it_mail_goes_through_the_graph_source_like_the_digests(tmp_path: Path) -> None:
    from tests.services.fake_graph import FakeGraph
    from tests.services.graph_tls import make_certificates

    certs = make_certificates(tmp_path / "certs")
    with FakeGraph(certs) as fake:
        fake.add_mailbox(SENDER)
        source = {"kind": "graph_mail", "name": "m365-mail", "tenant_id": fake.tenant,
                  "client_id": fake.client_id, "certificate": {"file": str(certs.app_key_and_cert)},
                  "authority_url": fake.base, "graph_url": fake.graph_url, "ca_file": str(certs.server_cert),
                  "mailboxes": [SENDER]}
        settings = make_settings(tmp_path, sources=[source],
                                 delivery={"method": "graph", "sender": SENDER, "source": "m365-mail"},
                                 notify={"it_recipients": ["ict@school.nl"]})
        store = open_store(settings)
        assert notify_job_failed(settings, store, "report", 1, now=NOW) is True
        store.close()
        assert [(sender, kind) for sender, kind, _ in fake.sent] == [(SENDER, "text/plain")]
        message = email.message_from_bytes(fake.sent[0][2], policy=policy.default)
        assert message["To"] == "ict@school.nl" and "report mislukt / failed" in message.get_content()
    assert not settings.outbox_dir.exists()
