"""A small IMAP proxy between the connector and Dovecot: it logs the client's commands and
injects faults on a schedule, so the tests count what the server was asked (the second
unchanged run of an account must send no FETCH) and see real connection drops.

It speaks to Dovecot's plain port on loopback (the connector's ``security: plain`` is only
allowed there), so every command is visible. Faults, each for a number of times:

* ``fail_select[folder]``: answer ``SELECT``/``EXAMINE`` of that folder with ``NO [UNAVAILABLE]``
  (RFC 5530) instead of passing it on, as a server with a broken or locked mailbox does;
* ``cut_fetch``: pass a ``UID FETCH`` that asks for ``BODY.PEEK[]`` on, then cut the
  connection after a few bytes of the answer (a reset mid-FETCH);
* ``hide``: capabilities removed from the server's CAPABILITY answers (a server without
  QRESYNC, like Gmail);
* ``strip_flags``: folder attributes removed from LIST answers (a server without SPECIAL-USE,
  whose Trash is an ordinary folder);
* ``drop_status``: the ``* STATUS`` line of these folders removed from the answer to a
  ``LIST ... RETURN (STATUS ...)`` (RFC 5819 section 2: a server that cannot give a folder's
  status sends its LIST response alone).
"""

from __future__ import annotations

import re
import socket
import threading
from collections import Counter

_SELECT = re.compile(rb'^(\S+) (SELECT|EXAMINE) "?([^"\r\n]*)"?', re.IGNORECASE)


class ImapProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.commands: list[str] = []
        """Every client command as ``VERB args`` (UID commands as ``UID FETCH ...``); LOGIN's
        arguments are not kept."""
        self.fail_select: Counter[str] = Counter()
        self.cut_fetch = 0
        self.hide: set[bytes] = set()
        self.strip_flags: set[bytes] = set()
        self.drop_status: set[str] = set()
        self.lock = threading.Lock()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def count(self, verb: str) -> int:
        """How many commands started with ``verb`` (e.g. ``"UID FETCH"``)."""
        with self.lock:
            return sum(1 for c in self.commands if c.upper().startswith(verb.upper()))

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self._open += [client, upstream]
            cut = {"after": None}
            threading.Thread(target=self._client_to_server, args=(client, upstream, cut), daemon=True).start()
            threading.Thread(target=self._server_to_client, args=(upstream, client, cut), daemon=True).start()

    def _client_to_server(self, client: socket.socket, upstream: socket.socket, cut: dict) -> None:
        reader = client.makefile("rb")
        try:
            while line := reader.readline():
                tag, _, rest = line.rstrip(b"\r\n").partition(b" ")
                text = rest.decode(errors="replace")
                with self.lock:
                    self.commands.append("LOGIN" if text.upper().startswith("LOGIN") else text)
                select = _SELECT.match(line)
                with self.lock:
                    if select and self.fail_select[select.group(3).decode()] > 0:
                        self.fail_select[select.group(3).decode()] -= 1
                        client.sendall(tag + b" NO [UNAVAILABLE] Mailbox is temporarily unavailable\r\n")
                        continue
                    if self.cut_fetch > 0 and text.upper().startswith("UID FETCH") and "BODY.PEEK[]" in text.upper():
                        self.cut_fetch -= 1
                        cut["after"] = 40
                upstream.sendall(line)
        except OSError:
            pass
        finally:
            _close(client, upstream)

    def _server_to_client(self, upstream: socket.socket, client: socket.socket, cut: dict) -> None:
        try:
            while data := upstream.recv(65536):
                if self.hide and b"CAPABILITY" in data:
                    for capability in self.hide:
                        data = re.sub(rb" " + re.escape(capability) + rb"(?=[ \]\r])", b"", data)
                if self.strip_flags and b"LIST" in data:
                    for flag in self.strip_flags:
                        data = re.sub(rb" ?" + re.escape(flag) + rb"(?=[ )])", b"", data)
                for folder in self.drop_status:
                    data = re.sub(rb'\* STATUS "?' + re.escape(folder.encode()) + rb'"? \([^)]*\)\r\n', b"", data)
                if cut["after"] is not None:
                    client.sendall(data[: cut["after"]])
                    _close(client, upstream)
                    return
                client.sendall(data)
        except OSError:
            pass
        finally:
            _close(client, upstream)

    def close(self) -> None:
        self.sock.close()
        for sock in self._open:
            _close(sock)


def _close(*socks: socket.socket) -> None:
    for sock in socks:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
