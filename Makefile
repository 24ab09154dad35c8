# `make demo` and `make test` are all a newcomer needs; both install first.
VENV ?= .venv
PY := $(VENV)/bin/python
# A second environment with the oldest release of every dependency that
# pyproject.toml admits (tests/oldest.txt): Django 4.2 where .venv has the
# newest Django, and the oldest Flask, Werkzeug, Starlette, FastAPI and
# cryptography, so that the declared minimums are true.
OLDEST ?= .venv-oldest
OLDEST_SUITES := tests/core tests/flask tests/wsgi tests/asgi tests/django \
	--ignore=tests/django/test_django_entra.py  # Entra ID needs cryptography 45.0.1+

.PHONY: demo test lint bench dist clean docs coverage

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	rm -rf src/python_raven.egg-info  # left by installs under the old name
	$(PY) -m pip install --quiet -e '.[test,interop]'
	touch $@

$(OLDEST)/.installed: pyproject.toml tests/oldest.txt
	python3 -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install --quiet --upgrade pip
	$(OLDEST)/bin/python -m pip install --quiet -e '.[test]' -c tests/oldest.txt
	touch $@

# axe-core, for the browser tests' accessibility checks (tests/e2e).
AXE := node_modules/axe-core/axe.min.js
$(AXE):
	npm install --no-save --no-audit --no-fund axe-core

demo: $(VENV)/.installed
	$(VENV)/bin/raven demo

test: $(VENV)/.installed $(OLDEST)/.installed $(AXE)
	$(VENV)/bin/ruff check src tests benchmarks docs fuzz
	$(VENV)/bin/mypy
	$(PY) -m pytest
	@echo "--- the adapters' suites on the oldest admitted versions (tests/oldest.txt)"
	$(OLDEST)/bin/python -m pytest -q -p no:cacheprovider $(OLDEST_SUITES)

# The whole suite under coverage, line and branch. `coverage run` starts
# measuring before pytest loads the raven plugin (and so imports raven),
# which pytest-cov cannot: every line the suite runs is counted, in the
# servers it starts as subprocesses too. A failing test still gives the
# report, then fails the target.
coverage: $(VENV)/.installed
	rm -f .coverage .coverage.*
	$(PY) -m coverage run -m pytest $(PYTEST_ARGS) || status=$$?; \
	$(PY) -m coverage combine --quiet && $(PY) -m coverage report && \
	$(PY) -m coverage html --quiet && echo "Per-line report: htmlcov/index.html"; \
	exit $${status:-0}

# The HTML site (guides and API reference) in docs/_build/html, built
# strictly: a warning or a broken link between pages fails it.
docs: $(VENV)/.installed
	$(PY) -m sphinx -b html -W --keep-going -q docs docs/_build/html
	@echo "Open docs/_build/html/index.html"

bench: $(VENV)/.installed
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

# An sdist and a wheel in dist/, built in an isolated environment.
dist: $(VENV)/.installed
	rm -rf dist
	$(PY) -m build --outdir dist .

clean:
	rm -rf $(VENV) $(OLDEST) build dist src/*.egg-info .pytest_cache .mypy_cache .coverage htmlcov docs/_build
