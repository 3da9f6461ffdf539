"""The dashboard web application (Starlette, Jinja2 templates, Plotly charts).

Routes only parse the request, check access with :mod:`orchestration.lib.dashboard.access`
and render the plain data of :mod:`orchestration.lib.dashboard.queries`. Every page, chart
data request and API route decides access on the server, from the signed session (pages)
or the bearer token (``/api/...``):

========================================  ==========  ====================================
route                                     who         what
========================================  ==========  ====================================
``GET /login``, ``POST /login``           anyone      login form (CSRF token, argon2)
``POST /logout``                          signed in   ends the session (CSRF token)
``GET /growth``                           operator    KPIs, inflections, interventions
``GET /groups``                           signed in   table and map of visible groups
``GET /groups/{group_id}``                allowed     one group's page
``GET /open?group_id=``                   signed in   the "open group" form, redirects
``GET /experiments``                      operator    experiments and interventions
``GET /charts/...json``                   as page     a chart's figure (Plotly JSON)
``GET /api/groups[/{group_id}]``          token       the same data as JSON
========================================  ==========  ====================================

The snapshot is opened read-only and reopened when a refresh renames a new one over it
(:class:`orchestration.lib.dashboard.snapshot.Snapshot`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import plotly
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from orchestration.lib.dashboard import access, charts, queries
from orchestration.lib.dashboard.i18n import negotiate_language, translator
from orchestration.lib.dashboard.snapshot import DashboardSettings, Snapshot, SnapshotMissing

__all__ = ["create_app"]

_HERE = Path(__file__).resolve().parent
_PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
_STATIC = {
    "plotly.min.js": (_PLOTLY_JS, "text/javascript"),
    "app.js": (_HERE / "static" / "app.js", "text/javascript"),
    "app.css": (_HERE / "static" / "app.css", "text/css"),
}
_SESSION_HOURS = 8
_LANGUAGE = re.compile(r"^[a-z]{2,8}$")
_TRENDS = ("growing", "stable", "shrinking", "new")
_SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class _Accounts:
    """The users file, re-read when it changes (an added user can log in at once)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._accounts: dict[str, access.Account] = {}
        access.load_accounts(path)  # a missing or invalid file stops the start here
        if not self.get():
            raise access.AccountError(f"dashboard users file {path} holds no account")

    def get(self) -> dict[str, access.Account]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            # Removed while serving: nobody is signed in any more.
            self._stamp, self._accounts = None, {}
            return self._accounts
        stamp = (stat.st_ino, stat.st_mtime_ns)
        if stamp != self._stamp:
            self._accounts = access.load_accounts(self.path)
            self._stamp = stamp
        return self._accounts


