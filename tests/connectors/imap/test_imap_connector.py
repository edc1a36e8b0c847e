"""The IMAP connector against a real Dovecot on loopback (see dovecot_server.py)."""

from __future__ import annotations

import os
import pickle
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from imapclient import IMAPClient
from pydantic import ValidationError

from connectors.base import ItemFetchError, SourceError
from connectors.imap import ImapConfig, ImapConnector
from connectors.registry import connector_class
from scanner.core.model import Blind, Cursor, Gone, ItemKind, Resync, Seen

from .dovecot_server import TOKENS, USERS, Dovecot, free_port
from .imap_proxy import ImapProxy
from .imposter import Imposter, other_host_certificate

pytestmark = pytest.mark.service

from .conftest import USER  # noqa: E402 - after pytestmark, as the other imports of conftest


def make_mail(subject: str, body: str = "Hallo, dit is een test.") -> bytes:
    message = EmailMessage()
    message["From"] = "ouder@example.nl"
    message["To"] = USER
    message["Subject"] = subject
    message["Message-ID"] = f"<{abs(hash(subject))}@example.nl>"
    message.set_content(body)
    return message.as_bytes()


def crawl_all(connector: ImapConnector, unit_key: str, cursor: str | None = None):
    unit = next(u for u in connector.units() if u.key == unit_key)
    events = list(connector.crawl(unit, cursor))
    assert isinstance(events[-1], Cursor)
    assert sum(isinstance(e, Cursor) for e in events) == 1
    seen = {e.ref.item_key: e.ref for e in events if isinstance(e, Seen)}
    return unit, seen, events[-1].value


def test_registry_points_at_the_imap_connector() -> None:
    assert connector_class("imap") is ImapConnector


def test_full_crawl_lists_folders_with_special_use_and_items(admin: IMAPClient, config: ImapConfig) -> None:
    admin.create_folder("Klas 3B/Zorg")
    admin.create_folder("Oudergesprekken – Één & co")  # non-ASCII: modified UTF-7 on the wire
    admin.create_folder("Alle berichten")  # \All: a virtual duplicate on Gmail, skipped
    admin.append("INBOX", make_mail("Ziekmelding Émile – groep 5"), flags=[b"$Bewaren"])
    admin.append("INBOX", make_mail("Rapportcijfers"), msg_time=datetime(2023, 3, 1, tzinfo=UTC))
    admin.append("INBOX", make_mail("OPP bespreking"))
    admin.append("Sent", make_mail("Re: verzuim"))
    admin.append("Trash", make_mail("Oude klassenlijst"))
    admin.append("Archive", make_mail("Archief"))
    admin.append("Klas 3B/Zorg", make_mail("Handelingsplan"))

    with ImapConnector(config) as connector:
        units = {u.key: u for u in connector.units()}
        assert set(units) == {
            f"{USER}/INBOX", f"{USER}/Sent", f"{USER}/Trash", f"{USER}/Archive", f"{USER}/Klas 3B/Zorg",
            f"{USER}/Oudergesprekken – Één & co",
        }
        for unit in units.values():  # Dovecot offers QRESYNC: delta crawls
            assert unit.owner == USER and unit.concurrency_key == USER and not unit.full_listing

        _, seen, cursor = crawl_all(connector, f"{USER}/INBOX")
        assert len(seen) == 3
        titles = {ref.title for ref in seen.values()}
        assert titles == {"Ziekmelding Émile – groep 5", "Rapportcijfers", "OPP bespreking"}
        uidvalidity = admin.select_folder("INBOX", readonly=True)[b"UIDVALIDITY"]
        for key, ref in seen.items():
            assert key.startswith(f"INBOX/{uidvalidity}:")  # the folder is part of the identity
            assert ref.change_key == key.removeprefix("INBOX/")
            assert ref.kind is ItemKind.MAIL and ref.owner == USER and ref.folder == "INBOX"
            assert ref.unit_key == f"{USER}/INBOX" and ref.size and ref.size > 100
        by_title = {ref.title: ref for ref in seen.values()}
        assert by_title["Ziekmelding Émile – groep 5"].labels == ("$Bewaren",)
        assert by_title["Rapportcijfers"].date.year == 2023
        parts = cursor.split(":")
        assert int(parts[0]) == uidvalidity and int(parts[1]) == 4 and len(parts) == 3  # CONDSTORE

        admin.append("Oudergesprekken – Één & co", make_mail("Verslag"))
        for folder in ("Sent", "Trash", "Archive", "Klas 3B/Zorg", "Oudergesprekken – Één & co"):
            _, seen, _ = crawl_all(connector, f"{USER}/{folder}")
            assert len(seen) == 1


