"""A response whose fields break a rule checked after the signature."""

from raven.explain import explain
from raven.keys import DEMO_KEYS, SigningKey
from raven.testing import make_response


def test_kid_and_signature_pass_when_a_later_field_rule_fails():
    body = make_response("http://h/").rsplit("!", 2)[0].replace("!test0001!", "!!")
    text = f"{body}!901!{SigningKey.demo().sign(body.encode())}"
    states = {c.name: c.state for c in explain(text, keys=DEMO_KEYS).checks}
    assert states["format"] == "failed"
    assert states["kid"] == states["signature"] == "passed"
