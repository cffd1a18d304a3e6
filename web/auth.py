"""Web sessions: login, the session cookie, CSRF and lock-out; who is logged in.

Imports `models/` and `supervision/` only; never `bot/` or `notifier/`.

Sessions are server-side (`web.sessions`): the ``duban_session`` cookie carries a random id,
the database its hash, with the idle and absolute limits of ``WebConfig.sessions``. The
cookie is HttpOnly, SameSite=Lax, and Secure when the site is served over HTTPS.

CSRF: a random ``duban_csrf`` cookie (HttpOnly, SameSite=Lax) is set on first contact;
every form carries ``csrf_token`` = HMAC(secret, cookie value + person id). The middleware
refuses any POST/PUT/PATCH/DELETE without a valid token (form field ``csrf_token`` or header
``X-CSRF-Token``) with 403, except under `PASS_THROUGH_PREFIXES` and prefixes added with
``add_public_prefix`` (bearer-token API, Telegram webhook: they never use the cookie).

Login (`login`): throttled per account and per client address by `web.throttle` (a wait
that grows with the failures, never a refusal), the password checked off the event loop.

Who may see and do what is not decided here: the logged-in `Principal` carries its
`supervision.access.Scope`, and `web.access.require` asks it (see that module).

Helpers for other web modules:

- ``setup_auth(app)``: registers the middlewares (the admin part calls it once).
- ``viewer(request) -> Principal``: who is logged in (the middleware guarantees one on pages).
- ``csrf_token(request) -> str``: the value for the hidden ``csrf_token`` form field.
- ``add_public_prefix(app, prefix)``: a path prefix that needs no login and no CSRF token
  (webhooks, API with bearer tokens); ``/api/`` and ``/telegram/`` are public already.
- ``add_public_path(app, path)``: the same for one exact path (the Telegram webhook).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final
from urllib.parse import quote, unquote, urlsplit

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import LoginAttempt, Person
from supervision.access import Permission, Scope, Tier, scope_for, tier_of
from web.app import DEPS, WebDeps
from web.sessions import resume_session, start_session
from web.throttle import account_key, address_key, client_address, count_attempt, forgive

log = logging.getLogger("duban.web.auth")

SESSION_COOKIE: Final = "duban_session"
CSRF_COOKIE: Final = "duban_csrf"
CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "X-CSRF-Token"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
#: Pages that need no session (they still carry CSRF): logging in and choosing a language.
PUBLIC_PREFIXES: Final = ("/login", "/lang/")
#: Requests the middleware leaves alone (no session lookup, no CSRF check): static files,
#: probes, and routes that authenticate with a bearer token or a webhook secret header,
#: never with the cookie, so CSRF cannot apply to them.
PASS_THROUGH_PREFIXES: Final = ("/static/", "/livez", "/healthz", "/metrics", "/api/", "/telegram/")

EXTRA_PUBLIC = web.AppKey("auth_extra_public", list[str])
EXACT_PUBLIC = web.AppKey("auth_exact_public", set[str])

# A real argon2 hash of a random string, so an unknown email costs as much as a wrong password.
_DUMMY_HASH: Final = (
    "$argon2id$v=19$m=65536,t=3,p=4$Cw7Ji2mwUBeLjtikXjqAlA$"
    "DKRa0yI7KEMVCsHKMdjSkiJPmcK9y2SvI3Hkrj/+oW0"
)


@dataclass(frozen=True, slots=True)
class Principal:
    """The logged-in person, as plain values (safe to use after the session closed)."""

    person_id: int
    name: str
    email: str
    locale: str
    scope: Scope

    @property
    def tier(self) -> Tier:
        """The person's tier (a principal always has one)."""
        assert self.scope.tier is not None
        return self.scope.tier

    def allows(self, permission: Permission | str) -> bool:
        """True if the person's scope grants ``permission`` (templates pass its name)."""
        return self.scope.allows(Permission(permission))


PRINCIPAL_KEY: Final = web.RequestKey("duban_principal", Principal)
CSRF_KEY: Final = web.RequestKey("duban_csrf_value", str)


# --- signing --------------------------------------------------------------------------------


def _key(secret: str, purpose: str) -> bytes:
    return hashlib.sha256(f"duban:{purpose}:{secret}".encode()).digest()


