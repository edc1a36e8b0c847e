"""Throttling and faults: results with faults equal a fault-free run; failures stay local."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from connectors.base import ItemFetchError
from connectors.graph.throttle import RetryPolicy, RetryState, parse_retry_after
from tests.crawling import crawl_all

from .conftest import build_school, files_connector, mail_connector

JANSEN = "jansen@school.nl"
PIETERSEN = "pietersen@school.nl"


def test_faulty_run_gives_the_same_result_as_a_clean_run(fake, certs, clock) -> None:
    build_school(fake)
    mailboxes = [JANSEN, PIETERSEN, "devries@school.nl"]
    clean = crawl_all(mail_connector(fake, certs, clock, mailboxes=mailboxes, page_size=2))
    assert not clean.errors and len(clean.seen()) == 12

    fake.inject("429", r"/messages/delta$", times=2, retry_after="7")
    fake.inject("503", r"/mailFolders$", times=1, retry_after="3")
    fake.inject("503", r"/childFolders$", times=2)  # no advice: back-off
    fake.inject("500", r"/messages/delta$", times=1)
    fake.inject("drop", r"/messages/delta$", times=2)
    fake.inject("drop", r"/groups/", times=1)
    fake.inject("401", r"/mailFolders$", times=1)
    faulty = crawl_all(mail_connector(fake, certs, clock, mailboxes=mailboxes, groups=["grp-sectie"], page_size=2))

    assert not faulty.errors
    assert faulty.snapshot() == clean.snapshot()
    assert all(fault.times == 0 for fault in fake.faults)  # every fault was really hit
    assert clock.waits.count(7.0) == 2 and 3.0 in clock.waits  # Retry-After honoured
    assert all(w <= 60 for w in clock.waits)


def test_incremental_run_with_faults_returns_only_the_changes(fake, certs, clock) -> None:
    messages = build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN], page_size=1)
    first = crawl_all(connector)
    fake.update_message(JANSEN, messages["archive"].id, categories=["Bewaren"])
    fake.delete_message(JANSEN, messages["sent"].id)
    fake.inject("429", r"/messages/delta$", times=3, retry_after="2")
    fake.inject("drop", r"/messages/delta$", times=1)
    second = crawl_all(connector, first.cursors)
    assert not second.errors
    changed = {unit: rows for unit, rows in second.snapshot().items() if rows}
    assert set(changed) == {f"{JANSEN}/Archief/2021", f"{JANSEN}/Verzonden items"}
    assert [r.labels for r in second.seen()] == [("Bewaren",)]
    assert len(second.gone()) == 1


def test_a_mailbox_that_keeps_failing_fails_alone_and_in_bounded_time(fake, certs, clock) -> None:
    build_school(fake)
    for folder in ("Inbox/A", "Inbox/B", "Inbox/C"):
        fake.add_message(PIETERSEN, folder, "Bericht")
    fake.inject("503", rf"/users/{PIETERSEN}/mailFolders/.+/messages/delta$", times=10_000)
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN, PIETERSEN, "devries@school.nl"])
    result = crawl_all(connector)

    failed = set(result.errors)
    assert failed == {f"{PIETERSEN}/Inbox", f"{PIETERSEN}/Inbox/A", f"{PIETERSEN}/Inbox/B", f"{PIETERSEN}/Inbox/C"}
    assert {e.code for e in result.errors.values()} == {"unreachable"}
    assert "Verzuim" not in " ".join(str(e) for e in result.errors.values())
    assert len(result.seen()) == 11  # every other mailbox complete
    # two units used their attempts (6 each), the other two failed fast without a request
    attempts = len(fake.graph_requests(rf"/users/{PIETERSEN}/mailFolders/.+/messages/delta$"))
    assert attempts == 2 * 6
    # back-off with jitter 0.5: 0.5+1+2+4+8 seconds per unit, never a real sleep
    assert sum(clock.waits) == pytest.approx(2 * 15.5)


def test_total_wait_is_bounded_even_when_the_server_asks_for_more(fake, certs, clock) -> None:
    build_school(fake)
    fake.inject("429", r"/messages/delta$", times=100, retry_after="200")
    connector = mail_connector(fake, certs, clock, mailboxes=["devries@school.nl"])
    result = crawl_all(connector)
    assert result.errors["devries@school.nl/Inbox"].code == "throttled"
    assert sum(clock.waits) <= 300


def test_at_most_four_concurrent_requests_per_mailbox(fake, certs, clock) -> None:
    build_school(fake)
    for i in range(24):
        fake.add_message(JANSEN, "Inbox/Bulk", f"Bericht {i}")
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN])
    refs = [r for r in crawl_all(connector).seen() if r.folder == "Inbox/Bulk"]
    fake.latency = 0.05
    with ThreadPoolExecutor(max_workers=12) as pool:
        sizes = list(pool.map(lambda ref: connector.fetch(ref).size, refs))
    assert len(sizes) == 24 and all(sizes)
    assert fake.concurrency_rejections == 0
    assert 2 <= fake.max_inflight[JANSEN] <= 4


def test_dropped_download_is_retried(fake, certs, clock) -> None:
    fake.add_mailbox("alice@school.nl")
    fake.add_drive("drive-alice", owner="alice@school.nl")
    fake.add_file("drive-alice", "Documenten/lijst.csv", b"naam;klas\n")
    connector = files_connector(fake, certs, clock, users=["alice@school.nl"])
    ref = crawl_all(connector).seen()[0]
    fake.inject("drop", r"^/download/", times=1)
    fake.inject("503", r"/content$", times=1, retry_after="1")
    assert connector.fetch(ref).data == b"naam;klas\n"


def test_fetch_of_a_failing_mailbox_is_an_item_error(fake, certs, clock) -> None:
    build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=["devries@school.nl"])
    ref = crawl_all(connector).seen()[0]
    fake.inject("500", r"/\$value$", times=100)
    with pytest.raises(ItemFetchError) as error:
        connector.fetch(ref)
    assert error.value.code == "fetch_failed"
    assert "Handelingsplan" not in str(error.value)


def test_retry_after_parsing() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now.timestamp()) == 30.0


def test_retry_state_bounds_attempts_and_total_wait() -> None:
    state = RetryState(RetryPolicy(max_attempts=4, max_total_wait=10, base=1, cap=60, rng=lambda: 1.0))
    assert [state.next_wait(None), state.next_wait(None), state.next_wait(None)] == [1, 2, 4]
    assert state.next_wait(None) is None  # fourth failure: attempts used up
    bounded = RetryState(RetryPolicy(max_attempts=10, max_total_wait=10, rng=lambda: 1.0))
    assert bounded.next_wait(8) == 8
    assert bounded.next_wait(8) is None  # would exceed the total wait


def test_send_mail_is_repeated_only_when_graph_surely_did_not_act(fake, certs, clock) -> None:
    from connectors.base import SourceError
    from connectors.graph.client import GraphClient
    from connectors.graph.config import GraphConnection

    from .conftest import client_for, connection

    build_school(fake)
    client: GraphClient = client_for(GraphConnection(**connection(fake, certs)), clock)
    fake.inject("429", r"/sendMail$", times=1, retry_after="2")
    client.send_mail(JANSEN, b"Subject: digest\r\n\r\n1")
    assert len(fake.sent) == 1  # throttled once, then sent once

    fake.inject("drop", r"/sendMail$", times=1)
    with pytest.raises(SourceError) as error:
        client.send_mail(JANSEN, b"Subject: digest\r\n\r\n2")
    assert error.value.code == "unreachable"
    assert len(fake.graph_requests("/sendMail$")) == 3  # the dropped POST was not repeated

    fake.inject("500", r"/sendMail$", times=1)
    with pytest.raises(SourceError) as error:
        client.send_mail(JANSEN, b"Subject: digest\r\n\r\n3")
    assert error.value.code == "unreachable"
    assert len(fake.sent) == 1
    client.close()
