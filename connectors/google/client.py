"""Google API access for both Google sources: credentials, services, and the request budget.

Why our own retry loop instead of ``execute(num_retries=...)``: the library's loop sleeps with
the wall clock, ignores ``Retry-After`` and cannot be bounded in total time; Google's usage-limit
pages ask for truncated exponential back-off on 429, on 403 ``rateLimitExceeded`` /
``userRateLimitExceeded`` and on 5xx, and a nightly batch must know how long one request can
hold a unit up. So every call goes through :meth:`GoogleApi.call`, which retries those within
``retry.max_attempts`` and ``retry.max_total_wait_seconds`` and turns everything else into a
:class:`GoogleError` with the status and Google's ``reason``, never the response body.

Services are built from the discovery documents shipped inside google-api-python-client
(``static_discovery=True``): nothing is downloaded at run time. ``api_endpoint`` replaces each
API's root URL (tests point it at the local fake). httplib2 is not thread-safe, so each
thread gets its own HTTP connection and service objects per impersonated user; the signed
credentials (one per user) are shared, google-auth refreshes them when they expire.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any

import google.auth.exceptions
import httplib2
from google.oauth2 import service_account
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from connectors.base import SourceError
from connectors.google.config import GoogleConnection

RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})
"""403 reasons that mean "slow down", not "no access" (Drive and Gmail usage-limit pages).
``dailyLimitExceeded`` is not among them: waiting minutes does not bring a day's quota back."""

APIS: dict[str, str] = {"gmail": "v1", "drive": "v3", "admin": "directory_v1"}
SERVICE_PATHS: dict[str, str] = {"gmail": "", "drive": "drive/v3/", "admin": ""}
"""Each API's ``servicePath`` in its shipped discovery document: ``api_endpoint`` replaces the
whole base URL (root and service path), so the service path is put back after the root."""


class GoogleError(Exception):
    """A Google API call failed for good (after the retry budget, or not retryable)."""

    def __init__(self, status: int, reason: str, message: str = "") -> None:
        super().__init__(f"Google {status} ({reason})")
        self.status = status
        self.reason = reason
        self.message = message

    @property
    def throttled(self) -> bool:
        return self.status == 429 or (self.status == 403 and self.reason in RATE_REASONS)

    def source_error(self, where: str) -> SourceError:
        """The unit-level error naming ``where`` (a user, a drive), never content."""
        if self.throttled:
            code = "throttled"
        elif self.status == 401 or self.reason in ("invalid_grant", "unauthorized_client", "authError"):
            code = "auth_failed"
        elif self.status == 403:
            code = "access_denied"
        elif self.status == 404 or self.reason in ("notFound", "failedPrecondition", "user_not_found"):
            code = "not_found"
        elif self.status == 0 or self.status >= 500:
            code = "unreachable"
        else:
            code = "protocol"
        return SourceError(code, f"{where}: Google {self.status} ({self.reason})")


def _reason(error: HttpError) -> str:
    """Google's machine reason (``errors[0].reason``, else ``error.status``) from the body."""
    try:
        body = json.loads(error.content.decode("utf-8", "replace"))
    except ValueError:
        return ""
    detail = body.get("error") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        errors = detail.get("errors") or []
        if errors and isinstance(errors[0], dict) and errors[0].get("reason"):
            return str(errors[0]["reason"])
        return str(detail.get("status") or "")
    return str(detail or "")


def _refresh_reason(error: google.auth.exceptions.RefreshError) -> str:
    """The OAuth2 ``error`` of a refused token request (``invalid_grant`` ...)."""
    for arg in error.args:
        if isinstance(arg, dict) and arg.get("error"):
            return str(arg["error"])
    text = str(error.args[0]) if error.args else ""
    return text.split(":", 1)[0].strip() or "refresh_failed"


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


