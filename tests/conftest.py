"""Shared fixtures: a Flask app protected by AuthDecorator, configured for
a local test WLS, and a browser that logs in with responses signed for real
with the demo key."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from tests.browsing import TestBrowser

from raven.flask_glue import SESSION_KEY, AuthDecorator
from raven.flow import State

BASE = "https://www.example.cam.ac.uk"
LOCAL_WLS = "http://127.0.0.1:5001"


class Browser(TestBrowser):
    """The shared test-client browser, on the test site, reading our state."""

    def __init__(self, app: Flask, base_url: str = BASE) -> None:
        super().__init__(app, base_url)

    @property
    def state(self) -> dict[str, Any] | None:
        """The stored state, read by its one reader, flattened: the tokens
        of the logins under way (session and cookies) and, if logged in,
        the login's fields."""
        with self.client.session_transaction(base_url=self.base_url) as sess:
            stored = sess.get(SESSION_KEY)
        pending = self.pending()
        if stored is None and not pending:
            return None
        state = State.load(stored)
        login = {} if state.login is None else state.login._asdict()
        return {"tokens": [*state.tokens, *pending], **login}

    def edit_state(self, **changes: Any) -> None:
        """Change the stored login's fields (as time passing would)."""
        with self.client.session_transaction(base_url=self.base_url) as sess:
            state = State.load(sess[SESSION_KEY])
            assert state.login is not None, "not logged in"
            sess[SESSION_KEY] = state._replace(login=state.login._replace(**changes)).dump()


def build_app(
    decorator: AuthDecorator | None = None,
    *,
    app_wide: bool = False,
    template_folder: str | None = None,
    **config: Any,
) -> tuple[Flask, AuthDecorator]:
    """An app with protected views, configured for a local test WLS."""
    app = Flask(__name__, template_folder=template_folder)
    app.config.update(
        TESTING=True,
        SECRET_KEY="test secret",
        TRUSTED_HOSTS=["www.example.cam.ac.uk"],
        RAVEN_WLS=LOCAL_WLS,
    )
    for key, value in config.items():
        if value is _DROP:
            app.config.pop(key, None)
        else:
            app.config[key] = value
    auth = decorator if decorator is not None else AuthDecorator(desc="Test site")
    protect = (lambda view: view) if app_wide else auth
    if app_wide:
        app.before_request(auth.before_request)

    @app.route("/")
    @protect
    def home() -> str:
        return "You are " + auth.principal

    @app.route("/page", methods=["GET", "POST", "PUT", "DELETE"])
    @protect
    def page() -> str:
        return f"page for {auth.principal}"

    @app.route("/logout")
    def logout() -> Any:
        return auth.logout()

    if not app_wide:

        @app.route("/public")
        def public() -> dict[str, Any]:
            ptags = auth.ptags
            return {
                "principal": auth.principal,
                "ptags": None if ptags is None else sorted(ptags),
                "issue": auth.issue, "life": auth.life, "last": auth.last,
                "expires": auth.expires, "expires_all": auth.expires_all,
            }

    return app, auth


_DROP = object()


@pytest.fixture
def drop() -> object:
    """Pass as a config value to remove that key from the test app."""
    return _DROP


@pytest.fixture
def make_app() -> Callable[..., tuple[Flask, AuthDecorator]]:
    return build_app


@pytest.fixture
def app_and_auth() -> tuple[Flask, AuthDecorator]:
    return build_app()


@pytest.fixture
def browser(app_and_auth: tuple[Flask, AuthDecorator]) -> Browser:
    return Browser(app_and_auth[0])


@pytest.fixture
def browser_for() -> Callable[..., Browser]:
    return Browser


@pytest.fixture
def raven_log(caplog: pytest.LogCaptureFixture) -> Callable[[int], list[logging.LogRecord]]:
    """Records of the ``raven`` logger at a level, without the start-up
    notice that the demo key is trusted."""
    caplog.set_level(logging.DEBUG, logger="raven")

    def records(level: int = logging.WARNING) -> list[logging.LogRecord]:
        return [
            r for r in caplog.records
            if r.name == "raven" and r.levelno == level and "demo key" not in r.getMessage()
        ]

    return records


class KeyFiles:
    """Real RSA keys, made with ``cryptography``, written as an operator
    would have them: PEM public keys (PKCS#1 or SubjectPublicKeyInfo) and
    self-signed X.509 certificates."""

    def __init__(self, directory: Any) -> None:
        self.directory = directory

    @staticmethod
    def private(bits: int = 1024, exponent: int = 65537) -> Any:
        from cryptography.hazmat.primitives.asymmetric import rsa

        if bits >= 1024:
            return rsa.generate_private_key(public_exponent=exponent, key_size=bits)
        return _small_rsa_key(bits, exponent)  # cryptography will not make one

    @staticmethod
    def pem(private_key: Any, form: str = "pkcs1") -> bytes:
        from cryptography.hazmat.primitives import serialization

        if form == "cert":
            return _self_signed(private_key).public_bytes(serialization.Encoding.PEM)
        fmt = {"pkcs1": serialization.PublicFormat.PKCS1,
               "spki": serialization.PublicFormat.SubjectPublicKeyInfo}[form]
        return private_key.public_key().public_bytes(serialization.Encoding.PEM, fmt)

    def write(self, name: str, private_key: Any, form: str = "pkcs1", directory: Any = None) -> Any:
        path = (directory or self.directory) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.pem(private_key, form))
        return path


def _self_signed(private_key: Any) -> Any:
    from datetime import datetime, timedelta, timezone

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test WLS key")])
    now = datetime.now(timezone.utc)
    return (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(private_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
        .sign(private_key, hashes.SHA256())
    )


def _small_rsa_key(bits: int, exponent: int) -> Any:
    """A real RSA key of a size ``cryptography`` refuses to generate."""
    import secrets

    from cryptography.hazmat.primitives.asymmetric import rsa

    def probably_prime(n: int) -> bool:
        if any(n % p == 0 for p in (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)):
            return False
        d, s = n - 1, 0
        while d % 2 == 0:
            d, s = d // 2, s + 1
        for _ in range(40):
            x = pow(secrets.randbelow(n - 3) + 2, d, n)
            if x in (1, n - 1):
                continue
            for _ in range(s - 1):
                x = pow(x, 2, n)
                if x == n - 1:
                    break
            else:
                return False
        return True

    def prime(size: int) -> int:
        while True:
            c = secrets.randbits(size) | (3 << (size - 2)) | 1
            if (c - 1) % exponent and probably_prime(c):
                return c

    p, q = prime(bits // 2), prime(bits // 2)
    d = pow(exponent, -1, (p - 1) * (q - 1))
    public = rsa.RSAPublicNumbers(exponent, p * q)
    return rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q), public,
    ).private_key()


@pytest.fixture
def key_files(tmp_path: Any) -> KeyFiles:
    """Make real RSA keys and write them under ``tmp_path``."""
    return KeyFiles(tmp_path)
