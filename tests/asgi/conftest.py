"""Starlette and FastAPI apps behind RavenMiddleware, configured for a local
test WLS, and a TestClient that knows the Ucam-WebAuth round trip."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from tests.browsing import secrets_of
from tests.servers import Uvicorn

from raven import pending
from raven.asgi import RavenMiddleware, RavenUser, logout, raven_user
from raven.flow import State
from raven.guard import LoginCookie
from raven.settings import Settings
from raven.testing import login

BASE = "https://www.example.cam.ac.uk"
LOCAL_WLS = "http://127.0.0.1:5001"
SECRET = "asgi test secret"
#: The login cookie's name on an https origin, and a signer like the middleware's.
COOKIE = "__Host-raven"
SIGNER_SETTINGS = Settings.from_config(None, {"origin": BASE, "wls": LOCAL_WLS})
SIGNER = LoginCookie(SECRET, SIGNER_SETTINGS)


def settings_dict(**overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"origin": BASE, "wls": LOCAL_WLS, "desc": "Test site"}
    options.update(overrides)
    return {k: v for k, v in options.items() if v is not _DROP}


async def whoami(request: Request) -> JSONResponse:
    user = request.user
    return JSONResponse({
        "authenticated": user.is_authenticated,
        "name": user.display_name,
        "scopes": list(request.auth.scopes),
        "raven": {**request.scope["raven"], "ptags": sorted(request.scope["raven"]["ptags"] or [])},
    })


async def home(request: Request) -> PlainTextResponse:
    return PlainTextResponse("You are " + request.user.display_name)


def build_starlette(
    *, protect: Any = ("/", ), exempt: Any = ("/public", "/logout"), session: bool = False,
    **options: Any,
) -> Starlette:
    """Every path protected but /public and /logout (unless told otherwise)."""
    middleware = [Middleware(SessionMiddleware, secret_key="session secret",
                             https_only=True)] if session else []
    middleware.append(Middleware(
        RavenMiddleware, secret_key=None if session else SECRET, session=session,
        protect=protect, exempt=exempt,
        **settings_dict(**options),
    ))
    routes = [
        Route("/", home),
        Route("/page", home, methods=["GET", "POST", "PUT", "DELETE"]),
        Route("/public", whoami),
        Route("/logout", logout, methods=["POST"]),
    ]
    return Starlette(routes=routes, middleware=middleware)


STAFF = raven_user(require_ptags={"staff"})
ADMIN = raven_user(iact=True)


def build_fastapi(**options: Any) -> FastAPI:
    """Nothing protected by the middleware: each route says what it needs."""
    app = FastAPI()

    @app.get("/")
    def home(user: Annotated[RavenUser, Depends(raven_user)]) -> dict[str, Any]:
        return {"principal": user.principal, "name": user.display_name,
                "ptags": sorted(user.ptags), "expires": user.expires}

    @app.get("/staff")
    def staff(user: Annotated[RavenUser, Depends(STAFF)]) -> str:
        return "staff page for " + user.principal

    @app.get("/admin")
    def admin(user: Annotated[RavenUser, Depends(ADMIN)]) -> str:
        return "ADMIN for " + user.principal

    @app.get("/public")
    def public(request: Request) -> dict[str, Any]:
        return {"authenticated": request.user.is_authenticated,
                "principal": request.scope["raven"]["principal"]}

    app.post("/logout")(logout)
    app.add_middleware(RavenMiddleware, secret_key=SECRET, protect=(),
                       **settings_dict(**options))
    return app


class Browser:
    """A TestClient that keeps cookies and follows no redirect by itself."""

    def __init__(self, app: Any, base_url: str = BASE) -> None:
        self.app = app
        self.client = TestClient(app, base_url=base_url, follow_redirects=False)
        self.base_url = base_url

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.client.request(method, path, **kwargs)

    def start(self, path: str = "/", **kwargs: Any) -> tuple[str, str, dict[str, str]]:
        """Visit a protected page; return (url, params, whole query) sent to the WLS."""
        r = self.get(path, **kwargs)
        assert r.status_code == 303, r.text
        query = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["location"]).query).items()}
        return query["url"], query["params"], query

    def come_back(self, url: str, response: str, method: str = "GET", **kwargs: Any) -> Any:
        sep = "&" if "?" in url else "?"
        return self.request(method, url + sep + urlencode({"WLS-Response": response}), **kwargs)

    def login(self, path: str = "/", **response_kwargs: Any) -> Any:
        return login(self.client, self.base_url + path, **response_kwargs)

    @property
    def cookie(self) -> str | None:
        return self.client.cookies.get(COOKIE)

    @property
    def state(self) -> dict[str, Any] | None:
        """The stored state, flattened: tokens and, if logged in, the login."""
        raw = self.cookie
        under_way = pending.read(self.cookie_header(), True, time.time()).tokens
        if raw is None and not under_way:
            return None
        state = State.load(None if raw is None else SIGNER.loads(raw, time.time()))
        login = {} if state.login is None else state.login._asdict()
        return {"tokens": [*state.tokens, *under_way], **login}

    def cookie_header(self) -> str:
        """Every cookie the browser holds, as it would send them."""
        return "; ".join(f"{c.name}={c.value}" for c in self.client.cookies.jar)

    def secrets(self) -> list[str]:
        return secrets_of((c.name, c.value) for c in self.client.cookies.jar)


_DROP = object()


@pytest.fixture
def drop() -> object:
    return _DROP


@pytest.fixture
def browser() -> Browser:
    return Browser(build_starlette())


@pytest.fixture
def browser_for() -> Callable[..., Browser]:
    return Browser



@pytest.fixture
def starlette_app() -> Callable[..., Starlette]:
    return build_starlette


@pytest.fixture
def fastapi_app() -> Callable[..., FastAPI]:
    return build_fastapi


@pytest.fixture
def raven_settings() -> Callable[..., dict[str, Any]]:
    return settings_dict


@pytest.fixture
def uvicorn_server() -> type[Uvicorn]:
    return Uvicorn
