"""A small Microsoft Graph HTTP client: tokens, per-mailbox limits, retries, paging.

Why not the Graph SDK (msgraph-sdk): it is async-first and pulls in kiota and a large
generated model, while we need a dozen endpoints and tight control over throttling,
streaming and what ends up in error messages. ``requests`` plus msal is enough and is
already a dependency.

The client is usable on its own, outside the connectors: the teacher digest uses
:meth:`GraphClient.send_mail`. It opens its HTTP session lazily, so building one is free.
"""

from __future__ import annotations

import base64
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import quote, urlsplit

import requests
import urllib3

from connectors.base import SourceError
from connectors.graph.auth import TokenEndpointBusy, TokenProvider
from connectors.graph.config import GraphConnection
from connectors.graph.throttle import (
    RETRY_AFTER_STATUSES,
    RETRYABLE_STATUSES,
    FailureTracker,
    MailboxLimiter,
    RetryPolicy,
    RetryState,
    parse_retry_after,
)

if TYPE_CHECKING:
    from requests.sessions import _Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

IMMUTABLE_ID = 'IdType="ImmutableId"'
SYNC_RESET_CODES = frozenset(
    {"syncstatenotfound", "syncstateinvalid", "resyncrequired", "resyncapplydifferences", "resyncuploaddifferences"}
)
"""Error codes that mean "this delta token is no longer valid, start over"."""


BATCH_LIMIT = 20
"""Requests in one JSON batch (``POST /$batch``), Graph's documented maximum."""


@dataclass(frozen=True)
class BatchRequest:
    """One GET inside a JSON batch: ``url`` relative to the version (``/users/...``)."""

    id: str
    url: str
    headers: Mapping[str, str]


@dataclass(frozen=True)
class BatchAnswer:
    """One response of a JSON batch: its status, headers (names lower-cased) and body."""

    status: int
    headers: Mapping[str, str]
    body: Any

    @property
    def code(self) -> str:
        """Graph's error code in the body (``http<status>`` without one), as :class:`GraphError` has it."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        if isinstance(error, dict) and isinstance(error.get("code"), str):
            return str(error["code"])
        return f"http{self.status}"


class GraphError(Exception):
    """A non-retryable answer from Graph (4xx). Carries the status and Graph's error code only,
    never the message text, which may quote ids or names."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(status, code)
        self.status = status
        self.code = code

    def __str__(self) -> str:
        return f"Graph {self.status} {self.code}"

    @property
    def sync_reset(self) -> bool:
        """True when a delta token expired or was invalidated (410, syncStateNotFound...)."""
        return self.status == 410 or self.code.lower() in SYNC_RESET_CODES

    def source_error(self, what: str) -> SourceError:
        """Translate into the connector contract's error, naming ``what`` failed."""
        code = {401: "auth_failed", 403: "access_denied", 404: "not_found"}.get(
            self.status, "unreachable" if self.status >= 500 else "protocol"
        )
        return SourceError(
            code,
            f"{what}: Graph antwoordde {self.status} ({self.code}) / Graph answered {self.status} ({self.code})",
        )


def path_id(value: str) -> str:
    """Quote an id or address for use as one URL path segment (ids may contain ``/``, ``+``, ``=``)."""
    return quote(value, safe="@")


def _error_code(response: requests.Response) -> str:
    """Graph's ``{"error": {"code": ...}}``, or ``http<status>`` when the body is not JSON."""
    try:
        body = response.json()
    except ValueError:
        return f"http{response.status_code}"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return error["code"]
    if isinstance(error, str):  # OAuth style {"error": "invalid_client"}
        return error
    return f"http{response.status_code}"


def _failed_before_sending(exc: requests.RequestException) -> bool:
    """True when the request never left: no connection could be made."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _untrusted_tls(what: str) -> SourceError:
    """The error for a certificate Graph's host presents that we do not trust."""
    return SourceError(
        "unreachable",
        f"{what}: TLS-certificaat van Graph niet vertrouwd (ca_file?) / "
        "Graph TLS certificate not trusted (ca_file?)",
    )


