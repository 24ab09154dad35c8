"""An independent OpenID client logs in against the local provider: Authlib's
OAuth 2 session (code flow, PKCE S256, client authentication) and Authlib's
JWS code for the ID token's signature (its own implementation, not the
joserfc the relying party and the provider use), against the keys named by
the provider's discovery document, and its OpenID claims class for the
claims (built in Authlib 1.9 on joserfc's claims registry). The provider
is a real Werkzeug server on 127.0.0.1, so this is the standard protocol
over HTTP, not our dialect."""

from __future__ import annotations

import warnings
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from tests.browsing import Form

from raven.oidc import GROUPS
from raven.oidc.testprovider import LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET, create_app
from raven.wls.server import LiveServer

authlib_client = pytest.importorskip("authlib.integrations.requests_client")
with warnings.catch_warnings():  # authlib.jose is deprecated upstream, and still Authlib's
    warnings.simplefilter("ignore")
    from authlib.common.security import generate_token
    from authlib.jose import JsonWebKey, jwt
    from authlib.jose.errors import BadSignatureError
    from authlib.jose.errors import InvalidClaimError as OldClaimError
    from authlib.oidc.core import CodeIDToken
    from joserfc.errors import InvalidClaimError as ClaimError

InvalidClaim = (OldClaimError, ClaimError)  # which one depends on Authlib's version

TENANT = "49a50445-bdfa-4b79-ade3-547b4f3986e9"
REDIRECT_URI = "http://127.0.0.1:9/callback"  # never visited: the client reads the redirect


@pytest.fixture(scope="module")
def server():
    s = LiveServer(create_app()).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def discovery(server):
    answer = requests.get(f"{server.url}/{TENANT}/v2.0/.well-known/openid-configuration",
                          timeout=10)
    assert answer.status_code == 200
    return answer.json()


def log_in(discovery, user: str, auth_method: str):
    """The whole code flow with Authlib as the client; a browser (requests)
    fills the provider's login form. The token set, and the nonce sent."""
    client = authlib_client.OAuth2Session(
        LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET, scope="openid profile",
        redirect_uri=REDIRECT_URI, code_challenge_method="S256",
        token_endpoint_auth_method=auth_method)
    verifier, nonce = generate_token(48), generate_token(20)
    url, state = client.create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    sent = parse_qs(urlsplit(url).query)
    assert sent["code_challenge_method"] == ["S256"] and "code_verifier" not in sent
    browser = requests.Session()
    page = browser.get(url, timeout=10)
    assert page.status_code == 200
    done = browser.post(page.url, data=Form(page.text).login_fields(user, "test"),
                        allow_redirects=False, timeout=10)
    assert done.status_code == 303, done.text
    location = done.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    token = client.fetch_token(discovery["token_endpoint"], authorization_response=location,
                               state=state, code_verifier=verifier)
    client.close()
    return token, nonce


def keys(discovery):
    answer = requests.get(discovery["jwks_uri"], timeout=10)
    assert answer.status_code == 200
    return JsonWebKey.import_key_set(answer.json())


def claims_of(discovery, id_token: str, nonce: str, issuer: str | None = None):
    claims = jwt.decode(
        id_token, keys(discovery), claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": issuer or discovery["issuer"]}},
        claims_params={"nonce": nonce, "client_id": LOCAL_CLIENT_ID})
    claims.validate(leeway=5)
    return claims


@pytest.mark.parametrize(("user", "group", "auth_method"), [
    ("test0001", "UOC_USERS_STAFF", "client_secret_basic"),
    ("test0201", "UOC_USERS_STUDENT", "client_secret_post"),
    ("test0401", "UOC_USERS_ALUMNI", "client_secret_basic"),
])
def test_authlib_logs_in_and_verifies_the_id_token(discovery, user, group, auth_method):
    token, nonce = log_in(discovery, user, auth_method)
    assert token["token_type"].lower() == "bearer" and "id_token" in token
    claims = claims_of(discovery, token["id_token"], nonce)
    assert claims["aud"] == LOCAL_CLIENT_ID and claims["nonce"] == nonce
    assert claims["preferred_username"] == f"{user}@cam.ac.uk"
    assert claims["tid"] == TENANT and claims["ver"] == "2.0"
    assert GROUPS[group] in claims["groups"]
    assert claims["iss"] == discovery["issuer"] == f"{urlsplit(discovery['jwks_uri']).scheme}" \
        f"://{urlsplit(discovery['jwks_uri']).netloc}/{TENANT}/v2.0"


def test_authlib_refuses_what_it_should(discovery):
    """The same verification fails on a wrong nonce, a wrong issuer and an
    altered token: it is a real check, not a formality."""
    token, nonce = log_in(discovery, "test0002", "client_secret_basic")
    with pytest.raises(InvalidClaim, match="nonce"):
        claims_of(discovery, token["id_token"], "another-nonce")
    with pytest.raises(InvalidClaim, match="iss"):
        claims_of(discovery, token["id_token"], nonce, issuer="https://elsewhere.example/v2.0")
    head, body, signature = token["id_token"].split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    with pytest.raises(BadSignatureError):
        claims_of(discovery, f"{head}.{body}.{flipped}", nonce)


def test_the_code_works_once_for_authlib_too(discovery, server):
    client = authlib_client.OAuth2Session(
        LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET, scope="openid", redirect_uri=REDIRECT_URI,
        code_challenge_method="S256")
    verifier = generate_token(48)
    url, state = client.create_authorization_url(discovery["authorization_endpoint"],
                                                 code_verifier=verifier, nonce="n")
    browser = requests.Session()
    page = browser.get(url, timeout=10)
    location = browser.post(page.url, data=Form(page.text).login_fields("test0003", "test"),
                            allow_redirects=False, timeout=10).headers["Location"]
    client.fetch_token(discovery["token_endpoint"], authorization_response=location,
                       state=state, code_verifier=verifier)
    with pytest.raises(Exception, match="invalid_grant"):
        client.fetch_token(discovery["token_endpoint"], authorization_response=location,
                           state=state, code_verifier=verifier)
