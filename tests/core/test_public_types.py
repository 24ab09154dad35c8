"""What a user's ``mypy --strict`` sees of the public API: the package
ships ``py.typed``, so these annotations are a promise. Each revealed type
is compared whole, and none may be (or contain) ``Any``, which would hide
the user's own mistakes."""

from __future__ import annotations

import re

import pytest

api = pytest.importorskip("mypy.api")

USER_CODE = '''
from raven import LIVE_WLS, Request, Response, validate_response
from raven.errors import ResponseError
from raven.flow import Login
from raven.keys import KeyLoadError, load_keys
from raven.wls import builtin_user

def check(text: str, login: Login) -> None:
    r = Response(text)
    reveal_type(r.ver)
    reveal_type(r.status)
    reveal_type(r.msg)
    reveal_type(r.issue)
    reveal_type(r.id)
    reveal_type(r.url)
    reveal_type(r.principal)
    reveal_type(r.ptags)
    reveal_type(r.auth)
    reveal_type(r.sso)
    reveal_type(r.life)
    reveal_type(r.params)
    reveal_type(r.kid)
    reveal_type(r.signed)
    reveal_type(r.success)
    reveal_type(r.check_iact_aauth(True, None))
    reveal_type(validate_response(text, "https://example.org/"))
    reveal_type(str(Request("https://example.org/")))
    reveal_type(LIVE_WLS.keys)
    reveal_type(load_keys)
    reveal_type(login.principal)
    reveal_type(login.ptags)
    reveal_type(login.issue)
    reveal_type(login.life)
    reveal_type(login.auth)
    reveal_type(login.sso)
    reveal_type(login.issuer)
    reveal_type(ResponseError("x").check)
    reveal_type(KeyLoadError)
    user = builtin_user("test0001")
    assert user is not None
    reveal_type(user.name)
    reveal_type(user.ptags)
'''

EXPECTED = [
    "int",
    "raven.protocol.Status",
    "str | None",
    "datetime.datetime",
    "str",
    "str",
    "str | None",
    "frozenset[str]",
    "str | None",
    "frozenset[str]",
    "int | None",
    "str",
    "str | None",
    "bool",
    "bool",
    "bool",
    "raven.response.Response",
    "str",
    "dict[str, cryptography.hazmat.primitives.asymmetric.rsa.RSAPublicKey]",
    None,  # a signature: checked for Any only
    "str",
    "frozenset[str]",
    "int",
    "int | None",
    "str | None",
    "frozenset[str]",
    "str",
    "str",
    "def (message: str, *, source: str | None =) -> raven.errors.KeyLoadError",
    "str",
    "frozenset[str]",
]


def test_a_strict_user_sees_the_public_api_typed_without_any(tmp_path):
    program = tmp_path / "user.py"
    program.write_text(USER_CODE)
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n")  # the user's settings, not ours
    out, err, status = api.run([
        "--strict", "--config-file", str(config), "--cache-dir", str(tmp_path / "cache"),
        "--no-pretty", "--show-traceback", str(program),
    ])
    # older mypy spells builtins in full
    revealed = [seen.replace("builtins.", "")
                for seen in re.findall(r'Revealed type is "(.*)"', out)]
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert not errors and err == "", out + err
    assert len(revealed) == len(EXPECTED), out
    for seen, wanted in zip(revealed, EXPECTED, strict=True):
        assert "Any" not in seen
        if wanted is not None:
            assert seen == wanted, out