def test_incremental_new_and_deleted_mail(admin: IMAPClient, config: ImapConfig) -> None:
    for n in range(5):
        admin.append("INBOX", make_mail(f"bericht {n}"))
    with ImapConnector(config) as connector:
        _, first, cursor = crawl_all(connector, f"{USER}/INBOX")
        assert len(first) == 5

        admin.select_folder("INBOX")
        victim = sorted(admin.search(["ALL"]))[1]
        admin.delete_messages([victim])
        admin.expunge()
        admin.append("INBOX", make_mail("nieuw bericht"))
        flagged = sorted(admin.search(["ALL"]))[0]
        admin.add_flags([flagged], [b"\\Flagged", b"Afgehandeld"])

        unit = next(u for u in connector.units() if u.key == f"{USER}/INBOX")
        events = list(connector.crawl(unit, cursor))
        cursor2 = events[-1].value
    # QRESYNC: only what changed, the expunged message as Gone (RFC 7162 VANISHED (EARLIER))
    assert not unit.full_listing
    gone = [e.item_key for e in events if isinstance(e, Gone)]
    seen = {e.ref.item_key: e.ref for e in events if isinstance(e, Seen)}
    uidvalidity = cursor.split(":")[0]
    assert gone == [f"INBOX/{uidvalidity}:{victim}"]
    flagged_key = f"INBOX/{uidvalidity}:{flagged}"
    assert set(seen) - {flagged_key} == {k for k in seen if seen[k].title == "nieuw bericht"}
    assert len(seen) == 2
    # a flag change is new labels, not new content: same change key, so no re-fetch
    assert seen[flagged_key].change_key == first[flagged_key].change_key
    assert "Afgehandeld" in seen[flagged_key].labels
    assert int(cursor2.split(":")[1]) == int(cursor.split(":")[1]) + 1
    assert int(cursor2.split(":")[2]) > int(cursor.split(":")[2])  # HIGHESTMODSEQ moved


@pytest.mark.parametrize("new_session", [False, True], ids=["same-session", "between-nights"])
def test_uidvalidity_change_gives_a_full_relisting(admin: IMAPClient, config: ImapConfig, new_session: bool) -> None:
    """In one session, and in a new one (the nightly case, where the listing's STATUS shows the
    new UIDVALIDITY): the folder is relisted even though HIGHESTMODSEQ is what the cursor holds."""
    admin.create_folder("Project")
    admin.append("Project", make_mail("een"))
    connector = ImapConnector(config)
    _, before, cursor = crawl_all(connector, f"{USER}/Project")
    if new_session:
        connector.close()
        connector = ImapConnector(config)
    admin.delete_folder("Project")
    admin.create_folder("Project")
    admin.append("Project", make_mail("een"))
    with connector:
        _, after, cursor2 = crawl_all(connector, f"{USER}/Project", cursor)
    assert cursor.split(":")[0] != cursor2.split(":")[0] and cursor.split(":")[2] == cursor2.split(":")[2]
    assert [code for _, code, _ in connector.warnings] == ["uidvalidity_changed"]
    assert not set(before) & set(after)  # every old key disappears, the new one is listed
    assert len(after) == 1 and all(k.startswith(f"Project/{cursor2.split(':')[0]}:") for k in after)


def test_fetch_uses_peek_and_never_sets_seen(admin: IMAPClient, config: ImapConfig) -> None:
    raw = make_mail("Onderwijskundig rapport", "BSN 123456782 van de leerling")
    admin.append("INBOX", raw)
    with ImapConnector(config) as connector:
        _, seen, _ = crawl_all(connector, f"{USER}/INBOX")
        ref = next(iter(seen.values()))
        fetched = connector.fetch(ref)
    assert fetched.media_type == "message/rfc822"
    assert fetched.read().replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
    admin.select_folder("INBOX", readonly=True)
    flags = admin.get_flags(admin.search(["ALL"]))
    assert all(b"\\Seen" not in f for f in flags.values())