class _TimeoutSession(requests.Session):
    """A session that never waits forever (msal calls it without a timeout)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._default_timeout = timeout
        self._environment: dict[tuple[str, ...], _Settings] = {}

    def merge_environment_settings(self, url: str | bytes | None, proxies: Any, stream: Any, verify: Any,
                                   cert: Any) -> _Settings:
        """requests' own, remembered per host and arguments for the session's life (one run).

        requests reads the proxy variables afresh for every request, walking the whole
        environment twice (``getproxies`` and ``proxy_bypass``): a third of the client's own CPU
        per delta page on an unchanged night. The answer depends only on the environment, the
        URL's scheme and host and the arguments, none of which change during a run."""
        text = url.decode() if isinstance(url, bytes) else url or ""
        parts = urlsplit(text)
        key = (parts.scheme, parts.netloc, repr(sorted((proxies or {}).items())), repr(stream), repr(verify),
               repr(cert))
        settings = self._environment.get(key)
        if settings is None:
            settings = self._environment[key] = super().merge_environment_settings(url, proxies, stream, verify,
                                                                                   cert)
        # A copy each time: the adapter may adjust what it is given.
        answer = settings.copy()
        answer["proxies"] = dict(settings["proxies"])
        return answer

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", self._default_timeout)
        # requests lets REQUESTS_CA_BUNDLE override a session's verify; a configured
        # ca_file must win, so pass it per request.
        kwargs.setdefault("verify", self.verify)
        return super().request(method, url, *args, **kwargs)


@dataclass(frozen=True)
class _Consumed(Generic[T]):
    """What ``consume`` returned, told apart from a response that the retry loop must judge."""

    value: T


