"""Many tabs, many workers: every adapter under a real server with two
workers, its browsers logging in at the local test WLS (gunicorn, two
workers), their tabs raced with a barrier as a browser would race them.

Each adapter serves the same pages (guard_site; Django: the test
project): the WSGI middleware and the Flask glue under gunicorn, the ASGI
middleware under uvicorn, the Django project under gunicorn. A browser is
one cookie jar shared by its tabs (:class:`tests.browsing.Jar`); a tab is a
thread following redirects by hand (:class:`tests.browsing.Tab`).

Each test runs several trials (RAVEN_TAB_TRIALS, 16 by default), each in a
new browser, two at a time, and reports how many failed and how. Every
test can be run alone, e.g. ``pytest
tests/security/test_tabs_and_workers.py::test_two_tabs_of_a_fresh_browser_both_log_in``.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from tests.browsing import Hop, Jar, Tab, in_threads
from tests.servers import Process, free_port, gunicorn, uvicorn

TESTS = Path(__file__).resolve().parents[1]
SECRET = "tabs and workers test secret, not for real use"
USER = "test0001"
#: Trials per test and adapter, and how many run at once (each its own browser).
TRIALS = int(os.environ.get("RAVEN_TAB_TRIALS", "16"))
AT_ONCE = 2
TIME_LIMIT = 30  # seconds per test and adapter
RESPONSE = "WLS-Response="


@dataclass
class Site:
    """An adapter's site under its server: two protected pages, and how to
    read who a page was served to."""

    name: str
    url: str
    pages: tuple[str, str]
    user_of: Callable[[str], str | None]
    wls: str

    def served(self, hop: Hop, path: str) -> bool:
        """``hop`` is the page at ``path``, served to USER."""
        return (hop.status == 200 and hop.url == self.url + path
                and self.user_of(hop.body) == USER)


def _json_user(body: str) -> str | None:
    try:
        return json.loads(body).get("user")
    except ValueError:
        return None


def _django_user(body: str) -> str | None:
    # "Hello, test0001 (test0001)" and "Anyone page for test0001"
    words = body.replace("(", " ").replace(")", " ").split()
    return USER if words and words[-1] == USER else None


ADAPTERS = ["flask", "wsgi", "asgi", "django"]


@pytest.fixture(scope="module")
def wls() -> Iterator[str]:
    """The local test WLS under gunicorn with two workers, one key."""
    with Process(gunicorn("raven.wls:create_app()"),
                 env=lambda url: {"RAVEN_WLS_SECRET_KEY": SECRET}) as server:
        yield server.url


def _guard_env(wls: str) -> Callable[[str], dict[str, str]]:
    return lambda url: {
        "RAVEN_WLS": wls, "RAVEN_ORIGIN": url, "RAVEN_SECRET_KEY": SECRET,
        "PYTHONPATH": os.pathsep.join([str(TESTS / "security"), str(TESTS.parent),
                                       os.environ.get("PYTHONPATH", "")]),
    }


@pytest.fixture(scope="module", params=ADAPTERS)
def site(request, wls, tmp_path_factory) -> Iterator[Site]:
    name = request.param
    guard_pages = ("/admin/one", "/reports")
    if name == "django":
        project = TESTS / "django"
        db = tmp_path_factory.mktemp("django") / "site.db"

        def env(url: str) -> dict[str, str]:
            return {"DJANGO_SETTINGS_MODULE": "raventest.settings",
                    "PYTHONPATH": os.pathsep.join([str(project),
                                                   os.environ.get("PYTHONPATH", "")]),
                    "RAVENTEST_DB": str(db), "RAVENTEST_WLS": wls,
                    "RAVENTEST_ORIGIN": url, "RAVENTEST_HOSTS": "127.0.0.1"}

        server = Process(gunicorn("raventest.wsgi:application"), env=env, cwd=project)
        subprocess.run([sys.executable, "-m", "django", "migrate", "--noinput", "-v", "0"],
                       env=server.env, cwd=project, check=True, timeout=120)
        pages, user_of = ("/protected/", "/anyone/"), _django_user
    elif name == "asgi":
        server = Process(uvicorn("guard_site:starlette_site", 2, "--factory"),
                         env=_guard_env(wls))
        pages, user_of = guard_pages, _json_user
    else:
        spec = "guard_site:flask_site()" if name == "flask" else "guard_site:wsgi_site"
        server = Process(gunicorn(spec), env=_guard_env(wls))
        pages, user_of = guard_pages, _json_user
    with server:
        yield Site(name, server.url, pages, user_of, wls)


# --- a browser's tabs --------------------------------------------------------------


def _at_wls_form(site: Site, hop: Hop) -> bool:
    return hop.status == 200 and hop.url.startswith(site.wls) and 'name="userid"' in hop.body


def visit(tab: Tab, site: Site, path: str) -> Hop:
    """Open ``path`` in ``tab`` and log in at the WLS if it asks (once)."""
    hop = tab.go(site.url + path)
    if _at_wls_form(site, hop):
        hop = tab.log_in(hop, USER)
    return hop


def trials(one: Callable[[], str | None]) -> Counter[str]:
    """Run TRIALS trials of ``one`` (each returns None, or what went wrong),
    AT_ONCE at a time, none started after TIME_LIMIT; how many went wrong,
    and how."""
    deadline = time.monotonic() + TIME_LIMIT

    def bounded(_: int) -> str | None:
        return "not run: time limit" if time.monotonic() > deadline else one()

    with ThreadPoolExecutor(AT_ONCE) as pool:
        outcomes = list(pool.map(bounded, range(TRIALS)))
    return Counter(o for o in outcomes if o is not None)


def _tab_problem(site: Site, tab: Tab, path: str, result: Hop | BaseException) -> str | None:
    """None if the tab ended on its page, logged in, with no error page on
    the way; else a short name for what it saw."""
    if isinstance(result, BaseException):
        return f"{type(result).__name__}: {result}"
    for hop in tab.errors():
        where = "the WLS's" if hop.url.startswith(site.wls) else "the site's"
        return f"{hop.status} at {where} {urlsplit(hop.url).path} ({_why(hop.body)})"
    if not site.served(result, path):
        return f"ended on {result.status} at {urlsplit(result.url).path}"
    return None


def _why(page: str) -> str:
    """An error page's reason in a few words: the site's failed check, or
    the first sentence of the WLS's explanation."""
    if "Check that failed: " in page:
        return "check " + page.split("Check that failed: ", 1)[1].split("<", 1)[0].strip()
    explained = re.search(r'class="error">([^<]*)<', page)
    text = explained.group(1) if explained else re.sub(r"<[^>]*>", " ", page)
    return " ".join(html.unescape(text).split()).split(". ")[0][:100]


