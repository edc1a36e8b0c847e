"""Fixtures for the IMAP connector tests: one Dovecot per test module, fresh mail per test, the
connector's settings for it, and a counting proxy in front of it."""

from __future__ import annotations

import ssl

import pytest
from imapclient import IMAPClient

from connectors.imap import ImapConfig

from .dovecot_server import USERS, Dovecot, start_dovecot, stop_dovecot
from .imap_proxy import ImapProxy

USER = "juf.jansen@school.nl"


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Dovecot:
    server = start_dovecot(tmp_path_factory.mktemp("dovecot"))
    yield server
    stop_dovecot(server)


@pytest.fixture
def admin(dovecot: Dovecot) -> IMAPClient:
    """A direct IMAP session used to put mail in and check flags; the account starts empty."""
    client = IMAPClient(
        "127.0.0.1", port=dovecot.imaps_port, ssl=True,
        ssl_context=ssl.create_default_context(cafile=str(dovecot.ca_file)),
    )
    client.login(USER, USERS[USER])
    for _flags, _delim, name in client.list_folders():
        if name in {"INBOX", "Sent", "Trash", "Archive"}:
            client.select_folder(name)
            uids = client.search(["ALL"])
            if uids:
                client.delete_messages(uids)
                client.expunge()
            client.close_folder()
    for flags, _delim, name in sorted(client.list_folders(), key=lambda f: -len(f[2])):
        if (name not in {"INBOX", "Sent", "Trash", "Archive"} and b"\\NonExistent" not in flags
                and client.folder_exists(name)):  # a parent may vanish with its last child
            client.delete_folder(name)
    yield client
    client.logout()


@pytest.fixture
def config(dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> ImapConfig:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", USERS[USER])
    return ImapConfig(
        name="gmail-jansen",
        host="127.0.0.1",
        port=dovecot.imaps_port,
        security="tls",
        ca_file=dovecot.ca_file,
        username=USER,
        password={"env": "TEST_IMAP_PASSWORD"},
        batch_size=2,  # several batches even with a handful of messages
    )


@pytest.fixture
def proxy(dovecot: Dovecot):
    proxy = ImapProxy(dovecot.imap_port)
    yield proxy
    proxy.close()


@pytest.fixture
def proxied(config: ImapConfig, proxy: ImapProxy) -> ImapConfig:
    return config.model_copy(update={"security": "plain", "port": proxy.port, "ca_file": None})
