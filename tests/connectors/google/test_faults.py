"""Quota and faults per Google's usage-limit pages: 429 and 403 rate limits back off (honouring
Retry-After), 5xx and dropped connections are retried, all within the request budget; a faulty
run tells the same as a clean one."""

from __future__ import annotations

import pytest

from connectors.base import ItemFetchError
from tests.crawling import crawl_all

from .conftest import mail_connector
from .test_mail import JANSEN, PIETERS, school


def test_faulty_run_equals_a_clean_run(fake, key_file, clock) -> None:
    school(fake)
    clean = crawl_all(mail_connector(fake, key_file, clock, users=[JANSEN, PIETERS], page_size=2))
    fake.inject("429", r"/messages$", times=2, retry_after="7")
    fake.inject("403rate", r"/messages/", times=2)
    fake.inject("403user", r"/labels$", times=1, retry_after="3")
    fake.inject("503", r"/profile$", times=1)
    fake.inject("500", r"/messages/", times=1)
    fake.inject("drop", r"/messages$", times=1)
    faulty = crawl_all(mail_connector(fake, key_file, clock, users=[JANSEN, PIETERS], page_size=2))
    assert not faulty.errors
    assert faulty.snapshot() == clean.snapshot()
    assert all(f.times == 0 for f in fake.faults)
    assert clock.waits.count(7.0) == 2 and 3.0 in clock.waits


def test_history_increment_with_throttling(fake, key_file, clock) -> None:
    messages, _ = school(fake)
    connector = mail_connector(fake, key_file, clock, users=[JANSEN], page_size=1)
    first = crawl_all(connector)
    fake.delete_message(JANSEN, messages["sent"].id)
    new = fake.add_message(JANSEN, "Nieuw", ("INBOX",))
    fake.inject("429", r"/history$", times=3, retry_after="2")
    fake.inject("403user", r"/messages/", times=2)
    second = crawl_all(connector, first.cursors)
    assert not second.errors
    assert [r.item_key for r in second.seen()] == [f"{JANSEN}:{new.id}"]
    assert second.gone() == [f"{JANSEN}:{messages['sent'].id}"]


def test_budget_bounds_the_wait_and_fails_one_user(fake, key_file, clock) -> None:
    school(fake)
    fake.inject("429", rf"/users/{PIETERS}/labels$", times=1000, retry_after="200")
    result = crawl_all(mail_connector(fake, key_file, clock, users=[JANSEN, PIETERS]))
    assert set(result.errors) == {PIETERS} and result.errors[PIETERS].code == "throttled"
    assert PIETERS in str(result.errors[PIETERS])
    assert sum(clock.waits) <= 300
    assert len(result.seen()) == 5


def test_backoff_is_exponential_without_advice(fake, key_file, clock) -> None:
    school(fake)
    fake.inject("503", rf"/users/{PIETERS}/labels$", times=1000)
    result = crawl_all(mail_connector(fake, key_file, clock, users=[PIETERS]))
    assert result.errors[PIETERS].code == "unreachable"
    assert clock.waits == pytest.approx([0.75, 1.5, 3.0, 6.0, 12.0])  # jitter 0.5 -> 0.75 of 2^n
    assert len(fake.logged(rf"/users/{PIETERS}/labels$")) == 6


def test_a_404_or_403_is_not_retried(fake, key_file, clock) -> None:
    messages, _ = school(fake)
    connector = mail_connector(fake, key_file, clock, users=[JANSEN])
    ref = next(r for r in crawl_all(connector).seen() if r.item_key.endswith(messages["inbox"].id))
    fake.delete_message(JANSEN, messages["inbox"].id)
    before = len(fake.logged(r"/messages/"))
    with pytest.raises(ItemFetchError) as error:
        connector.fetch(ref)
    assert error.value.code == "not_found" and len(fake.logged(r"/messages/")) == before + 1
    ref2 = next(r for r in crawl_all(connector).seen())
    fake.inject("403rate", r"/messages/", times=1000)
    with pytest.raises(ItemFetchError) as error:
        connector.fetch(ref2)
    assert error.value.code == "throttled"  # retryable: fetched again next run