class GoogleApi:
    """Builds per-user services and runs calls within the request budget."""

    def __init__(
        self,
        config: GoogleConnection,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self._sleep = sleep
        self._clock = clock
        self._rng = rng
        self._local = threading.local()
        self._lock = threading.Lock()
        self._credentials: dict[tuple[str, tuple[str, ...]], service_account.Credentials] = {}
        self._key: dict[str, Any] | None = None

    # -- credentials and services -------------------------------------------------------------

    def _key_info(self) -> dict[str, Any]:
        if self._key is None:
            try:
                info = json.loads(self.config.service_account_key.get())
            except ValueError:
                raise SourceError(
                    "auth_failed", "sleutelbestand is geen JSON / key file is not JSON"
                ) from None
            if not isinstance(info, dict) or info.get("type") != "service_account":
                raise SourceError(
                    "auth_failed",
                    "sleutelbestand is geen service-account-sleutel / key file is not a service account key",
                )
            self._key = info
        return self._key

    def credentials(self, subject: str, scopes: tuple[str, ...]) -> service_account.Credentials:
        with self._lock:
            found = self._credentials.get((subject, scopes))
            if found is None:
                info = dict(self._key_info())
                if self.config.token_uri:
                    info["token_uri"] = self.config.token_uri
                try:
                    found = service_account.Credentials.from_service_account_info(
                        info, scopes=list(scopes), subject=subject
                    )
                except (ValueError, KeyError):
                    raise SourceError(
                        "auth_failed", "service-account-sleutel onleesbaar / service account key unreadable"
                    ) from None
                self._credentials[(subject, scopes)] = found
            return found

    def service(self, api: str, subject: str, scopes: tuple[str, ...]) -> Any:
        """This thread's service object for ``api`` acting as ``subject``."""
        services: dict[tuple[str, str, tuple[str, ...]], Any] = getattr(self._local, "services", None) or {}
        self._local.services = services
        key = (api, subject, scopes)
        if key not in services:
            http = httplib2.Http(
                timeout=self.config.retry.timeout_seconds,
                ca_certs=str(self.config.ca_file) if self.config.ca_file else None,
            )
            authed = AuthorizedHttp(self.credentials(subject, scopes), http=http)
            root = self.config.api_endpoint
            options = {"api_endpoint": root.rstrip("/") + "/" + SERVICE_PATHS[api]} if root else None
            services[key] = build(
                api, APIS[api], http=authed, static_discovery=True, cache_discovery=False,
                client_options=options,
            )
        return services[key]

    # -- calls --------------------------------------------------------------------------------

    def call(
        self,
        api: str,
        subject: str,
        scopes: tuple[str, ...],
        make: Callable[[Any], Any],
    ) -> Any:
        """Run ``make(service).execute()`` with back-off; return the decoded response.

        Raises :class:`GoogleError` when the answer is final or the budget is spent;
        :class:`SourceError` for an unusable key.
        """
        policy = self.config.retry
        waited = 0.0
        last = GoogleError(0, "no_attempt")
        for attempt in range(1, policy.max_attempts + 1):
            advice: float | None = None
            try:
                return make(self.service(api, subject, scopes)).execute(num_retries=0)
            except HttpError as exc:
                status = int(exc.resp.status)
                last = GoogleError(status, _reason(exc))
                if not (last.throttled or status >= 500):
                    raise last from None
                advice = retry_after(exc.resp.get("retry-after"), self._clock())
            except google.auth.exceptions.RefreshError as exc:
                reason = _refresh_reason(exc)
                if getattr(exc, "retryable", False):
                    last = GoogleError(0, reason)
                else:
                    raise GoogleError(401, reason) from None
            except (google.auth.exceptions.TransportError, httplib2.HttpLib2Error, OSError) as exc:
                last = GoogleError(0, type(exc).__name__)
            if attempt == policy.max_attempts:
                break
            backoff = min(policy.backoff_max_seconds, policy.backoff_base_seconds * 2 ** (attempt - 1))
            wait = advice if advice is not None else backoff * (0.5 + self._rng() / 2)
            if waited + wait > policy.max_total_wait_seconds:
                break
            waited += wait
            self._sleep(wait)
        raise last

    def pages(
        self,
        api: str,
        subject: str,
        scopes: tuple[str, ...],
        make: Callable[[Any, str | None], Any],
    ) -> Iterator[dict[str, Any]]:
        """Follow ``nextPageToken`` through every page; ``make(service, token)`` builds one."""
        token: str | None = None
        while True:
            page = self.call(api, subject, scopes, partial(_page_request, make, token))
            yield page
            token = page.get("nextPageToken")
            if not token:
                return


def _page_request(make: Callable[[Any, str | None], Any], token: str | None, service: Any) -> Any:
    return make(service, token)