class _Timing:
    """ASGI middleware: security headers and ``Server-Timing: app;dur=<ms>`` on every
    response (the figure the speed check reads)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message):
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - started) * 1000
                headers = list(message.get("headers", []))
                headers.append((b"server-timing", f"app;dur={ms:.1f}".encode()))
                headers.extend(_SECURITY_HEADERS)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, timed_send)


def _fingerprint(account: access.Account) -> str:
    # Stored in the session: a re-created account (new password or token) ends old sessions.
    digest = hashlib.sha256(f"{account.password_hash}|{account.token_sha256}".encode())
    return digest.hexdigest()[:24]


def create_app(settings: DashboardSettings) -> Starlette:
    """Build the application.

    Parameters
    ----------
    settings : DashboardSettings
        Where the snapshot and the users file are.

    Returns
    -------
    starlette.applications.Starlette
        Ready for uvicorn or a test client.

    Raises
    ------
    orchestration.lib.dashboard.access.AccountError
        No users file, an invalid one, or one without accounts (no default account).
    ValueError
        An unusable session secret.
    """
    accounts = _Accounts(settings.users_path)
    snapshot = Snapshot(settings.serving_path)
    templates = Jinja2Templates(directory=str(_HERE / "templates"))
    templates.env.filters["fmt"] = _fmt
    templates.env.filters["pct"] = lambda v: "–" if v is None else f"{v * 100:.1f}%"
    templates.env.filters["signed"] = lambda v: "–" if v is None else f"{v:+.1f}"
    templates.env.filters["urlid"] = lambda v: quote(str(v), safe="")

    def session_account(request: Request) -> access.Account | None:
        name = request.session.get("name")
        account = accounts.get().get(name) if isinstance(name, str) else None
        if account is None or not hmac.compare_digest(
            str(request.session.get("fp", "")), _fingerprint(account)
        ):
            return None
        return account

    def csrf_token(request: Request) -> str:
        token = request.session.get("csrf")
        if not isinstance(token, str):
            token = secrets.token_urlsafe(24)
            request.session["csrf"] = token
        return token

    def render(request, name, account, status=200, **context):
        lang = negotiate_language(request.headers.get("accept-language"))
        try:
            cursor = snapshot.cursor()
            try:
                published = queries.publication(cursor)
            finally:
                cursor.close()
        except SnapshotMissing:
            published = None
        response = templates.TemplateResponse(
            request,
            name,
            {
                "t": translator(lang),
                "lang": lang,
                "account": account,
                "csrf": csrf_token(request),
                "publication": published,
                **context,
            },
            status_code=status,
        )
        response.headers["vary"] = "Accept-Language, Cookie"
        response.headers["cache-control"] = "no-store"
        return response

    def signed_in(request: Request) -> access.Account:
        account = session_account(request)
        if account is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise HTTPException(303, headers={"location": "/login?" + urlencode({"next": target})})
        return account

    def operator(request: Request) -> access.Account:
        account = signed_in(request)
        if account.role != "operator":
            raise HTTPException(403)
        return account

    def visible_group(cursor, account: access.Account, group_id: str) -> str:
        """The community_id of ``group_id`` if the caller may see it, else 403/404."""
        allowed = access.allowed_groups(cursor, account)
        community_id = access.resolve_group_id(cursor, group_id) if len(group_id) < 200 else None
        if not access.can_see_group(allowed, community_id):
            # A leader learns nothing about groups that are not theirs, not even existence.
            raise HTTPException(404 if allowed is None else 403)
        return community_id

    def groups_rows(cursor, account: access.Account, params) -> list[dict]:
        rows = snapshot.cached("groups_table", queries.groups_table)
        allowed = access.allowed_groups(cursor, account)
        return queries.filter_groups(rows, allowed=allowed, **_group_filters(params))

    def guarded(who):
        """Check the caller with ``who`` first, then give the handler a snapshot cursor."""

        def decorate(handler):
            def endpoint(request: Request):
                account = who(request)
                cursor = snapshot.cursor()
                try:
                    return handler(request, cursor, account)
                finally:
                    cursor.close()

            return endpoint

        return decorate

    # -- pages -------------------------------------------------------------------------

    def home(request: Request):
        account = signed_in(request)
        return RedirectResponse("/growth" if account.role == "operator" else "/groups", 303)

    def login_form(request: Request):
        return render(request, "login.html", session_account(request), next=_next(request))

    async def login(request: Request):
        form = await request.form()
        if not _same_token(form.get("csrf"), request.session.get("csrf")):
            raise HTTPException(403)
        name, password = str(form.get("name", ""))[:64], str(form.get("password", ""))[:256]
        account = access.authenticate(accounts.get(), name, password)
        if account is None:
            return render(
                request,
                "login.html",
                None,
                status=401,
                failed=True,
                next=_next(request, form.get("next")),
            )
        request.session.clear()
        request.session.update(
            {
                "name": account.name,
                "fp": _fingerprint(account),
                "at": int(time.time()),
                "csrf": secrets.token_urlsafe(24),
            }
        )
        return RedirectResponse(_next(request, form.get("next")) or "/", 303)

    async def logout(request: Request):
        form = await request.form()
        if not _same_token(form.get("csrf"), request.session.get("csrf")):
            raise HTTPException(403)
        request.session.clear()
        return RedirectResponse("/login", 303)

    @guarded(operator)
    def growth_page(request: Request, cursor, account):
        data = queries.growth(cursor)
        return render(request, "growth.html", account, data=data, charts=list(charts.GROWTH_CHARTS))

    @guarded(operator)
    def growth_chart(request: Request, cursor, account):
        chart = request.path_params["chart"]
        if chart not in charts.GROWTH_CHARTS:
            raise HTTPException(404)
        t = translator(negotiate_language(request.headers.get("accept-language")))
        return _figure(charts.growth_figure(queries.growth(cursor), chart, t))

    @guarded(signed_in)
    def groups_page(request: Request, cursor, account):
        rows = groups_rows(cursor, account, request.query_params)
        filters = _group_filters(request.query_params)
        return render(
            request,
            "groups.html",
            account,
            rows=rows,
            filters=filters,
            query=urlencode(_clean_query(request.query_params)),
            headers=_sort_headers(request.query_params, filters),
            trends=_TRENDS,
        )

    @guarded(signed_in)
    def groups_map(request: Request, cursor, account):
        rows = groups_rows(cursor, account, request.query_params)
        t = translator(negotiate_language(request.headers.get("accept-language")))
        return _figure(charts.groups_map_figure(rows, t))

    def open_group(request: Request):
        signed_in(request)
        group_id = request.query_params.get("group_id", "").strip()
        return RedirectResponse("/groups/" + quote(group_id, safe=""), 303)

    @guarded(signed_in)
    def group_page(request: Request, cursor, account):
        community_id = visible_group(cursor, account, request.path_params["group_id"])
        detail = queries.group_detail(cursor, community_id)
        if account.role != "operator":
            detail = access.leader_view(detail)
        return render(request, "group.html", account, d=detail, g=detail["group"])

    @guarded(signed_in)
    def group_chart(request: Request, cursor, account):
        community_id = visible_group(cursor, account, request.path_params["group_id"])
        chart = request.path_params["chart"]
        if chart not in ("health", "activity", "sentiment"):
            raise HTTPException(404)
        t = translator(negotiate_language(request.headers.get("accept-language")))
        if chart == "sentiment":
            data = {"sentiment": queries.group_sentiment(cursor, community_id)}
            return _figure(charts.sentiment_figure(data, t))
        data = {"health": queries.group_health(cursor, community_id)}
        builder = charts.health_figure if chart == "health" else charts.activity_figure
        return _figure(builder(data, t))

    @guarded(operator)
    def experiments_page(request: Request, cursor, account):
        return render(request, "experiments.html", account, data=queries.experiments(cursor))

    # -- JSON API ----------------------------------------------------------------------

    def api_account(request: Request) -> access.Account:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        account = None
        if scheme.lower() == "bearer" and token.strip():
            account = access.account_for_token(accounts.get(), token.strip())
        if account is None:
            raise HTTPException(401, headers={"www-authenticate": "Bearer"})
        return account

    @guarded(api_account)
    def api_groups(request: Request, cursor, account):
        rows = groups_rows(cursor, account, request.query_params)
        return _json({"groups": rows, "publication": queries.publication(cursor)})

    @guarded(api_account)
    def api_group(request: Request, cursor, account):
        community_id = visible_group(cursor, account, request.path_params["group_id"])
        detail = queries.group_detail(cursor, community_id)
        if account.role != "operator":
            detail = access.leader_view(detail)
        return _json(detail)

    def static(request: Request):
        entry = _STATIC.get(request.path_params["name"])
        if entry is None:
            raise HTTPException(404)
        return FileResponse(
            entry[0], media_type=entry[1], headers={"cache-control": "public, max-age=3600"}
        )

    # -- errors ------------------------------------------------------------------------

    async def http_error(request: Request, error: HTTPException):
        if error.status_code in (301, 302, 303, 307):
            return RedirectResponse(error.headers["location"], error.status_code)
        if request.url.path.startswith(("/api/", "/charts/")):
            return JSONResponse({"error": error.detail}, error.status_code, headers=error.headers)
        key = {403: "forbidden", 404: "not_found"}.get(error.status_code, "error")
        return render(
            request,
            "error.html",
            session_account(request),
            status=error.status_code,
            message_key=key,
            detail=None,
        )

    async def snapshot_missing(request: Request, error: SnapshotMissing):
        if request.url.path.startswith(("/api/", "/charts/")):
            return JSONResponse({"error": str(error)}, 503)
        return render(
            request,
            "error.html",
            session_account(request),
            status=503,
            message_key="error",
            detail=str(error),
        )

    routes = [
        Route("/", home),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/growth", growth_page),
        Route("/groups", groups_page),
        Route("/open", open_group),
        Route("/groups/{group_id:str}", group_page),
        Route("/experiments", experiments_page),
        Route("/charts/growth/{chart:str}.json", growth_chart),
        Route("/charts/groups-map.json", groups_map),
        Route("/charts/groups/{group_id:str}/{chart:str}.json", group_chart),
        Route("/api/groups", api_groups),
        Route("/api/groups/{group_id:str}", api_group),
        Route("/static/{name:str}", static),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(_Timing),
            Middleware(
                SessionMiddleware,
                secret_key=settings.session_secret(),
                session_cookie="smallgroups_session",
                max_age=_SESSION_HOURS * 3600,
                same_site="strict",
                https_only=False,
            ),
        ],
        exception_handlers={HTTPException: http_error, SnapshotMissing: snapshot_missing},
    )
    app.state.snapshot = snapshot
    # Plotly validates its first figure slowly (loads its schema): pay that at start-up.
    charts.health_figure({"health": []}, translator("en")).to_json()
    return app


def _same_token(sent, expected) -> bool:
    return (
        isinstance(sent, str)
        and isinstance(expected, str)
        and bool(expected)
        and (hmac.compare_digest(sent, expected))
    )


def _next(request: Request, value=None) -> str:
    """A safe place to go after login: a local path, never another site."""
    value = value if isinstance(value, str) else request.query_params.get("next", "")
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value[:500]
    return ""


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() and len(value) < 10 else None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value and len(value) < 20 else None
    except ValueError:
        return None


def _group_filters(params) -> dict:
    """The filters of the groups table from query parameters (bad values are ignored)."""
    kind = params.get("kind")
    trend = params.get("trend")
    language = params.get("language")
    return {
        "kind": kind if kind in ("declared", "detected") else None,
        "trend": trend if trend in _TRENDS else None,
        "language": language if language and _LANGUAGE.match(language) else None,
        "text": (params.get("q") or "")[:100] or None,
        "min_size": _int(params.get("min_size")),
        "min_health": _float(params.get("min_health")),
        "sort": params.get("sort") or "health_score",
        "descending": params.get("order", "desc") != "asc",
    }


def _clean_query(params) -> dict:
    keys = ("kind", "trend", "language", "q", "min_size", "min_health", "sort", "order")
    return {key: params[key][:100] for key in keys if params.get(key)}


#: Sortable columns of the groups table and their header's string key.
_HEADERS = (
    ("community_label", "label"),
    ("group_kind", "kind"),
    ("size", "size"),
    ("health_score", "health"),
    ("trend", "trend"),
    ("language", "language"),
    ("count_messages", "messages"),
)


def _sort_headers(params, filters: dict) -> list[dict]:
    """Header links of the groups table: a click sorts on it, a second click reverses."""
    kept = {k: v for k, v in _clean_query(params).items() if k not in ("sort", "order")}
    headers = []
    for column, key in _HEADERS:
        current = filters["sort"] == column
        order = ("asc" if filters["descending"] else "desc") if current else "desc"
        arrow = ("▼" if filters["descending"] else "▲") if current else ""
        headers.append(
            {
                "key": key,
                "arrow": arrow,
                "query": urlencode({**kept, "sort": column, "order": order}),
            }
        )
    return headers


def _fmt(value, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _figure(figure) -> Response:
    return Response(
        figure.to_json(), media_type="application/json", headers={"cache-control": "no-store"}
    )


def _json(data) -> Response:
    body = json.dumps(queries.jsonable(data), ensure_ascii=False, allow_nan=False)
    return Response(body, media_type="application/json", headers={"cache-control": "no-store"})
