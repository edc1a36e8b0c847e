"""Delivering digests through a real SMTP server (STARTTLS + AUTH), the outbox, and a
send function; the ledger guarantees retry after failure and no double sending."""

from __future__ import annotations

import os
import stat
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from pydantic import ValidationError

from reports.delivery import (
    CallableTransport,
    DeliveryError,
    DeliverySummary,
    OutboxTransport,
    SmtpTransport,
    deliver_digests,
)
from reports.digest import digest_message_id
from reports.ledger import InMemoryLedger, JsonFileLedger
from reports.ratelimit import TokenBucket
from reports.settings import DeliverySettings

from .reports_testkit import digest, item
from .smtp_server import PASSWORD, USER, SmtpServer, start_smtp

PERIOD = "2026-W48"


class FakeClock:
    """Time that only moves when someone sleeps: pacing becomes exact and instant."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


@pytest.fixture()
def smtp(tmp_path: Path) -> SmtpServer:
    server = start_smtp(tmp_path)
    yield server
    server.stop()


@pytest.fixture()
def smtp_settings(smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> DeliverySettings:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", PASSWORD)
    return DeliverySettings(
        method="smtp", host="127.0.0.1", port=smtp.port, starttls=True, ca_file=smtp.cert,
        username=USER, password={"env": "TEST_SMTP_PASSWORD"}, sender="privacy@school.nl",
        rate_per_minute=6000, timeout=10,
    )


def by_smtp(digests: list, settings: DeliverySettings, ledger, period: str,
            clock: FakeClock | None = None) -> DeliverySummary:
    """One batch through the SMTP transport (what scanner.outgoing opens for method smtp)."""
    return deliver_digests(digests, settings, ledger, period, clock=clock or FakeClock(),
                           open_transport=lambda: SmtpTransport(settings))


def to_outbox(digests: list, settings: DeliverySettings, ledger, period: str,
              clock: FakeClock | None = None) -> DeliverySummary:
    """One batch into the outbox (what scanner.outgoing opens for method outbox)."""
    return deliver_digests(digests, settings, ledger, period, clock=clock or FakeClock(),
                           open_transport=lambda: OutboxTransport(settings.outbox_dir, period))


def _teachers() -> list:
    return [
        digest([item(1, categories=("gezondheid",)), item(2)], owner="jansen@school.nl"),
        digest([item(3, status="binnenkort")], owner="de.vries@school.nl", language="en"),
        digest([], owner="leeg@school.nl"),
    ]


@pytest.mark.service
def test_smtp_delivery_over_starttls_with_auth(smtp: SmtpServer, smtp_settings: DeliverySettings) -> None:
    ledger = InMemoryLedger()
    summary = by_smtp(_teachers(), smtp_settings, ledger, PERIOD)
    assert summary.sent == ["jansen@school.nl", "de.vries@school.nl"]
    assert summary.empty == ["leeg@school.nl"] and not summary.failed
    received = smtp.handler.received
    assert [e.rcpt_tos for e in received] == [["jansen@school.nl"], ["de.vries@school.nl"]]
    assert smtp.handler.tls_seen == [True, True]
    messages = [message_from_bytes(e.original_content, policy=default) for e in received]
    assert messages[0]["X-Schoonschip-Digest"] == PERIOD
    assert messages[0]["Subject"].startswith("Opruimoverzicht")
    assert messages[1]["Subject"].startswith("Clean-up digest")
    html = messages[0].get_body(("html",)).get_content()
    assert "Gezondheid" in html and "Onderwerp 1" in html
    assert [(e.owner, e.status) for e in ledger.entries] == [
        ("jansen@school.nl", "sending"), ("jansen@school.nl", "sent"),
        ("de.vries@school.nl", "sending"), ("de.vries@school.nl", "sent")]

    again = by_smtp(_teachers(), smtp_settings, ledger, PERIOD)
    assert again.sent == [] and again.already_sent == ["jansen@school.nl", "de.vries@school.nl"]
    assert len(smtp.handler.received) == 2  # never twice

    next_week = by_smtp(_teachers()[:1], smtp_settings, ledger, "2026-W49")
    assert next_week.sent == ["jansen@school.nl"]


@pytest.mark.service
def test_refused_send_is_recorded_failed_and_retried(smtp: SmtpServer, smtp_settings: DeliverySettings) -> None:
    ledger = InMemoryLedger()
    smtp.handler.refuse_data = True
    first = by_smtp(_teachers()[:1], smtp_settings, ledger, PERIOD)
    assert first.sent == [] and list(first.failed) == ["jansen@school.nl"]
    assert first.failed["jansen@school.nl"].startswith("rejected: bericht geweigerd (code 554)")
    assert ledger.entries[-1].status == "failed"
    assert "Onderwerp" not in ledger.entries[-1].reason  # no content in the reason
    assert smtp.handler.received == []

    smtp.handler.refuse_data = False
    second = by_smtp(_teachers()[:1], smtp_settings, ledger, PERIOD)
    assert second.sent == ["jansen@school.nl"]
    third = by_smtp(_teachers()[:1], smtp_settings, ledger, PERIOD)
    assert third.already_sent == ["jansen@school.nl"]
    assert len(smtp.handler.received) == 1
    assert [e.status for e in ledger.attempts("jansen@school.nl", PERIOD)] == [
        "sending", "failed", "sending", "sent"]


@pytest.mark.service
def test_refused_recipient_fails_alone(smtp: SmtpServer, smtp_settings: DeliverySettings) -> None:
    smtp.handler.refuse_rcpt = {"jansen@school.nl"}
    ledger = InMemoryLedger()
    summary = by_smtp(_teachers(), smtp_settings, ledger, PERIOD)
    assert list(summary.failed) == ["jansen@school.nl"]
    assert summary.failed["jansen@school.nl"].startswith("recipient_refused")
    assert summary.sent == ["de.vries@school.nl"]


@pytest.mark.service
def test_wrong_password_fails_every_digest_once(smtp: SmtpServer, smtp_settings: DeliverySettings,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
    ledger = InMemoryLedger()
    summary = by_smtp(_teachers(), smtp_settings, ledger, PERIOD)
    assert summary.sent == []
    assert set(summary.failed) == {"jansen@school.nl", "de.vries@school.nl"}
    assert all(r.startswith("auth_failed") for r in summary.failed.values())
    assert "wrong" not in " ".join(summary.failed.values())
    assert smtp.handler.received == []


@pytest.mark.service
def test_untrusted_certificate_is_refused(smtp: SmtpServer, smtp_settings: DeliverySettings) -> None:
    settings = smtp_settings.model_copy(update={"ca_file": None})
    summary = by_smtp(_teachers()[:1], settings, InMemoryLedger(), PERIOD)
    assert summary.failed["jansen@school.nl"].startswith("tls_failed")
    assert smtp.handler.received == []


def test_unreachable_server(tmp_path: Path) -> None:
    from .smtp_server import free_port

    settings = DeliverySettings(method="smtp", host="127.0.0.1", port=free_port(), sender="p@school.nl",
                                timeout=5)
    summary = by_smtp(_teachers(), settings, InMemoryLedger(), PERIOD)
    assert set(summary.failed) == {"jansen@school.nl", "de.vries@school.nl"}
    assert all(r.startswith("unreachable") for r in summary.failed.values())


def test_outbox_is_the_default_and_private(tmp_path: Path) -> None:
    settings = DeliverySettings(outbox_dir=tmp_path / "outbox")
    ledger = JsonFileLedger(tmp_path / "ledger.json")
    summary = to_outbox(_teachers(), settings, ledger, PERIOD)
    assert summary.sent == ["jansen@school.nl", "de.vries@school.nl"]
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert [f.name for f in files] == ["2026-W48_de.vries@school.nl.eml", "2026-W48_jansen@school.nl.eml"]
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "outbox").stat().st_mode) == 0o700
    message = message_from_bytes(files[1].read_bytes(), policy=default)
    assert message["To"] == "jansen@school.nl"
    # the ledger survives the process: a new instance knows what was sent
    reloaded = JsonFileLedger(tmp_path / "ledger.json")
    assert reloaded.already_sent("jansen@school.nl", PERIOD)
    assert not reloaded.already_sent("jansen@school.nl", "2026-W49")
    assert to_outbox(_teachers(), settings, reloaded, PERIOD).already_sent == [
        "jansen@school.nl", "de.vries@school.nl"]


def test_rate_limit_paces_sending(tmp_path: Path) -> None:
    clock = FakeClock()
    settings = DeliverySettings(outbox_dir=tmp_path, rate_per_minute=30, burst=2)
    teachers = [digest([item(n)], owner=f"t{n}@school.nl") for n in range(6)]
    summary = to_outbox(teachers, settings, InMemoryLedger(), PERIOD, clock=clock)
    assert len(summary.sent) == 6
    # 2 at once, then one every 2 seconds
    assert summary.waited_seconds == pytest.approx(8.0)
    assert clock.t - 1000.0 == pytest.approx(8.0)


def test_token_bucket_refills_with_time() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_minute=60, burst=3, clock=clock)
    assert [bucket.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.acquire() == pytest.approx(1.0)
    clock.t += 10  # idle time refills only up to the burst size
    assert [bucket.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.acquire() == pytest.approx(1.0)


class RecordingGraphClient:
    """Stands in for connectors.graph.client.GraphClient: the same send_mail signature."""

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.calls: list[tuple[str, bytes]] = []
        self.fail_with = fail_with

    def send_mail(self, sender: str, mime: bytes) -> None:
        if self.fail_with:
            raise self.fail_with
        self.calls.append((sender, mime))


class ThrottledError(Exception):
    code = "throttled"


class TokenError(Exception):
    code = "auth_failed"


def test_graph_method_sends_mime_through_the_client() -> None:
    settings = DeliverySettings(method="graph", sender="privacy@school.nl", source="m365")
    client = RecordingGraphClient()
    summary = deliver_digests(_teachers(), settings, InMemoryLedger(), PERIOD, clock=FakeClock(),
                              open_transport=lambda: CallableTransport("Graph", settings.sender, client.send_mail))
    assert summary.sent == ["jansen@school.nl", "de.vries@school.nl"]
    assert [c[0] for c in client.calls] == ["privacy@school.nl"] * 2
    assert message_from_bytes(client.calls[0][1], policy=default)["To"] == "jansen@school.nl"

    throttling = RecordingGraphClient(ThrottledError("429"))
    throttled = deliver_digests(_teachers(), settings, InMemoryLedger(), PERIOD, clock=FakeClock(),
                                open_transport=lambda: CallableTransport("Graph", settings.sender,
                                                                         throttling.send_mail))
    assert all(r.startswith("throttled") for r in throttled.failed.values()) and len(throttled.failed) == 2

    denied = CallableTransport("Graph", "p@school.nl", RecordingGraphClient(TokenError()).send_mail)
    with pytest.raises(DeliveryError) as info:
        denied.send(message_from_bytes(client.calls[0][1], policy=default), "x@school.nl")
    assert info.value.fatal and info.value.code == "auth_failed"


def test_settings_say_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="delivery.host is required"):
        DeliverySettings(method="smtp", sender="p@school.nl")
    with pytest.raises(ValidationError, match="delivery.sender is required"):
        DeliverySettings(method="graph", source="m365")
    with pytest.raises(ValidationError, match="delivery.source"):
        DeliverySettings(method="ews", sender="p@school.nl")
    with pytest.raises(ValidationError, match="password is missing"):
        DeliverySettings(method="smtp", host="smtp.office365.com", sender="p@school.nl", username="p@school.nl")
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        DeliverySettings(method="outbox", hots="typo")
    os.environ.pop("NO_SUCH_SMTP_SECRET", None)
    with pytest.raises(ValidationError, match="NO_SUCH_SMTP_SECRET"):
        DeliverySettings(method="smtp", host="h", sender="p@school.nl", username="u",
                         password={"env": "NO_SUCH_SMTP_SECRET"})


def test_iso_week_period() -> None:
    from datetime import date

    from scanner.core.dates import iso_week

    assert iso_week(date(2026, 11, 23)) == "2026-W48"
    assert iso_week(date(2026, 12, 28)) == iso_week(date(2027, 1, 1)) == "2026-W53"


def test_bad_digests_fail_alone(tmp_path: Path) -> None:
    settings = DeliverySettings(outbox_dir=tmp_path)
    teachers = [
        digest([item(1)], owner="geen-adres"),
        digest([item(2)], owner="x@school.nl\r\nBcc: iedereen@school.nl"),
        digest([item(3)], owner="fries@school.nl", language="fy"),
        digest([item(4)], owner="jansen@school.nl"),
    ]
    ledger = InMemoryLedger()
    summary = to_outbox(teachers, settings, ledger, PERIOD)
    assert summary.sent == ["jansen@school.nl"]
    assert summary.failed["geen-adres"].startswith("invalid_address")
    assert summary.failed["x@school.nl\r\nBcc: iedereen@school.nl"].startswith("invalid_address")
    assert summary.failed["fries@school.nl"].startswith("render_failed")
    assert [f.name for f in tmp_path.glob("*.eml")] == ["2026-W48_jansen@school.nl.eml"]


class _DiesAfterHandingOver:
    """A transport whose process dies right after the server took the mail, before the
    ledger could say "sent" (kill -9 between the two): the mail arrived, the record says
    "sending"."""

    name = "dies"

    def __init__(self, received: list, die: bool) -> None:
        self.received, self.die = received, die

    def send(self, message, recipient: str) -> None:
        self.received.append(message)
        if self.die:
            raise KeyboardInterrupt  # not an error the batch handles: the run is gone

    def close(self) -> None:
        pass


def test_a_send_cut_off_before_it_was_recorded_goes_again_with_the_same_message_id(tmp_path: Path) -> None:
    ledger = InMemoryLedger()
    settings = DeliverySettings(sender="privacy@school.nl", rate_per_minute=6000)
    received: list = []
    teacher = [digest([item(1)], owner="jansen@school.nl")]
    with pytest.raises(KeyboardInterrupt):
        deliver_digests(teacher, settings, ledger, PERIOD, clock=FakeClock(),
                        open_transport=lambda: _DiesAfterHandingOver(received, die=True))
    assert [e.status for e in ledger.entries] == ["sending"]  # recorded before handing over
    again = deliver_digests(teacher, settings, ledger, PERIOD, clock=FakeClock(),
                            open_transport=lambda: _DiesAfterHandingOver(received, die=False))
    assert again.sent == ["jansen@school.nl"]
    first, second = (m["Message-ID"] for m in received)
    assert first == second  # the receiving side can recognise the repeat
    assert "jansen" not in first and PERIOD in first
    assert digest_message_id("jansen@school.nl", "2026-W49", "school.nl") != first  # a new week, a new mail
    third = deliver_digests(teacher, settings, ledger, PERIOD, clock=FakeClock(),
                            open_transport=lambda: _DiesAfterHandingOver(received, die=False))
    assert third.already_sent == ["jansen@school.nl"] and len(received) == 2


def test_a_sent_digest_records_what_it_named_and_a_failed_one_nothing(tmp_path: Path, database_url: str) -> None:
    """The first-digest date of an item (issue 18: answered within 3 weeks, enforcement that
    may only act on what a teacher was told) is the "sent" time of the first delivered digest
    that showed it; items past the cap are not named, a failed delivery names nothing."""
    from reports.data import FolderGroup
    from scanner.store import Store

    store = Store(database_url, key_file=tmp_path / "store.key", secret_file=tmp_path / "hmac.key")
    try:
        settings = DeliverySettings(outbox_dir=tmp_path / "outbox", cap=2)
        ledger_items = [item(n) for n in range(4)]
        group = FolderGroup(folder="Inbox/Zorg", kind="mail", count=2, answers=(),
                            item_ids=("item-2", "item-3"))  # no links: not shown, not named
        teacher = [digest(ledger_items, owner="jansen@school.nl")]
        teacher = [type(teacher[0])(**{**teacher[0].__dict__, "folder_groups": [group]})]
        broken = [digest([item(9)], owner="not an address")]
        to_outbox(teacher + broken, settings, store, PERIOD)
        first = store.first_digests([f"item-{n}" for n in (0, 1, 2, 3, 9)])
        shown = {i.item_id for i in sorted(ledger_items, key=lambda i: (i.date, i.item_id))}
        assert len(first) == 2 and set(first) <= shown, first  # the cap: two of four named
        assert "item-9" not in first  # its delivery failed: nobody was told
        sent_at = first[next(iter(first))]
        # a later digest that names them again does not move the first date
        to_outbox(teacher, settings, store, "2026-W49")
        assert store.first_digests(list(first)) == first and sent_at.tzinfo is not None
        assert {r["period"] for r in store.deliveries()} == {PERIOD, "2026-W49"}
    finally:
        store.close()


def test_folder_links_name_every_item_they_cover(tmp_path: Path) -> None:
    from reports.data import AnswerLink, FolderGroup
    from reports.digest import render_digest

    items = [item(n) for n in range(4)]
    group = FolderGroup(folder="Inbox/Zorg", kind="mail", count=4,
                        answers=(AnswerLink("verwijderen", "https://x/a/t"),),
                        item_ids=tuple(i.item_id for i in items))
    teacher = digest(items)
    rendered = render_digest(type(teacher)(**{**teacher.__dict__, "folder_groups": [group]}), cap=1)
    assert rendered is not None and rendered.shown == 1
    assert set(rendered.listed) == {i.item_id for i in items}
