from datetime import datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

import raven
import raven.demoserver as demo
from raven.errors import (
    MalformedResponseError,
    ResponseError,
    SignatureError,
    UnknownKeyError,
)
from raven.keys import SigningKey
from raven.testing import make_response

URL = "http://host/response/path"
ISSUE = datetime(2013, 7, 5, 15, 0, 0)


def good(**kw):
    kw.setdefault("issue", ISSUE)
    return make_response(kw.pop("url", URL), **kw)


def resign(text, old, new):
    """Edit a response and sign the result again, as a rogue WLS could."""
    body = text.rsplit("!", 2)[0].replace(old, new)
    return f"{body}!901!{SigningKey.demo().sign(body.encode())}"


def refuse(text, error=MalformedResponseError, cls=demo.Response):
    with pytest.raises(error) as info:
        cls(text)
    assert isinstance(info.value, ValueError)
    return str(info.value)


def test_seed_manual_parsing_with_a_real_signature():
    r = demo.Response(good(principal="spqr2", life=36000, id="1373000000-00000-00"))
    assert r.success and r.signed
    assert r.principal == "spqr2"
    assert r.ptags == frozenset({"current"})
    assert r.status == 200 == raven.STATUS_SUCCESS
    assert r.issue == ISSUE and r.issue.tzinfo is None
    assert (r.ver, r.id, r.url, r.auth, r.sso, r.life, r.kid) == (
        3, "1373000000-00000-00", URL, "pwd", frozenset(), 36000, "901")
    assert r.msg is None and r.params == ""


def test_bytes_input_and_escaped_fields_round_trip():
    text = good(params="a!b%c", msg="50% off!", url="http://h/x?a=1!")
    r = demo.Response(text.encode())
    assert (r.params, r.url) == ("a!b%c", "http://h/x?a=1!")
    assert "%21" in text and "%25" in text


def test_sso_only_success():
    r = demo.Response(good(auth=None, sso={"pwd"}))
    assert r.auth is None and r.sso == {"pwd"}


@pytest.mark.parametrize("ver", [1, 2])
def test_old_versions_have_13_fields_and_imply_current(ver):
    text = good(ver=ver)
    assert text.count("!") == 12
    assert demo.Response(text).ptags == {"current"}


def test_old_version_failure_carries_no_ptags():
    r = demo.Response(good(status=410, ver=1))
    assert r.status == raven.STATUS_CANCELLED and not r.success and r.ptags == frozenset()


def test_unsigned_failure_is_accepted():
    r = demo.Response(good(status=570, msg="no"))
    assert not r.signed and r.status == 570 and r.msg == "no"


def test_signed_failure_is_verified():
    signed = good(status=410, signing_key=SigningKey.demo())
    assert demo.Response(signed).signed
    refuse(signed.replace("!410!", "!570!"), SignatureError)


def test_live_response_does_not_trust_the_demo_key():
    assert "kid" in refuse(good(), UnknownKeyError, raven.Response)


def test_unknown_kid_is_refused():
    other = SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=1024), "7")
    refuse(good(signing_key=other), UnknownKeyError)


def test_signature_by_another_key_under_kid_901_is_refused():
    forger = SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=1024), "901")
    refuse(good(signing_key=forger), SignatureError)


def test_extra_keys_can_be_trusted_per_call():
    key = SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=1024), "7")
    r = raven.Response(good(signing_key=key), keys={"7": key.public_key})
    assert r.kid == "7"


def test_signature_copied_from_another_response_fails():
    a, b = good(principal="aaa11"), good(principal="bbb22")
    forged = a.rsplit("!", 1)[0] + "!" + b.rsplit("!", 1)[1]
    refuse(forged, SignatureError)


