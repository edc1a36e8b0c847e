"""Mail to IT when runs fail or sources keep failing: a real SMTP server (aiosmtpd on
127.0.0.1), de-duplication per problem and day, and no personal data in the mail."""

from __future__ import annotations

import email
import socket
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller

from scanner.notify import notify_it, notify_job_failed
from scanner.store import Store, open_store
from tests.operations.conftest import local, make_settings

SECRET_UNIT = "j.de.vries@school.nl/Inbox/Zorgmelding Sanne"
SECRET_MESSAGE = "map 'Leerlingzorg Sanne Jansen' onleesbaar"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


SOURCES = [
    {"kind": "maildir", "name": "mail-oud", "path": "/nonexistent/maildir", "owner": "x@school.nl"},
    {"kind": "folder", "name": "schijf-h", "path": "/nonexistent/share", "owner": "y@school.nl"},
]


def smtp_settings(tmp_path, port: int, **overrides):
    return make_settings(
        tmp_path, sources=SOURCES,
        delivery={"method": "smtp", "host": "127.0.0.1", "port": port, "starttls": False,
                  "sender": "schoonschip@school.nl"},
        notify={"it_recipients": ["ict@school.nl", "beheer@school.nl"], "failing_source_runs": 3},
        **overrides)


def scan_run(store: Store, status: str, failing: dict[str, int]) -> int:
    run_id = store.begin_run("scan", pid=1, host="test")
    for source, count in failing.items():
        for _ in range(count):
            store.record_source_error(run_id, source, SECRET_UNIT, "unreachable", SECRET_MESSAGE)
    store.finish_run(run_id, status, {}, "OperationalError" if status == "failed" else None)
    return run_id


def test_failing_source_mails_it_once_a_day_then_reports_it_solved(tmp_path, smtp_server):
    inbox, port = smtp_server
    settings = smtp_settings(tmp_path, port)
    store = open_store(settings)
    night = local(2027, 1, 4, 3, 0)
    # two failing nights: below the threshold of three, nothing is sent
    for day in range(2):
        run_id = scan_run(store, "completed", {"mail-oud": 2})
        assert notify_it(settings, store, run_id, now=night + timedelta(days=day)) is False
    assert inbox.messages == []
    # the third night in a row: one mail to each IT address
    run_id = scan_run(store, "completed", {"mail-oud": 2})
    assert notify_it(settings, store, run_id, now=night + timedelta(days=2)) is True
    assert sorted(r[0] for r, _ in inbox.messages) == ["beheer@school.nl", "ict@school.nl"]
    body = inbox.messages[0][1].get_content()
    assert "mail-oud (maildir)" in body and "unreachable x2" in body and "3 scans" in body
    assert inbox.messages[0][1]["Auto-Submitted"] == "auto-generated"
    for secret in ("Sanne", "j.de.vries", "Leerlingzorg", "Zorgmelding"):
        assert secret not in inbox.messages[0][1].as_string()
    # the same problem later that day (a second run): no second mail
    run_id = scan_run(store, "completed", {"mail-oud": 1})
    assert notify_it(settings, store, run_id, now=night + timedelta(days=2, hours=5)) is False
    assert len(inbox.messages) == 2
    # still failing the next day: one reminder per day
    run_id = scan_run(store, "completed", {"mail-oud": 1})
    assert notify_it(settings, store, run_id, now=night + timedelta(days=3)) is True
    assert len(inbox.messages) == 4
    assert "sinds / since 2027-01-06" in inbox.messages[-1][1].get_content()
    # the source works again: one "solved" mail, then silence
    run_id = scan_run(store, "completed", {})
    assert notify_it(settings, store, run_id, now=night + timedelta(days=4)) is True
    solved = inbox.messages[-1][1]
    assert "opgelost / solved" in solved["Subject"] and "mail-oud" in solved.get_content()
    run_id = scan_run(store, "completed", {})
    assert notify_it(settings, store, run_id, now=night + timedelta(days=5)) is False
    assert len(inbox.messages) == 6
    store.close()


def test_failed_run_is_reported_and_a_failed_send_is_retried(tmp_path, smtp_server):
    inbox, port = smtp_server
    settings = smtp_settings(tmp_path, port)
    store = open_store(settings)
    run_id = scan_run(store, "failed", {})
    unreachable = smtp_settings(tmp_path, free_port())
    # the relay is down: nothing recorded as sent, the mail lands in the outbox instead
    assert notify_it(unreachable, store, run_id, now=local(2027, 1, 4, 3, 0)) is False
    outbox = sorted(unreachable.outbox_dir.glob("it-*.eml"))
    assert len(outbox) == 2 and b"OperationalError" in outbox[0].read_bytes()
    # the relay is back later that day: the same problem is sent now
    assert notify_it(settings, store, run_id, now=local(2027, 1, 4, 9, 0)) is True
    assert "scan #1 mislukt / failed (OperationalError)" in inbox.messages[0][1].get_content()
    store.close()


def test_outbox_method_and_failed_job(tmp_path):
    settings = make_settings(tmp_path, delivery={"method": "outbox"},
                             notify={"it_recipients": ["ict@school.nl"]})
    store = open_store(settings)
    assert notify_job_failed(settings, store, "digest", 1, now=datetime(2027, 1, 4, 6, 0, tzinfo=UTC))
    assert not notify_job_failed(settings, store, "digest", 1, now=datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    files = list(settings.outbox_dir.glob("it-*.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["To"] == "ict@school.nl" and "digest mislukt / failed (exit code 1)" in message.get_content()
    store.close()


def test_no_recipients_no_mail(tmp_path):
    settings = make_settings(tmp_path, delivery={"method": "outbox"})
    store = open_store(settings)
    run_id = scan_run(store, "failed", {})
    assert notify_it(settings, store, run_id) is False
    assert not settings.outbox_dir.exists()
    store.close()


def test_service_tells_it_when_a_digest_fails_and_when_it_works_again(tmp_path, smtp_server):
    """The real service loop with the real notification hook and the SMTP relay."""
    import threading

    from scanner.scheduling import ScheduleService, notify_after_job
    from tests.operations.conftest import FakeClock

    inbox, port = smtp_server
    settings = smtp_settings(tmp_path, port, schedule={"scan": "off", "digest": "0 7 * * *", "report": "off"})
    store = open_store(settings)
    codes = iter([1, 1, 0, 0])
    clock = FakeClock(local(2027, 1, 4, 6, 0), local(2027, 1, 7, 12, 0))
    service = ScheduleService(settings, store.engine, clock=clock, actions={"digest": lambda stop: next(codes)},
                              after_job=notify_after_job(settings, store, clock))
    service.start()
    service.serve(threading.Event())
    subjects = [m["Subject"] for rcpt, m in inbox.messages if rcpt == ["ict@school.nl"]]
    assert len(subjects) == 3  # failed (day 1), still failing (day 2), solved (day 3); day 4 quiet
    assert "actie nodig" in subjects[0] and "actie nodig" in subjects[1] and "opgelost" in subjects[2]
    assert "digest mislukt / failed (exit code 1)" in inbox.messages[0][1].get_content()
    store.close()
