"""The README's Python snippets run as printed: the app, its settings, the
hand-written request (a doctest), and the test of the app, together."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest
from flask import Flask

from raven.flask_glue import AuthDecorator, ConfigurationError

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```$", README.read_text(), re.S | re.M)


def files() -> dict[str, str]:
    """Snippets whose first line names a file: ``# name.py``."""
    named = (re.match(r"# (\w+\.py)\n", block) for block in BLOCKS)
    return {m.group(1): block for m, block in zip(named, BLOCKS, strict=True) if m}


def test_every_snippet_is_run_here():
    doctests = [b for b in BLOCKS if b.startswith(">>> ")]
    settings = [b for b in BLOCKS if b.startswith('app.config["RAVEN_WLS"]')]
    assert set(files()) == {"yourapp.py", "test_yourapp.py"}
    assert len(doctests) == 1 and len(settings) == 1
    assert len(BLOCKS) == 4


def test_the_app_and_its_test_work_together(pytester):
    for name, text in files().items():
        pytester.makepyfile(**{name[:-3]: text})
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_yourapp.py")
    result.assert_outcomes(passed=1)


def test_each_wls_setting_is_one_the_glue_accepts():
    (block,) = [b for b in BLOCKS if b.startswith('app.config["RAVEN_WLS"]')]
    lines = block.strip().splitlines()
    assert len(lines) == 3
    def app_after(line: str) -> Flask:
        app = Flask(__name__)
        app.config.update(SECRET_KEY="s", TRUSTED_HOSTS=["your-domain.com"])
        exec(line, {"app": app})  # the snippet's line, as printed
        return app

    seen = []
    for line in lines:
        app = app_after(line)
        AuthDecorator().init_app(app)  # refuses a setting it does not know
        seen.append(app.config["RAVEN_WLS"])
    assert seen == ["live", "demo", "http://127.0.0.1:5001"]
    with pytest.raises(ConfigurationError, match="elsewhere"):
        AuthDecorator().init_app(app_after('app.config["RAVEN_WLS"] = "elsewhere"'))


def test_the_hand_written_request_is_a_passing_doctest():
    (block,) = [b for b in BLOCKS if b.startswith(">>> ")]
    test = doctest.DocTestParser().get_doctest(block, {}, "README", str(README), 0)
    runner = doctest.DocTestRunner()
    runner.run(test)
    outcome = runner.summarize(verbose=False)
    assert outcome.attempted == 3 and outcome.failed == 0
