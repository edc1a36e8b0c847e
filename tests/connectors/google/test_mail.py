"""google_mail against the local Google fake: listing, history increments, expiry, raw
content, users from org units and groups, and errors that stay with one user."""

from __future__ import annotations

import email

import pytest

from connectors.base import ConnectorContext, ItemFetchError, SourceError
from tests.crawling import crawl_all

from .conftest import ADMIN, mail_connector

JANSEN = "jansen@school.nl"
PIETERS = "pieters@school.nl"


def school(fake):
    fake.add_user(JANSEN, "/Docenten/Bovenbouw")
    fake.add_user(PIETERS, "/Docenten")
    fake.add_user("leerling@school.nl", "/Leerlingen")
    klas = fake.add_label(JANSEN, "Klas 3B")
    m = {
        "inbox": fake.add_message(JANSEN, "Ziekmelding Sanne", ("INBOX", "UNREAD")),
        "klas": fake.add_message(JANSEN, "Cijferlijst 3B", (klas,)),
        "sent": fake.add_message(JANSEN, "Verslag IB", ("SENT", klas)),
        "archived": fake.add_message(JANSEN, "Oud dossier", ()),
        "trash": fake.add_message(JANSEN, "Oude klassenlijst", ("TRASH",)),
        "p1": fake.add_message(PIETERS, "Verzuim", ("INBOX",)),
    }
    return m, klas


def test_full_listing_pages_and_metadata(fake, key_file, clock) -> None:
    messages, _ = school(fake)
    result = crawl_all(mail_connector(fake, key_file, clock, users=[JANSEN, PIETERS], page_size=2))
    assert not result.errors
    refs = {r.item_key: r for r in result.seen()}
    assert len(refs) == 6
    klas = refs[f"{JANSEN}:{messages['klas'].id}"]
    assert (klas.folder, klas.labels, klas.title, klas.owner) == ("Klas 3B", ("Klas 3B",), "Cijferlijst 3B", JANSEN)
    assert refs[f"{JANSEN}:{messages['sent'].id}"].folder == "SENT"
    assert refs[f"{JANSEN}:{messages['archived'].id}"].folder == "Archief"
    assert refs[f"{JANSEN}:{messages['trash'].id}"].folder == "TRASH"
    assert klas.link == f"https://mail.google.com/mail/u/?authuser={JANSEN}#all/{messages['klas'].id}"
    assert klas.date.year == 2021 and klas.size == len(messages["klas"].raw)
    # really paged: 5 messages of jansen in pages of 2
    assert len(fake.logged(rf"/users/{JANSEN}/messages$")) == 3
    # only read-only scopes were asked for, each user impersonated for its own mailbox
    assert {r[3] for r in fake.logged(r"^/gmail/")} == {JANSEN, PIETERS}


def test_history_increment_gives_only_changes(fake, key_file, clock) -> None:
    messages, klas = school(fake)
    connector = mail_connector(fake, key_file, clock, users=[JANSEN], page_size=2)
    first = crawl_all(connector)
    new = fake.add_message(JANSEN, "Nieuwe ziekmelding", ("INBOX",))
    fake.relabel(JANSEN, messages["inbox"].id, add=(klas,), remove=("UNREAD",))
    fake.delete_message(JANSEN, messages["trash"].id)
    gone_again = fake.add_message(JANSEN, "Kort bestaan", ("INBOX",))
    fake.delete_message(JANSEN, gone_again.id)
    second = crawl_all(connector, first.cursors)
    assert not second.errors and not second.resyncs
    assert sorted(r.item_key for r in second.seen()) == sorted(
        [f"{JANSEN}:{new.id}", f"{JANSEN}:{messages['inbox'].id}"])
    relabelled = next(r for r in second.seen() if r.item_key.endswith(messages["inbox"].id))
    assert relabelled.labels == ("Klas 3B",) and relabelled.change_key == messages["inbox"].id
    assert sorted(second.gone()) == sorted([f"{JANSEN}:{messages['trash'].id}", f"{JANSEN}:{gone_again.id}"])
    assert len(fake.logged(rf"/users/{JANSEN}/messages$")) == 3  # no new full listing
    third = crawl_all(connector, second.cursors)
    assert third.seen() == [] and third.gone() == []


def test_expired_history_resyncs_with_a_full_listing(fake, key_file, clock) -> None:
    messages, _ = school(fake)
    connector = mail_connector(fake, key_file, clock, users=[JANSEN])
    first = crawl_all(connector)
    fake.delete_message(JANSEN, messages["klas"].id)
    fake.expire_history(JANSEN)
    second = crawl_all(connector, first.cursors)
    assert JANSEN in second.resyncs  # announced first (crawl_all checks the order)
    assert len(second.seen()) == 4 and f"{JANSEN}:{messages['klas'].id}" not in {r.item_key for r in second.seen()}
    assert second.gone() == []  # the pipeline closes what the resync listing did not see
    assert any(code == "resync" for _, code, _ in connector.warnings)