@pytest.mark.parametrize("mutate, fragment", [
    (lambda t: "4" + t[1:], "ver"),
    (lambda t: "03" + t[1:], "ver"),
    (lambda t: t.replace("!200!", "!20!"), "status"),
    (lambda t: t.replace("!200!", "!299!"), "status"),
    (lambda t: t.replace("20130705T150000Z", "20130705T150000"), "issue"),
    (lambda t: resign(t, "20130705T150000Z", "20130732T150000Z"), "real date"),
    (lambda t: resign(t, "20130705T150000Z", "20130229T150000Z"), "real date"),
    (lambda t: t.replace("20130705T150000Z", "2013-07-05T15:00Z"), "issue"),
    (lambda t: t.replace("!901!", "!0901!"), "kid"),
    (lambda t: t.replace("!pwd!", "!PWD!"), "auth"),
    (lambda t: t + "!", "fields"),
    (lambda t: t.rsplit("!", 1)[0], "fields"),
    (lambda t: t.replace("test0001", "te%41st"), "%"),
    (lambda t: t.replace("test0001", "te%"), "%"),
    (lambda t: t.replace("test0001", "te\nst"), "unprintable"),
    (lambda t: t[:-4] + "+" + t[-3:], "sig"),
    (lambda t: t[:-4] + "/" + t[-3:], "sig"),
    (lambda t: t[:-1], "sig"),
    (lambda t: t + "_", "sig"),
    (lambda t: t[:-4] + " " + t[-3:], "sig"),
    (lambda t: t[:-4] + "\u00e9" + t[-3:], "sig"),
    (lambda t: "x" * 20000, "long"),
    (lambda t: "", "ver"),
])
def test_wire_format_violations_name_the_field(mutate, fragment):
    assert fragment in refuse(mutate(good()))


@pytest.mark.parametrize("kw, fragment", [
    ({"principal": ""}, "principal"),
    ({"auth": None}, "auth"),
    ({"auth": "card"}, "unknown"),
    ({"auth": None, "sso": {"pwd", "x-thing"}}, "unknown"),
    ({"signing_key": None}, "signed"),
    ({"id": ""}, "id"),
    ({"url": ""}, "url"),
])
def test_bad_success_combinations(kw, fragment):
    assert fragment in refuse(good(**kw))


@pytest.mark.parametrize("kw, fragment", [
    ({"principal": "x"}, "principal"),
    ({"ptags": {"current"}}, "ptags"),
    ({"auth": "pwd"}, "auth"),
    ({"sso": {"pwd"}}, "sso"),
    ({"life": 5}, "life"),
])
def test_failures_must_not_carry_identity(kw, fragment):
    assert fragment in refuse(good(status=410, **kw))


def test_status_520_only_as_version_1():
    assert demo.Response(good(status=520, ver=1)).status == raven.STATUS_UNSUPPORTED_VERSION
    refuse(good(status=520, ver=3))


def test_v1_response_with_a_ptags_field_is_refused():
    text = good(ver=1)
    body = text.rsplit("!", 2)[0]
    fields = body.split("!")
    fields.insert(7, "current")
    refuse(resign("!".join(fields) + "!!", "", ""))


def test_kid_without_sig_and_sig_without_kid():
    text = good(status=410)
    refuse(text[:-1] + "901!")
    refuse(text[:-1] + "!abcd")


@pytest.mark.parametrize("value", [None, 3, ["3!200"], b"\xff\xfe", "\ud800"])
def test_odd_inputs_raise_only_documented_errors(value):
    with pytest.raises(ResponseError):
        demo.Response(value)


def test_check_iact_aauth_follows_the_seed_library():
    interactive = demo.Response(good())
    single_sign_on = demo.Response(good(auth=None, sso={"pwd"}))
    failure = demo.Response(good(status=410))
    assert interactive.check_iact_aauth(None, None)
    assert interactive.check_iact_aauth(True, None)
    assert interactive.check_iact_aauth(True, {"pwd"})
    assert not interactive.check_iact_aauth(True, {"x-other"})
    assert not interactive.check_iact_aauth(False, None)
    assert single_sign_on.check_iact_aauth(None, None)
    assert single_sign_on.check_iact_aauth(False, {"pwd"})
    assert not single_sign_on.check_iact_aauth(True, None)
    assert not single_sign_on.check_iact_aauth(None, {"x-other"})
    assert not failure.check_iact_aauth(None, None)


def test_repr_never_shows_the_signature():
    text = good()
    assert text.rsplit("!", 1)[1] not in repr(demo.Response(text))


def test_issue_is_naive_utc_and_subtracts_from_utcnow():
    now = datetime.utcnow().replace(microsecond=0)  # the seed's own idiom
    r = demo.Response(good(issue=now - timedelta(seconds=3)))
    assert (now - r.issue).total_seconds() == 3


@pytest.mark.parametrize("text", ["20240101T00Z", "2024-01-01T00:00:00", "20240101T000000+01"])
def test_parse_issue_takes_the_protocol_format_only(text):
    from raven.protocol import parse_issue

    with pytest.raises(MalformedResponseError):
        parse_issue(text)


def test_status_prints_as_its_code():
    assert str(raven.STATUS_CANCELLED) == f"{raven.STATUS_CANCELLED}" == "410"