def test_protocol_lines_are_never_formatted(admin: IMAPClient, config: ImapConfig) -> None:
    """imaplib formats every line for IMAPClient's debug logger when its debug level is 5 (what
    IMAPClient sets): each mail's bytes and the LOGIN line, work for a logger kept at WARNING."""
    admin.append("INBOX", make_mail("Zorgmelding", "BSN 123456782 van de leerling"))
    formatted: list[str] = []
    with ImapConnector(config) as connector:
        client = connector._connect()
        assert client._imap.debug == 0
        client._imap._mesg = formatted.append  # what imaplib calls for each line it formats
        _, seen, _ = crawl_all(connector, f"{USER}/INBOX")
        connector.fetch(next(iter(seen.values()))).read()
    assert formatted == []


def test_fetch_refuses_items_over_the_size_limit(admin: IMAPClient, config: ImapConfig) -> None:
    from connectors.base import ConnectorContext

    admin.append("INBOX", make_mail("groot", "x" * 5000))
    with ImapConnector(config, ConnectorContext(max_item_bytes=1000)) as connector:
        _, seen, _ = crawl_all(connector, f"{USER}/INBOX")
        with pytest.raises(ItemFetchError) as info:
            connector.fetch(next(iter(seen.values())))
    assert info.value.code == "too_large"


def test_fetch_after_uidvalidity_change_is_an_item_error(admin: IMAPClient, config: ImapConfig) -> None:
    admin.create_folder("Tijdelijk")
    admin.append("Tijdelijk", make_mail("een"))
    with ImapConnector(config) as connector:
        _, seen, _ = crawl_all(connector, f"{USER}/Tijdelijk")
        admin.delete_folder("Tijdelijk")
        admin.create_folder("Tijdelijk")
        connector.close()  # a new run: new connection
        with pytest.raises(ItemFetchError) as info:
            connector.fetch(next(iter(seen.values())))
    assert info.value.code == "not_found"


def test_set_label_adds_and_removes_a_keyword(admin: IMAPClient, config: ImapConfig) -> None:
    admin.append("INBOX", make_mail("label"))
    with ImapConnector(config) as connector:
        _, seen, _ = crawl_all(connector, f"{USER}/INBOX")
        ref = next(iter(seen.values()))
        assert connector.set_label(ref, "schoonschip opruimen") == ref.change_key
        _, seen, _ = crawl_all(connector, f"{USER}/INBOX")
        assert seen[ref.item_key].labels == ("schoonschip_opruimen",)
        connector.set_label(ref, "schoonschip opruimen", present=False)
        _, seen, _ = crawl_all(connector, f"{USER}/INBOX")
        assert seen[ref.item_key].labels == ()
    admin.select_folder("INBOX", readonly=True)
    assert all(b"\\Seen" not in f for f in admin.get_flags(admin.search(["ALL"])).values())


def test_starttls_with_trusted_ca(admin: IMAPClient, config: ImapConfig, dovecot: Dovecot) -> None:
    admin.append("INBOX", make_mail("via starttls"))
    starttls = config.model_copy(update={"security": "starttls", "port": dovecot.imap_port})
    with ImapConnector(starttls) as connector:
        _, seen, _ = crawl_all(connector, f"{USER}/INBOX")
    assert len(seen) == 1


def test_xoauth2_login(admin: IMAPClient, config: ImapConfig, tmp_path: Path) -> None:
    admin.append("INBOX", make_mail("via xoauth2"))
    token = tmp_path / "jansen.token"
    token.write_text(next(iter(TOKENS)) + "\n")
    oauth = ImapConfig.model_validate(
        {**config.model_dump(exclude={"password"}), "auth": "xoauth2", "oauth_token": {"file": token}}
    )
    with ImapConnector(oauth) as connector:
        _, seen, _ = crawl_all(connector, f"{USER}/INBOX")
    assert len(seen) == 1
    token.write_text("ya29.verlopen-token")
    with ImapConnector(oauth) as connector, pytest.raises(SourceError) as info:
        list(connector.units())
    assert info.value.code == "auth_failed"


def test_untrusted_certificate_is_a_tls_error(config: ImapConfig) -> None:
    untrusted = config.model_copy(update={"ca_file": None})
    with ImapConnector(untrusted) as connector, pytest.raises(SourceError) as info:
        list(connector.units())
    assert info.value.code == "tls_failed"
    assert " / " in str(info.value)