def _report(site: Site, failures: Counter[str]) -> str:
    total = sum(failures.values())
    lines = [f"{site.name}: {total} of {TRIALS} trials failed"]
    lines += [f"  {count} x {what}" for what, count in failures.most_common()]
    return "\n".join(lines)


def still_logged_in(site: Site, jar: Jar) -> str | None:
    """A protected page serves at once (no trip to the WLS) with ``jar``."""
    tab = Tab(jar)
    hop = tab.go(site.url + site.pages[0])
    if [h.status for h in tab.trail] != [200] or not site.served(hop, site.pages[0]):
        return "logged out afterwards: " + " -> ".join(
            f"{h.status} {urlsplit(h.url).path}" for h in tab.trail)
    return None


def logged_in_browser(site: Site) -> Jar:
    """A new browser, logged in to ``site`` (and to the WLS)."""
    jar = Jar()
    tab = Tab(jar)
    assert site.served(visit(tab, site, site.pages[0]), site.pages[0]), tab.trail
    return jar


# --- 1. two tabs of a fresh browser open two protected pages at once -----------


def test_two_tabs_of_a_fresh_browser_both_log_in(site):
    """Both tabs start a login at the same moment; both go to the WLS and
    log in (by single sign-on if the other tab logged in there first);
    both end on their own page, logged in, without an error page, and the
    browser stays logged in."""

    def one() -> str | None:
        jar, barrier = Jar(), threading.Barrier(2, timeout=10)
        tabs = [Tab(jar, hold=lambda url: url.startswith(site.url), barrier=barrier)
                for _ in site.pages]
        results = in_threads(*(lambda t=t, p=p: visit(t, site, p)
                               for t, p in zip(tabs, site.pages, strict=True)))
        problems = [_tab_problem(site, t, p, r)
                    for t, p, r in zip(tabs, site.pages, results, strict=True)]
        problems.append(still_logged_in(site, jar))
        return "; ".join(p for p in problems if p) or None

    failures = trials(one)
    assert not failures, _report(site, failures)