def _sign(secret: str, purpose: str, data: bytes) -> str:
    mac = hmac.new(_key(secret, purpose), data, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def csrf_for(secret: str, cookie_value: str, person_id: int | None) -> str:
    """The form token that matches a CSRF cookie (and the logged-in person)."""
    return _sign(secret, "csrf", f"{cookie_value}:{person_id or 0}".encode())


# --- lock-out and login ---------------------------------------------------------------------


class LoginResult(StrEnum):
    """How a login attempt ended."""

    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    NO_ACCESS = "no_access"


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """A login's result and, when it succeeded, the new session's id (the cookie value)."""

    result: LoginResult
    session_id: str | None = None


async def login(deps: WebDeps, *, email: str, password: str, ip: str) -> LoginOutcome:
    """Count the attempt, wait what the throttle says, check the password, record it all.

    Three short steps, no connection held while waiting or hashing: count and read the
    account; wait and verify; record the attempt and, for the right password, start the
    session (if the account changed meanwhile, the attempt fails).
    """
    email = email.strip().lower()[:254]
    clock, guard = deps.clock, deps.login_guard
    keys = (account_key(email), address_key(ip))
    async with deps.sessions() as session, session.begin():
        failures = await count_attempt(session, keys, clock.now())
        person = await session.scalar(select(Person).where(func.lower(Person.email) == email))
        stored = person.password_hash if person is not None and person.active else None
    await guard.wait(failures - 1)
    # An unknown account costs as much as a wrong password.
    right = await guard.check_password(stored or _DUMMY_HASH, password) and stored is not None
    async with deps.sessions() as session, session.begin():
        result, session_id = LoginResult.BAD_CREDENTIALS, None
        current = await session.get(Person, person.id) if right and person else None
        if current is not None and current.active and current.password_hash == stored:
            if tier_of(current) is None:
                result = LoginResult.NO_ACCESS
            else:
                result = LoginResult.OK
                await forgive(session, account=keys[0], address=keys[1], now=clock.now())
                session_id = await start_session(
                    session, person=current, policy=deps.config.sessions, now=clock.now(), ip=ip
                )
        session.add(
            LoginAttempt(email=email, at=clock.now(), success=result is LoginResult.OK, ip=ip[:64])
        )
    if result is not LoginResult.OK:
        log.info("login refused for an account (%s)", result.value)
    return LoginOutcome(result, session_id)


def request_address(request: web.Request) -> str:
    """The client address of a request, through the trusted proxies only."""
    deps: WebDeps = request.app[DEPS]
    return client_address(request, deps.config.proxy_hops)


# --- the logged-in person -----------------------------------------------------------------


async def load_principal(session: AsyncSession, person: Person) -> Principal | None:
    """The principal for an active person with web access (None otherwise)."""
    scope = await scope_for(session, person)
    if scope.tier is None:
        return None
    return Principal(
        person_id=person.id,
        name=person.name,
        email=person.email or "",
        locale=person.locale or "zh",
        scope=scope,
    )


# --- request helpers ------------------------------------------------------------------------


def viewer(request: web.Request) -> Principal:
    """The logged-in principal; raises a redirect to /login when there is none."""
    principal = request.get(PRINCIPAL_KEY)
    if not isinstance(principal, Principal):
        raise web.HTTPSeeOther(login_url(request))
    return principal


def maybe_viewer(request: web.Request) -> Principal | None:
    """The logged-in principal or None (public pages)."""
    principal = request.get(PRINCIPAL_KEY)
    return principal if isinstance(principal, Principal) else None


def csrf_token(request: web.Request) -> str:
    """The token for this request's forms."""
    deps: WebDeps = request.app[DEPS]
    cookie = str(request.get(CSRF_KEY) or "")
    principal = maybe_viewer(request)
    return csrf_for(deps.config.secret_key, cookie, principal.person_id if principal else None)


def login_url(request: web.Request) -> str:
    """/login with a ``next`` pointing back at this page (GET only)."""
    if request.method == "GET" and request.path not in ("/", "/login"):
        return "/login?next=" + quote(request.path_qs, safe="")
    return "/login"


def safe_next(value: str | None) -> str:
    """A same-origin path to go to after login; anything else becomes ``/``.

    Judged as a browser reads the Location header: it drops tabs and newlines and takes a
    backslash for a slash, so a control character, space or backslash, a ``//`` start, or
    any of these hidden by percent-encoding (decoded until nothing changes) is refused.
    """
    if not value or len(value) > 2000 or not value.startswith("/"):
        return "/"
    decoded, previous = value, ""
    while decoded != previous:
        previous, decoded = decoded, unquote(decoded)
    if any(ord(c) < 0x21 or c in "\x7f\\" for c in value):
        return "/"  # the raw value: no space either (it would not be a valid Location)
    if decoded.startswith("//") or any(ord(c) < 0x20 or c in "\x7f\\" for c in decoded):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def set_session(response: web.StreamResponse, request: web.Request, value: str) -> None:
    """Attach the session cookie to a response."""
    deps: WebDeps = request.app[DEPS]
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=int(deps.config.sessions.lifetime.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=deps.config.secure_cookies,
        path="/",
    )


def clear_session(response: web.StreamResponse) -> None:
    """Remove the session cookie."""
    response.del_cookie(SESSION_COOKIE, path="/")


def add_public_prefix(app: web.Application, prefix: str) -> None:
    """Let requests under ``prefix`` through without a session or CSRF token: they must bring
    their own non-cookie auth (bearer token, webhook secret)."""
    if EXTRA_PUBLIC not in app:
        app[EXTRA_PUBLIC] = []
    app[EXTRA_PUBLIC].append(prefix)


def add_public_path(app: web.Application, path: str) -> None:
    """Like `add_public_prefix` for this one path only (a webhook mounted anywhere)."""
    if EXACT_PUBLIC not in app:
        app[EXACT_PUBLIC] = set()
    app[EXACT_PUBLIC].add(path)


def _is_public(request: web.Request) -> bool:
    return request.path.startswith(PUBLIC_PREFIXES)


# --- middlewares ----------------------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Load the principal from the session cookie; check CSRF; send anonymous users to /login."""
    extra = request.app.get(EXTRA_PUBLIC, [])
    if request.path.startswith((*PASS_THROUGH_PREFIXES, *extra)) or request.path in (
        request.app.get(EXACT_PUBLIC, ())
    ):
        return await handler(request)  # no cookie is read or needed here
    deps: WebDeps = request.app[DEPS]
    secret = deps.config.secret_key
    csrf_cookie = request.cookies.get(CSRF_COOKIE, "")
    new_csrf = None
    if len(csrf_cookie) < 32:
        csrf_cookie = new_csrf = secrets.token_urlsafe(32)
    request[CSRF_KEY] = csrf_cookie
    principal = await _principal_from_cookie(request, deps)
    clear = False
    if principal is not None:
        request[PRINCIPAL_KEY] = principal
    elif SESSION_COOKIE in request.cookies:
        clear = True
    if request.method not in SAFE_METHODS:
        await _check_csrf(request, secret, csrf_cookie, new_csrf is not None, principal)
    if principal is None and not _is_public(request):
        if request.method in SAFE_METHODS and request.headers.get("Accept", "").startswith(
            "application/json"
        ):
            raise web.HTTPUnauthorized(text="401: log in first")
        response: web.StreamResponse = web.HTTPSeeOther(login_url(request))
    else:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = exc
    if new_csrf is not None:
        response.set_cookie(
            CSRF_COOKIE,
            new_csrf,
            httponly=True,
            samesite="Lax",
            secure=deps.config.secure_cookies,
            path="/",
        )
    if clear:
        clear_session(response)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if isinstance(response, web.HTTPException):
        raise response
    return response


async def _principal_from_cookie(request: web.Request, deps: WebDeps) -> Principal | None:
    value = request.cookies.get(SESSION_COOKIE)
    if not value:
        return None
    async with deps.sessions() as session, session.begin():
        person = await resume_session(
            session, value, policy=deps.config.sessions, now=deps.clock.now()
        )
        if person is None:
            return None
        return await load_principal(session, person)


async def _check_csrf(
    request: web.Request,
    secret: str,
    cookie: str,
    cookie_is_new: bool,
    principal: Principal | None,
) -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        form = await request.post()
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else ""
    expected = csrf_for(secret, cookie, principal.person_id if principal else None)
    if cookie_is_new or not sent or not hmac.compare_digest(sent, expected):
        raise CsrfRefused(text="403: missing or invalid CSRF token; reload the page")


class CsrfRefused(web.HTTPForbidden):
    """403 for a form without a valid CSRF token (a stale page): the error page says so."""


def setup_auth(app: web.Application) -> None:
    """Install the auth middleware (once per app)."""
    if EXTRA_PUBLIC not in app:
        app[EXTRA_PUBLIC] = []
    app.middlewares.append(auth_middleware)