def test_wrong_password_is_auth_failed(config: ImapConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "fout")
    with ImapConnector(config) as connector, pytest.raises(SourceError) as info:
        list(connector.units())
    assert info.value.code == "auth_failed"
    assert str(info.value).startswith("aanmelden bij IMAP-server")


def test_unreachable_server(config: ImapConfig) -> None:
    closed = config.model_copy(update={"port": free_port(), "timeout": 5})
    with ImapConnector(closed) as connector, pytest.raises(SourceError) as info:
        list(connector.units())
    assert info.value.code == "unreachable"


def test_missing_folder_is_a_unit_error(admin: IMAPClient, config: ImapConfig) -> None:
    admin.create_folder("Weg")
    with ImapConnector(config) as connector:
        unit = next(u for u in connector.units() if u.key.endswith("/Weg"))
        admin.delete_folder("Weg")
        with pytest.raises(SourceError) as info:
            list(connector.crawl(unit, None))
        assert info.value.code == "not_found"
        _, seen, _ = crawl_all(connector, f"{USER}/INBOX")  # the other units go on


def test_exclude_globs_apply_to_folder_paths(admin: IMAPClient, config: ImapConfig) -> None:
    admin.create_folder("Prive/Familie")
    filtered = config.model_copy(update={"exclude": ["prive*", "trash"]})
    with ImapConnector(filtered) as connector:
        keys = {u.key for u in connector.units()}
    assert f"{USER}/Prive/Familie" not in keys and f"{USER}/Trash" not in keys
    assert f"{USER}/INBOX" in keys


def test_connector_pickles_without_its_connection(admin: IMAPClient, config: ImapConfig) -> None:
    admin.append("INBOX", make_mail("pickle"))
    connector = ImapConnector(pickle.loads(pickle.dumps(config)))
    _, seen, _ = crawl_all(connector, f"{USER}/INBOX")
    copy = pickle.loads(pickle.dumps(connector))  # e.g. shipped to a worker process
    assert copy.fetch(next(iter(seen.values()))).size
    copy.close()
    connector.close()


def test_config_validation() -> None:
    with pytest.raises(ValidationError, match="loopback"):
        ImapConfig(name="x", host="imap.example.nl", security="plain", username="a",
                   password={"file": __file__})
    with pytest.raises(ValidationError, match="password"):
        ImapConfig(name="x", host="imap.example.nl", username="a")
    with pytest.raises(ValidationError, match="oauth_token"):
        ImapConfig(name="x", host="imap.example.nl", username="a", auth="xoauth2")
    ok = ImapConfig(name="x", host="127.0.0.1", security="plain", username="a", password={"file": __file__})
    assert ok.effective_port() == 143 and ok.mailbox == "a"
    assert Path(__file__).exists()


def test_a_stale_uidvalidity_is_a_resync_and_a_full_listing(admin: IMAPClient, config: ImapConfig) -> None:
    admin.append("INBOX", make_mail("een"))
    with ImapConnector(config) as connector:
        unit = next(u for u in connector.units() if u.key == f"{USER}/INBOX")
        events = list(connector.crawl(unit, "1:1:1"))  # a stale cursor from another UIDVALIDITY
    assert not any(isinstance(e, Gone) for e in events)
    assert [type(e) for e in events] == [Resync, Seen, Cursor]
    assert events[0] == Resync("uidvalidity_changed")


def plant_folder_with_uidvalidity(dovecot: Dovecot, folder: str, uidvalidity: int, mails: list[bytes]) -> None:
    """Make a Maildir++ folder on disk with a chosen UIDVALIDITY, as a migration tool leaves it
    (imapsync and friends copy UIDVALIDITY values; RFC 3501 only makes them unique per folder).
    Dovecot reads the value from the folder's dovecot-uidlist and numbers the new files from 1."""
    home = dovecot.run_dir / "mail" / USER
    path = home / f".{folder}"
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True)
    (path / "dovecot-uidlist").write_text(f"3 V{uidvalidity} N1\n")
    for n, raw in enumerate(mails, start=1):
        (path / "cur" / f"17000000{n:02d}.M{n}P1.test:2,").write_bytes(raw)
    owner = home.stat()
    for item in [path, *path.rglob("*")]:
        os.chown(item, owner.st_uid, owner.st_gid)


