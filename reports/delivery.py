"""Sending teacher digests: the transports (outbox, SMTP, a send function), paced and recorded.

Every digest goes through the same steps: skip it when the ledger says it was already sent
for this period, render it (an empty digest is not sent and not recorded), wait for the rate
limiter, hand it to the transport, and record the outcome. A failure is recorded as
``failed`` with a reason and retried on the next call; a success is never repeated.

A transport raises :class:`DeliveryError` with a stable code. When the error means that no
further digest can get through either (the relay is down, the login is refused), it is
*fatal*: the remaining digests are recorded as failed with the same reason instead of
hammering a server that said no, and they are all retried next time.

Which transport the delivery settings ask for is decided in one place for all outgoing mail,
:mod:`scanner.outgoing` (digests and IT notifications alike): Graph and EWS send through a
configured source's connection, and ``reports`` does not import ``connectors``. Here Graph
and EWS are only a send function wrapped by :class:`CallableTransport`.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from reports.data import TeacherDigest
from reports.digest import RenderedDigest, render_digest
from reports.ledger import DeliveryLedger, ListingLedger
from reports.ratelimit import Clock, TokenBucket
from reports.settings import DeliverySettings

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A digest could not be delivered. ``str()`` is Dutch-first and never holds content."""

    def __init__(self, code: str, message: str, fatal: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.fatal = fatal

    @property
    def reason(self) -> str:
        return f"{self.code}: {self}"


class Transport(Protocol):
    def send(self, message: EmailMessage, recipient: str) -> None: ...

    def close(self) -> None: ...


# --- outbox ---------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]+")


class OutboxTransport:
    """Writes each digest as an ``.eml`` file: for a first look, or for another system to send.

    The folder is created private (0700) and files are 0600, because a digest lists subjects
    and file names, which are personal data.
    """

    def __init__(self, directory: Path, period: str | None = None) -> None:
        self.directory = Path(directory)
        self.period = period

    def send(self, message: EmailMessage, recipient: str) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            name = f"{_UNSAFE.sub('_', self.period or 'digest')}_{_UNSAFE.sub('_', recipient)}.eml"
            target = self.directory / name
            tmp = target.with_suffix(".eml.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(message.as_bytes())
            os.replace(tmp, target)
        except OSError as exc:
            raise DeliveryError(
                "outbox_failed",
                f"kan niet schrijven in de outbox-map ({exc.strerror}) / cannot write to the outbox folder",
                fatal=True,
            ) from None

    def close(self) -> None:
        pass


# --- SMTP -----------------------------------------------------------------------------------


class SmtpTransport:
    """One SMTP session for the whole batch, re-opened once when the server drops it."""

    def __init__(self, settings: DeliverySettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.settings.ca_file:
            context.load_verify_locations(cafile=str(self.settings.ca_file))
        return context

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        host = s.host or "localhost"
        try:
            if not s.starttls and s.port == 465:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, s.port, timeout=s.timeout,
                                                      context=self._tls_context())
            else:
                smtp = smtplib.SMTP(host, s.port, timeout=s.timeout)
            smtp.ehlo()
            if s.starttls:
                if not smtp.has_extn("starttls"):
                    smtp.close()
                    raise DeliveryError(
                        "tls_unavailable",
                        f"SMTP-server {host} biedt geen STARTTLS / SMTP server {host} offers no STARTTLS",
                        fatal=True,
                    )
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
            if s.username:
                _login(smtp, s.username, s.password.get() if s.password else "")
        except DeliveryError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                "auth_failed",
                f"SMTP-aanmelding geweigerd (code {exc.smtp_code}) / SMTP login refused (code {exc.smtp_code})",
                fatal=True,
            ) from None
        except ssl.SSLError as exc:
            raise DeliveryError(
                "tls_failed",
                f"TLS met {host} mislukt ({exc.reason}) / TLS with {host} failed ({exc.reason})",
                fatal=True,
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                "unreachable",
                f"SMTP-server {host}:{s.port} niet bereikbaar ({type(exc).__name__}) / "
                f"SMTP server {host}:{s.port} unreachable ({type(exc).__name__})",
                fatal=True,
            ) from None
        return smtp

    def send(self, message: EmailMessage, recipient: str) -> None:
        for attempt in (1, 2):
            if self._smtp is None:
                self._smtp = self._connect()
            try:
                self._smtp.send_message(message, from_addr=self.settings.sender, to_addrs=[recipient])
                return
            except smtplib.SMTPServerDisconnected:
                self._drop()
                if attempt == 2:
                    raise DeliveryError(
                        "disconnected",
                        "SMTP-server verbrak de verbinding / SMTP server closed the connection",
                    ) from None
            except smtplib.SMTPRecipientsRefused as exc:
                code = next(iter(exc.recipients.values()))[0] if exc.recipients else 0
                raise DeliveryError(
                    "recipient_refused",
                    f"ontvanger geweigerd (code {code}) / recipient refused (code {code})",
                ) from None
            except smtplib.SMTPSenderRefused as exc:
                raise DeliveryError(
                    "sender_refused",
                    f"afzender geweigerd (code {exc.smtp_code}) / sender refused (code {exc.smtp_code})",
                    fatal=True,
                ) from None
            except smtplib.SMTPResponseException as exc:
                raise DeliveryError(
                    "rejected",
                    f"bericht geweigerd (code {exc.smtp_code}) / message refused (code {exc.smtp_code})",
                ) from None
            except (OSError, smtplib.SMTPException) as exc:
                self._drop()
                raise DeliveryError(
                    "send_failed",
                    f"verzenden mislukt ({type(exc).__name__}) / sending failed ({type(exc).__name__})",
                ) from None

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            except OSError:
                pass
        self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
        self._drop()


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """Log in with one mechanism (PLAIN, else LOGIN) instead of smtplib's habit of trying
    every advertised mechanism in turn: one wrong password then costs one failed attempt
    against the account's lockout policy, not three."""
    advertised = smtp.esmtp_features.get("auth", "").upper().split()
    for mechanism, handler in (("PLAIN", smtp.auth_plain), ("LOGIN", smtp.auth_login)):
        if mechanism in advertised:
            smtp.user, smtp.password = user, password
            smtp.auth(mechanism, handler, initial_response_ok=True)  # raises when refused
            return
    smtp.login(user, password)


# --- Graph and EWS --------------------------------------------------------------------------


class CallableTransport:
    """Sends through a function ``send(sender, mime_bytes)``: Graph ``sendMail`` or an EWS
    helper. Exceptions are turned into :class:`DeliveryError` with the exception's ``code``
    attribute when it has one (connector errors do)."""

    FATAL_CODES = frozenset({"auth_failed", "access_denied", "unreachable"})

    def __init__(self, name: str, sender: str, send: Callable[[str, bytes], Any],
                 closer: Callable[[], Any] | None = None) -> None:
        self.name = name
        self.sender = sender
        self._send = send
        self._closer = closer

    def send(self, message: EmailMessage, recipient: str) -> None:
        try:
            self._send(self.sender, message.as_bytes())
        except DeliveryError:
            raise
        except Exception as exc:  # noqa: BLE001 - any client failure is one failed digest
            code = str(getattr(exc, "code", "") or f"{self.name}_failed")
            raise DeliveryError(
                code,
                f"verzenden via {self.name} mislukt ({type(exc).__name__}) / "
                f"sending through {self.name} failed ({type(exc).__name__})",
                fatal=code in self.FATAL_CODES,
            ) from None

    def close(self) -> None:
        if self._closer is not None:
            self._closer()


# --- the batch ------------------------------------------------------------------------------




@dataclass
class DeliverySummary:
    """Outcome of one delivery batch (counts, and per failed owner a content-free reason)."""

    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    already_sent: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    waited_seconds: float = 0.0

    @property
    def count(self) -> int:
        return len(self.sent) + len(self.failed) + len(self.already_sent) + len(self.empty)


def deliver_digests(
    digests: Iterable[TeacherDigest],
    settings: DeliverySettings,
    ledger: DeliveryLedger,
    period: str,
    *,
    open_transport: Callable[[], Transport],
    clock: Clock | None = None,
) -> DeliverySummary:
    """Render and deliver every digest that is not yet sent for ``period``.

    ``open_transport`` is called once, when the first digest that is not empty is ready to
    go, so a week without digests opens no connection; its :class:`DeliveryError` fails the
    batch (every digest is recorded as failed and retried next time). The batch closes the
    transport it opened. The application passes :func:`scanner.outgoing.open_transport`,
    which builds what the delivery settings ask for; ``clock`` paces the sending (see
    :class:`~reports.ratelimit.TokenBucket`).
    """
    summary = DeliverySummary()
    bucket = TokenBucket(settings.rate_per_minute, settings.burst, clock)
    active: Transport | None = None
    fatal: DeliveryError | None = None
    sender = settings.sender or "schoonschip@localhost"
    try:
        for digest in digests:
            owner = digest.owner
            if ledger.already_sent(owner, period):
                summary.already_sent.append(owner)
                continue
            try:
                rendered: RenderedDigest | None = render_digest(digest, settings.cap)
            except Exception as exc:  # noqa: BLE001 - one bad digest must not stop the batch
                _failed(summary, ledger, owner, period,
                        f"render_failed: opruimoverzicht niet te maken ({type(exc).__name__}) / "
                        f"digest could not be rendered ({type(exc).__name__})")
                continue
            if rendered is None:
                summary.empty.append(owner)
                continue
            if fatal is None and active is None:
                try:
                    active = open_transport()
                except DeliveryError as exc:
                    fatal = exc
            if fatal is not None:
                _failed(summary, ledger, owner, period, fatal.reason)
                continue
            assert active is not None
            try:
                message = rendered.to_mime(sender, period, sender_name=settings.sender_name)
            except (ValueError, TypeError, IndexError) as exc:
                _failed(summary, ledger, owner, period,
                        f"invalid_address: ongeldig e-mailadres ({type(exc).__name__}) / "
                        f"invalid e-mail address ({type(exc).__name__})")
                continue
            summary.waited_seconds += bucket.acquire()
            # Recorded before and after: a run that dies in between leaves "sending", which
            # is not "sent", so the next run sends again with the same Message-ID.
            if isinstance(ledger, ListingLedger):
                ledger.record_listed(owner, period, rendered.listed, dict(rendered.moves))
            ledger.record(owner, period, "sending", None)
            try:
                active.send(message, owner)
            except DeliveryError as exc:
                _failed(summary, ledger, owner, period, exc.reason)
                if exc.fatal:
                    fatal = exc
                continue
            ledger.record(owner, period, "sent", None)
            summary.sent.append(owner)
    finally:
        if active is not None:
            active.close()
    log.info("opruimoverzichten %s: %d verstuurd, %d mislukt, %d al verstuurd, %d leeg",
             period, len(summary.sent), len(summary.failed), len(summary.already_sent), len(summary.empty))
    return summary


def _failed(summary: DeliverySummary, ledger: DeliveryLedger, owner: str, period: str, reason: str) -> None:
    ledger.record(owner, period, "failed", reason)
    summary.failed[owner] = reason