class GraphClient:
    """Authenticated, throttled access to one tenant's Graph endpoint.

    Thread-safe: the token provider, the per-mailbox limiter and the failure tracker are
    shared by all threads; ``requests.Session`` pools connections across them.
    """

    def __init__(
        self,
        conn: GraphConnection,
        *,
        user_agent: str = "schoonschip",
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        token_clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.conn = conn.connection() if type(conn) is not GraphConnection else conn
        self.user_agent = user_agent
        retry = self.conn.retry
        self.policy = RetryPolicy(
            max_attempts=retry.max_attempts,
            max_total_wait=retry.max_total_wait_seconds,
            base=retry.backoff_base_seconds,
            cap=retry.backoff_max_seconds,
            sleep=sleep,
            rng=rng,
        )
        self.limiter = MailboxLimiter(limit=self.conn.max_concurrent_per_mailbox)
        self.failures = FailureTracker(limit=retry.mailbox_failure_limit, clock=clock)
        self._token_clock = token_clock
        self._session: requests.Session | None = None
        self._tokens: TokenProvider | None = None
        self._lock = threading.Lock()
        base = urlsplit(self.conn.graph_url)
        self._netloc = base.netloc.lower()
        self.base_url = self.conn.graph_url

    def __getstate__(self) -> dict[str, Any]:
        """Only the configuration travels: a worker opens its own session and gets its own token."""
        return {"conn": self.conn, "user_agent": self.user_agent}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["conn"], user_agent=state["user_agent"])  # type: ignore[misc]

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def session(self) -> requests.Session:
        """The HTTP session, created on first use (never at construction or unpickling)."""
        with self._lock:
            if self._session is None:
                session = _TimeoutSession(self.conn.retry.timeout_seconds)
                if self.conn.ca_file is not None:
                    session.verify = str(self.conn.ca_file)
                session.headers["User-Agent"] = self.user_agent
                self._session = session
                self._tokens = TokenProvider(self.conn, session, clock=self._token_clock)
            return self._session

    @property
    def tokens(self) -> TokenProvider:
        self.session  # noqa: B018 - creates the provider together with the session
        assert self._tokens is not None
        return self._tokens

    def url(self, path_or_url: str) -> str:
        """An absolute URL on the configured Graph host.

        Links handed back by Graph (nextLink, deltaLink) and stored cursors are followed only
        when they point at the configured host, so a tampered cursor cannot make us send the
        bearer token elsewhere.
        """
        if path_or_url.startswith(("https://", "http://")):
            if urlsplit(path_or_url).netloc.lower() != self._netloc:
                raise SourceError(
                    "protocol",
                    "link wijst naar een andere host dan graph_url / link points to a host other than graph_url",
                )
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        mailbox: str | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: bytes | str | None = None,
        consume: Callable[[requests.Response], T] | None = None,
        what: str = "Graph",
        item: bool = False,
        idempotent: bool | None = None,
    ) -> T | requests.Response:
        """Send one request with token, per-mailbox slot and bounded retries.

        ``consume`` runs inside the mailbox slot and the retry loop with a streaming response,
        so a body read that breaks off is retried too and a large download counts against the
        mailbox's concurrency. Without it the body is read completely and the response
        returned. A 4xx answer raises :class:`GraphError`; exhausted retries raise
        :class:`SourceError` (``throttled`` or ``unreachable``).

        ``item`` says the request is about one item (its content, its place, its label): when
        it runs out of retries, that costs the item, not the mailbox. Only listing requests
        (folders, delta pages) count towards giving a mailbox up for the run
        (:class:`FailureTracker`), so two unlucky downloads do not block a whole mailbox.

        ``idempotent`` overrides the method's default (every method but POST): a POST whose
        repetition changes nothing (a move to a fixed folder by immutable id) may be retried
        after a connection lost mid-request like a GET.
        """
        self._refuse_if_blocked(mailbox, what)
        url = self.url(path)
        state = RetryState(self.policy)
        renewed = False
        # A POST (sendMail) that may have reached Graph is not repeated: a teacher should not
        # get the same digest twice. It is retried only when Graph surely did not act on it.
        if idempotent is None:
            idempotent = method.upper() != "POST"
        counted = None if item else mailbox
        while True:
            token = self._token(state, what)
            try:
                outcome = self._exchange(method, url, token, mailbox=mailbox, params=params, headers=headers,
                                         json=json, data=data, consume=consume)
            except requests.exceptions.SSLError as exc:
                # A certificate problem is configuration, not a passing fault: do not retry.
                raise _untrusted_tls(what) from exc
            except requests.RequestException as exc:
                self.policy.sleep(self._network_wait(exc, state, idempotent=idempotent, mailbox=counted, what=what))
                continue
            if isinstance(outcome, _Consumed):
                return outcome.value
            if outcome.status_code == 401 and not renewed:
                # The token expired or was revoked mid-crawl: get a fresh one, retry once.
                renewed = True
                self.tokens.invalidate(token)
                continue
            wait = self._status_wait(outcome, state, idempotent=idempotent, mailbox=counted, what=what)
            if wait is not None:
                self.policy.sleep(wait)
                continue
            if outcome.status_code >= 400:
                raise GraphError(outcome.status_code, _error_code(outcome))
            return outcome

    def _token(self, state: RetryState, what: str) -> str:
        """A valid token; Entra's 429/5xx and network faults on the way are retried within the
        same budget as the request itself (``state``), honouring Entra's Retry-After.

        Nothing of the Graph request has been sent yet, so even a POST may be repeated here.
        A lasting failure is ``unreachable`` with the cause; a refused credential stays
        ``auth_failed`` (raised by the provider, not retried).
        """
        while True:
            try:
                return self.tokens.token()
            except TokenEndpointBusy as exc:
                wait = state.next_wait(exc.retry_after)
                log.info("Entra token endpoint %d, attempt %d, waiting %s", exc.status, state.attempts, wait)
                if wait is None:
                    raise SourceError(
                        "unreachable",
                        f"{what}: Entra-tokenservice gaf {exc.status} na {state.attempts} pogingen / "
                        f"Entra token endpoint returned {exc.status} after {state.attempts} attempts",
                    ) from exc
            except requests.exceptions.SSLError as exc:
                raise _untrusted_tls(what) from exc
            except requests.RequestException as exc:
                wait = state.next_wait(None)
                log.info("Entra network fault (%s), attempt %d", type(exc).__name__, state.attempts)
                if wait is None:
                    raise SourceError(
                        "unreachable",
                        f"{what}: aanmelden bij Entra mislukt na {state.attempts} pogingen: netwerk / "
                        f"sign-in to Entra failed after {state.attempts} attempts: network",
                    ) from exc
            self.policy.sleep(wait)

    def _refuse_if_blocked(self, mailbox: str | None, what: str) -> None:
        """A mailbox whose listings kept failing in this run is not tried again (it would cost
        every one of its folders and items a full round of retries)."""
        if self.failures.blocked(mailbox):
            raise SourceError(
                "unreachable",
                f"{what}: mailbox {mailbox} faalde al herhaaldelijk in deze run / "
                f"mailbox {mailbox} already failed repeatedly in this run",
            )

    def _exchange(
        self,
        method: str,
        url: str,
        token: str,
        *,
        mailbox: str | None,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        json: Any,
        data: bytes | str | None,
        consume: Callable[[requests.Response], T] | None,
    ) -> _Consumed[T] | requests.Response:
        """One attempt, inside the mailbox's slot: the body is read (or ``consume``d) before
        the slot is given back, so a download counts against the mailbox's concurrency."""
        send_headers = {
            "Authorization": f"Bearer {token}",
            "client-request-id": str(uuid.uuid4()),
            **(headers or {}),
        }
        with self.limiter.slot(mailbox):
            response = self.session.request(
                method, url, params=params, headers=send_headers, json=json, data=data,
                stream=True, allow_redirects=True,
            )
            try:
                if response.status_code < 400 and consume is not None:
                    return _Consumed(consume(response))
                response.content  # noqa: B018 - read the body inside the slot
            finally:
                if consume is not None:
                    response.close()
        return response

    def _network_wait(self, exc: requests.RequestException, state: RetryState, *, idempotent: bool,
                      mailbox: str | None, what: str) -> float:
        """How long to wait before retrying after a network fault; raises when the request
        must not be repeated (a POST that may have arrived) or the retries are used up."""
        if not idempotent and not _failed_before_sending(exc):
            raise SourceError(
                "unreachable",
                f"{what}: verbinding verbroken na verzenden, niet herhaald / "
                "connection lost after sending, not repeated",
            ) from exc
        wait = state.next_wait(None)
        log.info("Graph network fault (%s), attempt %d", type(exc).__name__, state.attempts)
        if wait is None:
            self._give_up(mailbox)
            raise SourceError(
                "unreachable",
                f"{what}: Graph onbereikbaar na {state.attempts} pogingen / "
                f"Graph unreachable after {state.attempts} attempts",
            ) from exc
        return wait

    def _status_wait(self, response: requests.Response, state: RetryState, *, idempotent: bool,
                     mailbox: str | None, what: str) -> float | None:
        """How long to wait before retrying a throttled or failing answer (honouring
        Retry-After); None when the status is not one to retry; raises when retries are used up.
        A POST is retried only on statuses that say Graph did not act on it."""
        status = response.status_code
        if status not in (RETRYABLE_STATUSES if idempotent else RETRY_AFTER_STATUSES):
            return None
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        wait = state.next_wait(retry_after)
        log.info("Graph %d, attempt %d, waiting %s", status, state.attempts, wait)
        if wait is None:
            self._give_up(mailbox)
            code = "throttled" if status == 429 else "unreachable"
            raise SourceError(
                code,
                f"{what}: Graph gaf {status} na {state.attempts} pogingen / "
                f"Graph returned {status} after {state.attempts} attempts",
            )
        return wait

    def check_sign_in(self) -> None:
        """Get a token now, so a wrong credential is one source error, not one per mailbox
        (Entra's passing faults are retried like any request's)."""
        self._token(RetryState(self.policy), "aanmelden / sign-in")

    def _give_up(self, mailbox: str | None) -> None:
        if mailbox is not None:
            self.failures.record(mailbox)

    # -- conveniences -------------------------------------------------------------------------

    def get_json(self, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.request("GET", path, **kwargs)
        assert isinstance(response, requests.Response)
        try:
            body = response.json()
        except ValueError as exc:
            raise SourceError("protocol", "Graph gaf geen JSON / Graph returned no JSON") from exc
        if not isinstance(body, dict):
            raise SourceError("protocol", "Graph gaf onverwachte JSON / Graph returned unexpected JSON")
        return body

    def pages(self, path: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Yield every page of a collection, following ``@odata.nextLink``.

        The last page is the one without a nextLink; for delta queries it carries
        ``@odata.deltaLink``. Query parameters are only sent with the first request, because
        Graph encodes them into the links it returns. ``first`` is a first page already
        fetched (a JSON batch's answer, :meth:`batch`): paging then starts with its nextLink.
        """
        first = kwargs.pop("first", None)
        page = first if first is not None else self.get_json(path, **kwargs)
        kwargs.pop("params", None)
        while True:
            yield page
            next_link = page.get("@odata.nextLink")
            if not next_link:
                return
            page = self.get_json(next_link, **kwargs)

    def items(self, path: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every element of a paged collection."""
        for page in self.pages(path, **kwargs):
            yield from page.get("value", [])

    def relative(self, link: str) -> str | None:
        """``link`` relative to the configured version (``/users/...``), as a ``$batch`` request
        names it; None for a link elsewhere (another version such as beta, another host)."""
        prefix = self.base_url.rstrip("/") + "/"
        return "/" + link[len(prefix):] if link.startswith(prefix) else None

    def batch(self, calls: Sequence[BatchRequest], *, what: str = "$batch") -> dict[str, BatchAnswer] | None:
        """Send up to :data:`BATCH_LIMIT` GET requests in one ``POST /$batch`` (JSON batching).

        Returns each request's answer by its id; a request Graph did not answer is missing.
        The batch as a whole is retried like any request (429/503 honouring Retry-After, other
        5xx, network faults: it holds only GETs, so repeating it changes nothing); when it
        still fails, or answers something that is not a batch response, the result is None and
        the caller sends the requests one by one. Nothing counts against a mailbox here: the
        plain requests that follow a failure do, as before.
        """
        if not calls or len(calls) > BATCH_LIMIT:
            raise ValueError(f"a batch holds 1 to {BATCH_LIMIT} requests")
        payload = {"requests": [{"id": r.id, "method": "GET", "url": r.url, "headers": dict(r.headers)}
                                for r in calls]}
        try:
            response = self.request("POST", "$batch", json=payload, what=what, idempotent=True)
            assert isinstance(response, requests.Response)
            body = response.json()
        except (GraphError, SourceError, ValueError) as exc:
            log.info("Graph batch failed (%s): requests sent one by one", type(exc).__name__)
            return None
        if not isinstance(body, dict):
            return None
        answers: dict[str, BatchAnswer] = {}
        wanted = {r.id for r in calls}
        responses = body.get("responses")
        for entry in responses if isinstance(responses, list) else []:
            if not isinstance(entry, dict) or entry.get("id") not in wanted or not isinstance(entry.get("status"), int):
                continue
            headers = entry.get("headers")
            answers[entry["id"]] = BatchAnswer(
                status=entry["status"],
                headers={str(k).lower(): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {},
                body=entry.get("body"),
            )
        return answers

    # -- for other parts of the product --------------------------------------------------------

    def send_mail(self, sender: str, mime_bytes: bytes) -> None:
        """Send a ready-made MIME message as ``sender`` (needs the Mail.Send permission).

        Graph takes MIME as base64 text with ``Content-Type: text/plain``; the message is saved
        to the sender's Sent Items. Used for teacher digests.
        """
        try:
            self.request(
                "POST",
                f"users/{path_id(sender)}/sendMail",
                mailbox=sender,
                headers={"Content-Type": "text/plain"},
                data=base64.b64encode(mime_bytes),
                what="sendMail",
            )
        except GraphError as exc:
            raise exc.source_error("sendMail") from None

    def close(self) -> None:
        with self._lock:
            if self._session is not None:
                self._session.close()
            self._session = None
            self._tokens = None

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