def test_folders_sharing_a_uidvalidity_keep_their_messages_apart(admin: IMAPClient, config: ImapConfig,
                                                                  dovecot: Dovecot) -> None:
    for folder in ("Migratie A", "Migratie B"):
        plant_folder_with_uidvalidity(dovecot, folder, 1234567,
                                      [make_mail(f"{folder} bericht {n}") for n in range(3)])
    with ImapConnector(config) as connector:
        _, first, _ = crawl_all(connector, f"{USER}/Migratie A")
        _, second, cursor = crawl_all(connector, f"{USER}/Migratie B")
        assert cursor.startswith("1234567:")  # the planted value is what the server reports
        assert len(first) == len(second) == 3
        assert not set(first) & set(second)  # six messages, six items
        ref = second[min(second)]
        assert ref.item_key.startswith("Migratie B/1234567:")
        assert connector.fetch(ref).read().count(b"Migratie B bericht") == 1


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_a_server_with_another_hosts_certificate_never_sees_the_password(
        config: ImapConfig, tmp_path: Path, security: str) -> None:
    cert, key = other_host_certificate(tmp_path)
    imposter = Imposter(cert, key, implicit=security == "tls")
    try:
        # Even with its certificate trusted as a CA, the host name (127.0.0.1) does not match.
        victim = config.model_copy(update={"port": imposter.port, "security": security, "ca_file": cert,
                                           "timeout": 5})
        with ImapConnector(victim) as connector, pytest.raises(SourceError) as info:
            list(connector.units())
    finally:
        imposter.close()
    assert info.value.code == "tls_failed"
    sent = b"".join(imposter.received)
    assert b"LOGIN" not in sent.upper() and USERS[USER].encode() not in sent
    assert all(b"AUTHENTICATE" not in line.upper() for line in imposter.received)


def test_the_old_tls_switch_is_refused_with_what_to_use_instead(dovecot: Dovecot) -> None:
    with pytest.raises(ValidationError) as info:
        ImapConfig(name="x", host="imap.example.nl", username="a", password={"file": __file__},
                   verify_tls=False)
    text = str(info.value)
    assert "verify_tls" in text and "ca_file" in text
    assert text.index("bestaat niet meer") < text.index("no longer exists")  # Dutch first
    assert "verify_tls" not in ImapConfig.model_fields


# --- CONDSTORE/QRESYNC, blind spots (issue 15), counted at the server through a proxy -------


def test_the_second_unchanged_run_of_300_messages_sends_no_fetch(admin: IMAPClient, proxied: ImapConfig,
                                                                 proxy: ImapProxy) -> None:
    for n in range(300):
        admin.append("INBOX", make_mail(f"bericht {n}"))
    config = proxied.model_copy(update={"batch_size": 100})
    with ImapConnector(config) as connector:  # night 1
        _, first, cursor = crawl_all(connector, f"{USER}/INBOX")
    assert len(first) == 300 and proxy.count("UID FETCH") == 3
    proxy.commands.clear()
    with ImapConnector(config) as connector:  # night 2, nothing changed
        _, second, cursor2 = crawl_all(connector, f"{USER}/INBOX", cursor)
    assert second == {} and cursor2 == cursor
    assert proxy.count("UID FETCH") == 0 and proxy.count("FETCH") == 0 and proxy.count("UID SEARCH") == 0
    # the folder's STATUS came with the listing (LIST-STATUS, RFC 5819): not even an EXAMINE
    assert proxy.count("EXAMINE") == 0 and proxy.count("ENABLE QRESYNC") == 1
    assert [c for c in proxy.commands if c.upper().startswith("LIST")] == [
        'LIST "" "*" RETURN (SPECIAL-USE STATUS (UIDVALIDITY UIDNEXT HIGHESTMODSEQ))']
    proxy.commands.clear()
    proxy.hide = {b"LIST-STATUS"}
    with ImapConnector(config) as connector:  # a server without LIST-STATUS: one EXAMINE
        _, second, cursor3 = crawl_all(connector, f"{USER}/INBOX", cursor)
    assert second == {} and cursor3 == cursor
    assert proxy.count("EXAMINE") == 1 and proxy.count("FETCH") == 0 and proxy.count("UID FETCH") == 0
    assert [c for c in proxy.commands if c.upper().startswith("LIST")] == ['LIST "" "*"']
    proxy.hide = set()

    admin.select_folder("INBOX")
    admin.add_flags(admin.search(["ALL"])[:2], [b"Bewaren"])
    proxy.commands.clear()
    with ImapConnector(config) as connector:  # night 3: two keywords set
        _, third, _ = crawl_all(connector, f"{USER}/INBOX", cursor2)
    assert len(third) == 2 and all(ref.labels == ("Bewaren",) for ref in third.values())
    fetches = [c for c in proxy.commands if c.upper().startswith("UID FETCH")]
    assert len(fetches) == 1 and "CHANGEDSINCE" in fetches[0] and "BODY.PEEK[]" not in fetches[0]


