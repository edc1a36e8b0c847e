"""``schoonschip serve``: the pages behind the digest's answer links (Starlette + uvicorn).

A GET never changes anything: mail link scanners (Safe Links) fetch every link in a mail
before the teacher sees it. The GET shows what the link would do and a form; only the POST
from that form acts. The form is protected against cross-site requests twice: a same-site
``HttpOnly`` cookie and a hidden field signed with itsdangerous that names both the cookie's
value and the link (double submit), so another site can neither read nor forge the pair.

Nothing personal goes into a log line: uvicorn's access log is off (its lines would hold the
link), our own lines give the action and counts only. Pages send ``Referrer-Policy:
no-referrer`` and ``Cache-Control: no-store``; no script runs on them.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from scanner.answers.fg_page import fg_routes
from scanner.answers.i18n import t
from scanner.answers.links import Claim, LinkCodec, LinkError, derive_key
from scanner.answers.model import FAILED, HOLD_REASONS, MOVED, TERUGDRAAIEN, VERWIJDEREN
from scanner.answers.service import (
    AnswerRefused,
    AnswerService,
    ConnectorFactory,
    ItemOutcome,
    registry_connector,
)
from scanner.answers.signin import CALLBACK, EntraSignIn, SignInFailed
from scanner.config import Settings
from scanner.core.dates import format_date
from scanner.core.privacy import ValueHasher, load_installation_secret
from scanner.store import Store, open_store
from scanner.store.rows import StoredItem

log = logging.getLogger(__name__)

COOKIE = "schoonschip_form"
FORM_SECONDS = 3600
_STATUS = {"forged": 400, "expired": 410, "used": 409, "not_yours": 403, "gone": 404, "bad_reason": 400,
           "archive": 409,
           "csrf": 403, "nothing_to_undo": 409, "not_found": 404, "signin_failed": 403, "signin_expired": 400}
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
}

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
)


class AnswerPages:
    """The request handlers, with what they need (kept out of globals so tests build many)."""

    def __init__(self, settings: Settings, service: AnswerService, codec: LinkCodec, form_key: bytes,
                 clock: Callable[[], float] | None = None, signin: EntraSignIn | None = None) -> None:
        self.settings = settings
        self.service = service
        self.codec = codec
        self.signin = signin
        self._forms = URLSafeTimedSerializer(form_key, salt="schoonschip answer form")
        self._clock = clock
        public = settings.answers.public_url
        self._secure = bool(public and urlsplit(public).scheme == "https")

    # -- helpers ---------------------------------------------------------------------------

    def _lang(self, request: Request, form: Any = None) -> str:
        wanted = (form.get("lang") if form is not None else None) or request.query_params.get("lang")
        if wanted in ("nl", "en"):
            return str(wanted)
        return self.settings.school.language

    def _page(self, lang: str, status: int = 200, **context: Any) -> HTMLResponse:
        other = "en" if lang == "nl" else "nl"
        html = _TEMPLATES.get_template("page.html.j2").render(
            t=lambda key, **kw: t(key, lang, **kw), lang=lang, school=self.settings.school.name,
            other_href=f"?lang={other}", **context)
        return HTMLResponse(html, status_code=status, headers=_HEADERS)

    def _error(self, lang: str, code: str) -> HTMLResponse:
        return self._page(lang, _STATUS.get(code, 400), page="error", code=code,
                          heading=t("error.title", lang), message=t(f"error.{code}", lang))

    def _claim(self, token: str) -> Claim:
        return self.codec.read(token, now=self._clock() if self._clock else None)

    def _gate(self, request: Request, claim: Claim) -> Response | None:
        """With ``sign_in: entra``: a redirect to sign in, or None when the link's owner is
        signed in (someone else: :class:`SignInFailed` ``not_yours``)."""
        if self.signin is None:
            return None
        return self.signin.require(request, [claim.owner])

    async def signed_in(self, request: Request) -> Response:
        """``GET /a/signin/callback``: the authority sends the browser back here."""
        assert self.signin is not None
        try:
            return self.signin.callback_response(request)
        except SignInFailed as exc:
            return self._error(self._lang(request), exc.code)

    def _form_token(self, cookie: str, claim: Claim) -> str:
        return str(self._forms.dumps({"c": cookie, "n": claim.nonce}))

    def _form_ok(self, request: Request, form: Any, claim: Claim) -> bool:
        cookie = request.cookies.get(COOKIE)
        field = form.get("csrf")
        if not cookie or not isinstance(field, str):
            return False
        try:
            data = self._forms.loads(field, max_age=FORM_SECONDS)
        except BadSignature:
            return False
        return isinstance(data, dict) and secrets.compare_digest(str(data.get("c", "")), cookie) \
            and data.get("n") == claim.nonce

    def _rows(self, lang: str, *, outcomes: list[ItemOutcome] | None = None, action: str = "",
              items: list[StoredItem] | None = None,
              standing: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        rows = []
        pairs: list[tuple[StoredItem, ItemOutcome | None]] = (
            [(o.item, o) for o in outcomes] if outcomes is not None else [(i, None) for i in items or []])
        for item, outcome in pairs:
            note, failed, code = "", False, ""
            if outcome is not None:
                code = outcome.outcome
                note, failed = _outcome_text(outcome, action, lang)
            elif standing and item.id in standing:
                answer = standing[item.id]
                note = t("standing", lang, answer=t(f"answer.{answer['action']}", lang),
                         date=format_date(answer["answered_at"], lang))
            rows.append({"key": item.id[:12], "title": item.title or "", "folder": item.folder or "",
                         "kind": t(f"kind.{item.kind if item.kind in ('mail', 'file') else 'file'}", lang),
                         "date": format_date(item.item_date, lang), "note": note, "failed": failed,
                         "outcome": code})
        return rows

    # -- handlers --------------------------------------------------------------------------

    async def show(self, request: Request) -> Response:
        token = request.path_params["token"]
        lang = self._lang(request)
        try:
            claim = self._claim(token)
            gate = self._gate(request, claim)
            if gate is not None:
                return gate
            items = self.service.check(claim)
        except (LinkError, AnswerRefused, SignInFailed) as exc:
            return self._error(lang, exc.code)
        cookie = request.cookies.get(COOKIE) or secrets.token_urlsafe(24)
        manual = claim.action == VERWIJDEREN and not all(
            self.service.can_remove(source) for source in {i.source for i in items})
        response = self._page(
            lang, page="confirm", action=claim.action, heading=t(f"confirm.{claim.action}", lang),
            rows=self._rows(lang, items=items, standing=self.service.last_answers(items)),
            manual=manual, reasons=HOLD_REASONS, csrf=self._form_token(cookie, claim),
            form_action=token, undo_action=None)
        response.set_cookie(COOKIE, cookie, max_age=FORM_SECONDS, httponly=True, samesite="strict",
                            secure=self._secure, path="/")
        return response

    async def act(self, request: Request) -> Response:
        token = request.path_params["token"]
        form = await request.form()
        lang = self._lang(request, form)
        try:
            claim = self._claim(token)
            gate = self._gate(request, claim)
        except (LinkError, SignInFailed) as exc:
            return self._error(lang, exc.code)
        if gate is not None:  # the sign-in ran out between the page and its button: back to
            # the page (same origin; a form's redirect to another site would break form-action)
            return RedirectResponse(request.url.path, status_code=303, headers=_HEADERS)
        if not self._form_ok(request, form, claim):
            return self._error(lang, "csrf")
        reason = form.get("reason") or None
        try:
            result = self.service.apply(claim, reason if isinstance(reason, str) else None)
        except AnswerRefused as exc:
            return self._error(lang, exc.code)
        undo_action = undo_csrf = None
        if claim.action != TERUGDRAAIEN:
            undo = self.codec.make(claim.owner, TERUGDRAAIEN, [o.item.id for o in result.items])
            undo_action = undo
            undo_csrf = self._form_token(request.cookies.get(COOKIE, ""), self._claim(undo))
        heading = t("done", lang) if claim.action != TERUGDRAAIEN else t("outcome.reversed", lang)
        return self._page(lang, page="result", action=claim.action, heading=heading,
                          rows=self._rows(lang, outcomes=result.items, action=claim.action), manual=False, reasons=(),
                          csrf="", form_action="", undo_action=undo_action, undo_csrf=undo_csrf,
                          undo_days=self.settings.answers.undo_days)

    async def health(self, request: Request) -> Response:
        return PlainTextResponse("ok", headers={"Cache-Control": "no-store"})

    async def not_found(self, request: Request, exc: Exception) -> Response:
        return self._error(self._lang(request), "not_found")


def _outcome_text(outcome: ItemOutcome, action: str, lang: str) -> tuple[str, bool]:
    """The line under an item on the result page, and whether it is a failure."""
    if action == TERUGDRAAIEN:
        if outcome.restored:
            return t("outcome.restored", lang, place=outcome.place or "?"), False
        if outcome.reverted_move:
            return t("outcome.reversed_move", lang, place=outcome.place or "?"), False
        return t("outcome.reversed", lang), False
    if outcome.outcome == MOVED:
        return (t("outcome.moved", lang, place=outcome.place) if outcome.place
                else t("outcome.moved_unknown", lang)), False
    if outcome.outcome == FAILED:
        return t("outcome.failed", lang, code=outcome.error_code or "action_failed"), True
    if outcome.manual:
        return t("outcome.manual", lang), False
    return t("outcome.recorded", lang), False


def build_app(settings: Settings, store: Store | None = None, *,
              connector_factory: ConnectorFactory = registry_connector,
              clock: Callable[[], datetime] | None = None,
              link_clock: Callable[[], float] | None = None,
              fg_clock: Callable[[], float] | None = None) -> Starlette:
    """The ASGI app of ``schoonschip serve`` (tests pass a connector factory and clocks)."""
    store = store or open_store(settings)
    secret = load_installation_secret(settings.secret_path, store)
    codec = codec_for(settings, secret)
    service = AnswerService(settings, store, connector_factory, hasher=ValueHasher(secret),
                            **({"clock": clock} if clock else {}))
    signin = EntraSignIn(settings, secret) if settings.answers.sign_in == "entra" else None
    pages = AnswerPages(settings, service, codec, derive_key(secret, b"schoonschip answer forms v1"),
                        clock=link_clock, signin=signin)
    extra = [Route(CALLBACK, pages.signed_in, methods=["GET"])] if signin is not None else []
    return Starlette(
        routes=[*extra,
                Route("/a/{token:str}", pages.show, methods=["GET"]),
                Route("/a/{token:str}", pages.act, methods=["POST"]),
                Route("/healthz", pages.health, methods=["GET"]),
                *fg_routes(settings, store, secret, clock=fg_clock, now=clock)],
        exception_handlers={404: pages.not_found, 405: pages.not_found},
    )


def codec_for(settings: Settings, secret: bytes) -> LinkCodec:
    return LinkCodec(secret, link_days=settings.answers.link_days, undo_days=settings.answers.undo_days)


def server(settings: Settings, app: Starlette, port: int | None = None) -> Any:
    """The uvicorn server for ``app``. Its access log is switched off for good: every line
    would carry a link (a key to an owner's items); our own log lines say what was done."""
    import uvicorn

    config = uvicorn.Config(app, host=settings.answers.listen, port=port or settings.answers.port,
                            access_log=False, server_header=False, proxy_headers=True,
                            forwarded_allow_ips=settings.answers.trusted_proxies or None, log_config=None)
    logging.getLogger("uvicorn.access").disabled = True
    return uvicorn.Server(config)


def serve(settings: Settings) -> None:
    """Run the service until stopped (SIGINT/SIGTERM); uvicorn handles the signals."""
    server(settings, build_app(settings)).run()
