"""docs/wsgi.md's Python snippets run as printed."""

from __future__ import annotations

import re
from pathlib import Path

from wsgi_kit import BASE, LOCAL_WLS, echo

from raven.wsgi import RavenMiddleware

PAGE = Path(__file__).resolve().parents[2] / "docs" / "wsgi.md"
BLOCKS = [b for b in re.findall(r"^```python\n(.*?)^```$", PAGE.read_text(), re.S | re.M)
          if not b.startswith("import logging")]  # run by tests/docs/test_docs_blocks.py


def test_every_snippet_is_run_here():
    assert len(BLOCKS) == 3


def test_the_quick_start(monkeypatch):
    monkeypatch.setenv("RAVEN_SECRET_KEY", "from the environment, long enough")
    monkeypatch.setenv("RAVEN_WLS", LOCAL_WLS)
    monkeypatch.setenv("RAVEN_ORIGIN", BASE)
    namespace = {}
    for block in BLOCKS[:2]:  # the second goes on from the first
        namespace["application"] = echo
        exec(compile(block, "wsgi.md", "exec"), namespace)
        assert isinstance(namespace["application"], RavenMiddleware)
    assert namespace["application"].protects("/admin/x")
    assert not namespace["application"].protects("/public")
    assert namespace["application"].settings.origins == {BASE}


def test_the_testing_example():
    namespace = {"my_app": echo}
    exec(compile(BLOCKS[2], "wsgi.md", "exec"), namespace)
    namespace["test_members_page"]()