def test_without_qresync_every_run_is_a_full_listing(admin: IMAPClient, proxied: ImapConfig,
                                                     proxy: ImapProxy) -> None:
    proxy.hide = {b"QRESYNC", b"CONDSTORE"}  # like Gmail without CONDSTORE: the fallback
    for n in range(3):
        admin.append("INBOX", make_mail(f"bericht {n}"))
    with ImapConnector(proxied) as connector:
        unit, first, cursor = crawl_all(connector, f"{USER}/INBOX")
        assert unit.full_listing
        admin.select_folder("INBOX")
        admin.delete_messages(admin.search(["ALL"])[:1])
        admin.expunge()
        unit = next(u for u in connector.units() if u.key == f"{USER}/INBOX")
        events = list(connector.crawl(unit, cursor))
    assert [type(e) for e in events] == [Seen, Seen, Cursor]  # the pipeline closes the third
    assert proxy.count("ENABLE") == 0


def test_a_folder_without_status_in_the_listing_is_selected_and_a_refusal_is_a_blind_spot(
        admin: IMAPClient, proxied: ImapConfig, proxy: ImapProxy) -> None:
    """RFC 5819 section 2: a server that cannot give a folder's STATUS sends its LIST response
    alone. That folder is EXAMINEd as without LIST-STATUS, so a folder that refuses it is still
    a blind spot (its messages kept), while the unchanged folders beside it cost nothing."""
    admin.create_folder("Zorg")
    admin.append("Zorg", make_mail("OPP"))
    admin.append("INBOX", make_mail("Rooster"))
    with ImapConnector(proxied) as connector:
        _, _, zorg = crawl_all(connector, f"{USER}/Zorg")
        _, _, inbox = crawl_all(connector, f"{USER}/INBOX")
    proxy.commands.clear()
    proxy.drop_status.add("Zorg")
    proxy.fail_select["Zorg"] = 1
    with ImapConnector(proxied) as connector:  # a new session: nothing selected
        units = {u.key: u for u in connector.units()}
        inbox_events = list(connector.crawl(units[f"{USER}/INBOX"], inbox))
        zorg_events = list(connector.crawl(units[f"{USER}/Zorg"], zorg))
    assert [type(e) for e in inbox_events] == [Cursor] and inbox_events[0].value == inbox
    assert [type(e) for e in zorg_events] == [Blind, Cursor] and zorg_events[1].value == zorg
    assert zorg_events[0].code == "select_failed"
    assert [c for c in proxy.commands if c.upper().startswith("EXAMINE")] == ['EXAMINE "Zorg"']


def test_a_folder_that_fails_to_select_is_a_blind_spot(admin: IMAPClient, proxied: ImapConfig,
                                                       proxy: ImapProxy) -> None:
    admin.create_folder("Zorg")
    admin.append("Zorg", make_mail("OPP"))
    with ImapConnector(proxied) as connector:
        _, _, cursor = crawl_all(connector, f"{USER}/Zorg")
        proxy.fail_select["Zorg"] = 1
        unit = next(u for u in connector.units() if u.key == f"{USER}/Zorg")
        events = list(connector.crawl(unit, cursor))
        assert [type(e) for e in events] == [Blind, Cursor]
        assert events[0].item_prefix == "" and events[0].code == "select_failed"
        assert "Zorg" in events[0].message and " / " in events[0].message
        assert events[1].value == cursor  # the folder's place is kept for the next run
        _, seen, _ = crawl_all(connector, f"{USER}/INBOX")  # the connection is still good
    assert proxy.count("EXAMINE") >= 3
