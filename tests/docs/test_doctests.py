"""Pages of docs/ whose examples are sessions to run as printed."""

import doctest
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("page", ["wls-config.md", "flow.md", "pages.md", "guard.md"])
def test_the_examples_run_as_printed(page):
    result = doctest.testfile(str(DOCS / page), module_relative=False,
                              optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def python_blocks(page: str) -> list[str]:
    text = (DOCS / page).read_text()
    return [block.split("```", 1)[0] for block in text.split("```python\n")[1:]]


def test_the_hand_written_flow_of_protocol_md_logs_in_and_refuses_as_it_says():
    from raven.testing import demo_server_as_live, login

    [flow] = [b for b in python_blocks("protocol.md") if "def response():" in b]
    namespace: dict = {"__name__": "docs_protocol_example"}
    exec(compile(flow, "protocol.md", "exec"), namespace)  # our own docs
    app = namespace["app"]
    app.add_url_rule("/", "home", lambda: "home")
    with demo_server_as_live():
        client = app.test_client()
        site = "https://www.your-domain.com"
        page = login(client, site + "/login", "spqr2")
        assert page.request.path == "/" and page.text == "home"
        with client.session_transaction(base_url=site) as sess:
            assert sess["user"] == "spqr2"
        assert login(app.test_client(), site + "/login", "abc12",
                     ptags=set()).status_code == 403
        # the same response twice: the token is spent
        other = app.test_client()
        first = other.get(site + "/login")
        from urllib.parse import parse_qs, urlsplit

        from raven.testing import make_response
        query = parse_qs(urlsplit(first.location).query)
        text = make_response(query["url"][0], params=query["params"][0])
        assert other.get(site + "/response", query_string={"WLS-Response": text}).status_code == 303
        assert other.get(site + "/response", query_string={"WLS-Response": text}).status_code == 400