# --- 2. two tabs come back from the WLS at the same moment ---------------------


def test_two_tabs_coming_back_at_once_both_log_in(site):
    """Mid-login: tab A and tab B open their pages one after the other (so
    both logins are started and stored); A logs in with the password, B then
    reloads the WLS's page and is answered by single sign-on. Both follow
    the WLS's answer back to the site at the same moment: both end on
    their page, logged in, and the browser stays logged in."""

    def one() -> str | None:
        jar, barrier = Jar(), threading.Barrier(2, timeout=10)
        coming_back = lambda url: RESPONSE in url  # noqa: E731
        a = Tab(jar, hold=coming_back, barrier=barrier)
        b = Tab(jar, hold=coming_back, barrier=barrier)
        at_wls_a = a.go(site.url + site.pages[0])
        at_wls_b = b.go(site.url + site.pages[1])
        if not (_at_wls_form(site, at_wls_a) and _at_wls_form(site, at_wls_b)):
            return "no login form at the WLS"
        results = in_threads(lambda: a.log_in(at_wls_a, USER),
                             lambda: _reload_for_sso(b, at_wls_b, a))
        problems = [_tab_problem(site, t, p, r)
                    for t, p, r in zip((a, b), site.pages, results, strict=True)]
        problems.append(still_logged_in(site, jar))
        return "; ".join(p for p in problems if p) or None

    failures = trials(one)
    assert not failures, _report(site, failures)


def _reload_for_sso(tab: Tab, at_wls: Hop, other: Tab) -> Hop:
    """Reload the WLS's page once ``other`` has logged in there: single
    sign-on answers, and the tab follows the answer back (at the barrier)."""
    for _ in range(1000):  # until the other tab's login is in the jar: seconds at most
        if any(hop.method == "POST" for hop in other.trail):
            break
        time.sleep(0.005)
    reload = len(tab.trail)
    hop = tab.go(at_wls.url)
    if tab.trail[reload].status != 303:
        raise AssertionError("the WLS did not answer by single sign-on")
    return hop


# --- 3. a logged-in request with the wrong Host --------------------------------


def test_a_wrong_host_is_refused_and_the_login_kept(site):
    """A logged-in browser's request to a protected page with another Host
    (another name; another port of the site's name) is refused with 400;
    with the right Host the same cookies still serve the page."""
    port = urlsplit(site.url).port
    hosts = (f"localhost:{port}", "www.example.org", f"127.0.0.1:{free_port()}", "127.0.0.1")

    def one() -> str | None:
        jar = logged_in_browser(site)
        answers = {host: Tab(jar).send("GET", site.url + site.pages[0], host=host)
                   for host in hosts}
        served = [f"{hop.status} for Host {host}" for host, hop in answers.items()
                  if hop.status != 400]
        return "; ".join([*served, still_logged_in(site, jar) or ""]).strip("; ") or None

    failures = trials(one)
    assert not failures, _report(site, failures)


# --- 4. the WLS under two workers ----------------------------------------------


def test_the_wls_under_two_workers_accepts_every_login(site):
    """Fresh browsers log in at once, two at a time, their login forms
    posted at the same moment (so each WLS worker checks forms either may
    have signed): every login succeeds. (tests/wls/test_wls_workers.py
    checks the same WLS alone, one login at a time.)"""

    def one() -> str | None:
        barrier = threading.Barrier(2, timeout=10)
        tabs = [Tab(Jar(), hold=lambda url: url.startswith(site.wls) and "?" not in url,  # the POST
                    barrier=barrier) for _ in range(2)]
        results = in_threads(*(lambda t=t: visit(t, site, site.pages[0]) for t in tabs))
        problems = [_tab_problem(site, t, site.pages[0], r)
                    for t, r in zip(tabs, results, strict=True)]
        return "; ".join(p for p in problems if p) or None

    failures = trials(one)
    assert not failures, _report(site, failures)