def test_excluded_label_hides_and_a_move_there_is_gone(fake, key_file, clock) -> None:
    messages, _ = school(fake)
    connector = mail_connector(fake, key_file, clock, users=[JANSEN], exclude=["SPAM", "TRASH"])
    first = crawl_all(connector)
    assert len(first.seen()) == 4
    fake.relabel(JANSEN, messages["inbox"].id, add=("TRASH",), remove=("INBOX",))
    second = crawl_all(connector, first.cursors)
    assert second.gone() == [f"{JANSEN}:{messages['inbox'].id}"]


def test_fetch_raw_and_size_limit(fake, key_file, clock) -> None:
    fake.add_user(JANSEN)
    small = fake.add_message(JANSEN, "Klassenlijst", body="Daan de Vries, BSN 111222333")
    big = fake.add_message(JANSEN, "Groot", size_pad=50_000)
    connector = mail_connector(fake, key_file, clock, ConnectorContext(max_item_bytes=20_000), users=[JANSEN])
    refs = {r.item_key: r for r in crawl_all(connector).seen()}
    fetched = connector.fetch(refs[f"{JANSEN}:{small.id}"])
    assert fetched.data == small.raw
    assert email.message_from_bytes(fetched.data)["Subject"] == "Klassenlijst"
    raw_requests = len(fake.logged(r"/messages/"))
    with pytest.raises(ItemFetchError) as error:
        connector.fetch(refs[f"{JANSEN}:{big.id}"])
    assert error.value.code == "too_large"
    assert len(fake.logged(r"/messages/")) == raw_requests  # refused before downloading
    fake.delete_message(JANSEN, small.id)
    with pytest.raises(ItemFetchError) as error:
        connector.fetch(refs[f"{JANSEN}:{small.id}"])
    assert error.value.code == "not_found"


def test_users_from_org_unit_and_nested_groups(fake, key_file, clock) -> None:
    school(fake)
    fake.add_user("oud@school.nl", "/Docenten", suspended=True)
    fake.add_user("ib@school.nl", "/Staf")
    fake.add_group("zorg@school.nl", [("USER", "ib@school.nl"), ("GROUP", "kern@school.nl")])
    fake.add_group("kern@school.nl", [("USER", PIETERS), ("GROUP", "zorg@school.nl")])
    connector = mail_connector(fake, key_file, clock, org_units=["/Docenten"], groups=["zorg@school.nl"])
    assert [u.key for u in connector.units()] == [JANSEN, PIETERS, "ib@school.nl"]
    assert {r[3] for r in fake.logged(r"^/admin/")} == {ADMIN}
    query = fake.logged(r"/admin/directory/v1/users$")[0][2]
    assert "orgUnitPath" in query and "my_customer" in query


def test_a_missing_user_or_one_without_gmail_fails_alone(fake, key_file, clock) -> None:
    school(fake)
    fake.add_user("geenmail@school.nl", gmail=False)
    connector = mail_connector(fake, key_file, clock, users=[JANSEN, "weg@school.nl", "geenmail@school.nl"])
    result = crawl_all(connector)
    assert set(result.errors) == {"weg@school.nl", "geenmail@school.nl"}
    assert "weg@school.nl" in str(result.errors["weg@school.nl"])
    assert result.errors["weg@school.nl"].code == "auth_failed"  # invalid_grant: no such user
    assert result.errors["geenmail@school.nl"].code == "not_found"
    assert len(result.seen()) == 5


def test_a_bad_key_is_auth_failed(fake, key_file, clock, tmp_path) -> None:
    fake.add_user(JANSEN)
    other = tmp_path / "other.json"
    from tests.services.fake_google import FakeGoogle

    other.write_text(FakeGoogle().key_json())  # a key Google does not know
    connector = mail_connector(fake, key_file, clock, users=[JANSEN], service_account_key={"file": str(other)})
    result = crawl_all(connector)
    assert result.errors[JANSEN].code == "auth_failed"
    fake.granted_scopes.discard("https://www.googleapis.com/auth/gmail.readonly")  # delegation not set up
    result = crawl_all(mail_connector(fake, key_file, clock, users=[JANSEN]))
    assert result.errors[JANSEN].code == "auth_failed"


def test_org_units_need_an_admin() -> None:
    with pytest.raises(ValueError, match="admin_user"):
        from connectors.google.config import GoogleMailConfig

        GoogleMailConfig(name="g", service_account_key={"env": "PATH"}, org_units=["/Docenten"])
    assert SourceError  # imported for the connector contract
