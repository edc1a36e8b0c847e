"""The FG's read-only page on ``schoonschip serve`` (issue 18, item 6): ``/fg``.

Separate from the teachers' links in every way: its own sign-in (:mod:`scanner.answers.fg_auth`:
a password hash from ``schoonschip fg-password``, signed expiring sessions, CSRF on the login
and logout forms, a limit on wrong passwords), its own cookies (path ``/fg``), and it shows
only what the FG report publishes: the figures as protected there, and the
vernietigingsverklaring download. Nothing on it changes anything in the store.

The page is the FG report itself (:mod:`reports.fg`, with the clean-up figures) plus a bar
with sign-out and the download form; it is computed at most every :data:`CACHE_SECONDS`
(the disclosure audit runs linear programs) in a worker thread, never on the event loop.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from scanner.answers.fg_auth import FailureLimit, FgSessions, Session, verify_password
from scanner.answers.fg_i18n import t
from scanner.answers.links import derive_key
from scanner.config import Settings
from scanner.store import Store

log = logging.getLogger(__name__)

FORM_COOKIE = "schoonschip_fg_form"
FORM_SECONDS = 1800
CACHE_SECONDS = 300
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
}
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
)


class FgPages:
    """The handlers of ``/fg`` with what they need (tests pass clocks)."""

    def __init__(self, settings: Settings, store: Store, secret: bytes, *,
                 clock: Callable[[], float] = time.time, now: Callable[[], datetime] | None = None) -> None:
        self.settings = settings
        self.store = store
        fg = settings.fg_page
        self._hash = fg.password_hash
        self.sessions = (FgSessions(derive_key(secret, b"schoonschip fg sessions v1"), self._hash,
                                    fg.session_minutes, clock) if self._hash else None)
        self._forms = URLSafeTimedSerializer(derive_key(secret, b"schoonschip fg forms v1"), salt="schoonschip fg form")
        self.limit = FailureLimit(fg.max_failures, fg.lockout_minutes, clock)
        self._now = now or (lambda: datetime.now(UTC))
        self._clock = clock
        public = settings.answers.public_url
        self._secure = bool(public and urlsplit(public).scheme == "https")
        self._cache: dict[str, tuple[float, Any]] = {}

    # -- helpers ---------------------------------------------------------------------------

    def _lang(self, request: Request, form: Any = None) -> str:
        wanted = (form.get("lang") if form is not None else None) or request.query_params.get("lang")
        return str(wanted) if wanted in ("nl", "en") else self.settings.report_language

    def _login_page(self, lang: str, status: int = 200, code: str = "", cookie: str | None = None) -> HTMLResponse:
        form = self.sessions is not None
        cookie = cookie or secrets.token_urlsafe(24)
        message = {"wrong": t("login.wrong", lang), "expired": t("login.expired", lang),
                   "ended": t("login.ended", lang), "csrf": t("login.csrf", lang), "off": t("login.off", lang),
                   "blocked": t("login.blocked", lang, minutes=self.settings.fg_page.lockout_minutes)}.get(code, "")
        html = _TEMPLATES.get_template("fg_login.html.j2").render(
            t=lambda key, **kw: t(key, lang, **kw), lang=lang, other="en" if lang == "nl" else "nl",
            school=self.settings.school.name, message=message, code=code, form=form,
            csrf=str(self._forms.dumps({"c": cookie})))
        response = HTMLResponse(html, status_code=status, headers=HEADERS)
        response.set_cookie(FORM_COOKIE, cookie, max_age=FORM_SECONDS, httponly=True, samesite="strict",
                            secure=self._secure, path="/fg")
        return response

    def _form_ok(self, form: Any, bound: str) -> bool:
        field = form.get("csrf")
        if not isinstance(field, str):
            return False
        try:
            data = self._forms.loads(field, max_age=FORM_SECONDS)
        except BadSignature:
            return False
        return isinstance(data, dict) and secrets.compare_digest(str(data.get("c", "")), bound)

    def _session(self, request: Request) -> tuple[Session | None, str]:
        if self.sessions is None:
            return None, "off"
        return self.sessions.read(request.cookies.get(FgSessions.COOKIE))

    def _to_login(self, lang: str, why: str) -> Response:
        query = f"?lang={lang}" + (f"&why={why}" if why in ("expired", "ended") else "")
        response = RedirectResponse(f"/fg/login{query}", status_code=303, headers=HEADERS)
        if why in ("expired", "forged", "ended"):
            response.delete_cookie(FgSessions.COOKIE, path="/fg")
        return response

    def _client(self, request: Request) -> str:
        return request.client.host if request.client else "?"

    # -- handlers --------------------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        lang = self._lang(request)
        if self.sessions is None:
            return self._login_page(lang, 503, "off")
        why = request.query_params.get("why", "")
        return self._login_page(lang, code=why if why in ("expired", "ended") else "")

    async def login(self, request: Request) -> Response:
        form = await request.form()
        lang = self._lang(request, form)
        if self.sessions is None or self._hash is None:
            return self._login_page(lang, 503, "off")
        cookie = request.cookies.get(FORM_COOKIE)
        if not cookie or not self._form_ok(form, cookie):
            return self._login_page(lang, 403, "csrf")
        client = self._client(request)
        if self.limit.blocked(client):
            log.warning("FG-aanmelding geblokkeerd na te veel pogingen / FG sign-in blocked after too many attempts")
            return self._login_page(lang, 429, "blocked")
        password = form.get("password")
        good = isinstance(password, str) and await run_in_threadpool(verify_password, password, self._hash)
        if not good:
            self.limit.failed(client)
            log.info("FG-aanmelding mislukt / FG sign-in failed")
            return self._login_page(lang, 401, "wrong")
        self.limit.succeeded(client)
        log.info("FG aangemeld / FG signed in")
        response = RedirectResponse(f"/fg?lang={lang}", status_code=303, headers=HEADERS)
        response.set_cookie(FgSessions.COOKIE, self.sessions.issue(), max_age=self.sessions.seconds, httponly=True,
                            samesite="strict", secure=self._secure, path="/fg")
        response.delete_cookie(FORM_COOKIE, path="/fg")
        return response

    async def logout(self, request: Request) -> Response:
        form = await request.form()
        lang = self._lang(request, form)
        session, why = self._session(request)
        if session is None:
            return self._to_login(lang, why)
        if not self._form_ok(form, session.ident):
            return self._login_page(lang, 403, "csrf")
        assert self.sessions is not None
        self.sessions.end(session)
        log.info("FG afgemeld / FG signed out")
        return self._to_login(lang, "ended")

    async def overview(self, request: Request) -> Response:
        lang = self._lang(request)
        session, why = self._session(request)
        if session is None:
            return self._to_login(lang, why)
        report = await run_in_threadpool(self._report, lang)
        today = self._now().date()
        nav = {"csrf": str(self._forms.dumps({"c": session.ident})), "logout": t("logout", lang),
               "other_href": f"/fg?lang={'en' if lang == 'nl' else 'nl'}", "other_language": t("other_language", lang),
               "readonly": t("readonly", lang), "vv_heading": t("vv.heading", lang), "vv_from": t("vv.from", lang),
               "vv_to": t("vv.to", lang), "vv_html": t("vv.html", lang), "vv_csv": t("vv.csv", lang),
               "start": date(today.year - 1, 1, 1).isoformat(), "end": today.isoformat()}
        return HTMLResponse(report.html(nav=nav), headers=HEADERS)

    async def declaration(self, request: Request) -> Response:
        lang = self._lang(request)
        session, why = self._session(request)
        if session is None:
            return self._to_login(lang, why)
        try:
            start = date.fromisoformat(request.query_params.get("from", ""))
            end = date.fromisoformat(request.query_params.get("to", ""))
            if start > end or end - start > timedelta(days=3660):
                raise ValueError
        except ValueError:
            return HTMLResponse(f"<!DOCTYPE html><p id='message'>{t('vv.bad_dates', lang)}</p>", status_code=400,
                                headers=HEADERS)
        made = await run_in_threadpool(self._declaration, lang, start, end)
        name = f"vernietigingsverklaring-{start.isoformat()}-{end.isoformat()}"
        if request.query_params.get("format") == "csv":
            return Response(made.csv().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                            headers={**HEADERS, "Content-Disposition": f'attachment; filename="{name}.csv"'})
        return HTMLResponse(made.html(), headers=HEADERS)

    # -- figures ---------------------------------------------------------------------------

    def _report(self, lang: str) -> Any:
        cached = self._cache.get(lang)
        if cached is not None and self._clock() - cached[0] < CACHE_SECONDS:
            return cached[1]
        from reports.fg import build_fg_report
        from scanner.jobs import fg_cleanup
        from scanner.reporting import fg_frames

        now = self._now()
        items, runs = fg_frames(self.store, self.settings)
        report = build_fg_report(items, runs, min_group_size=self.settings.reports.min_group_size, language=lang,
                                 school=self.settings.school.name, now=now)
        report.cleanup = fg_cleanup(self.store, self.settings, now=now, language=lang, runs=report.run_cells())
        self._cache[lang] = (self._clock(), report)
        return report

    def _declaration(self, lang: str, start: date, end: date) -> Any:
        from reports.cleanup import blocks_between, build_cleanup
        from reports.vernietiging import declaration
        from scanner.cleanup_data import cleanup_frames
        from scanner.jobs import fg_run_cells

        now = self._now()
        items, answers = cleanup_frames(self.store, self.settings)
        tz = self.settings.school.timezone
        figures = build_cleanup(items, answers, blocks=blocks_between(start, end, now, tz),
                                min_group_size=self.settings.reports.min_group_size, language=lang, now=now, tz=tz,
                                runs=fg_run_cells(self.store, self.settings, now))
        return declaration(figures, school=self.settings.school.name, start=start, end=end, issued=now)


def fg_routes(settings: Settings, store: Store, secret: bytes, *, clock: Callable[[], float] | None = None,
              now: Callable[[], datetime] | None = None) -> list[Route]:
    """The routes of ``/fg`` for the answer service's app (tests pass the clocks)."""
    pages = FgPages(settings, store, secret, clock=clock or time.time, now=now)
    return [Route("/fg", pages.overview, methods=["GET"]),
            Route("/fg/login", pages.login_form, methods=["GET"]),
            Route("/fg/login", pages.login, methods=["POST"]),
            Route("/fg/logout", pages.logout, methods=["POST"]),
            Route("/fg/vernietigingsverklaring", pages.declaration, methods=["GET"])]
