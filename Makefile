# `make demo` and `make test` are all a newcomer needs; both install first.
VENV ?= .venv
PY := $(VENV)/bin/python
# A second environment with the oldest release of every dependency that
# pyproject.toml admits (tests/oldest.txt): Django 4.2 where .venv has the
# newest Django, and the oldest Flask, Werkzeug, Starlette, FastAPI and
# cryptography, so that the declared minimums are true.
OLDEST ?= .venv-oldest
OLDEST_SUITES := tests/core tests/flask tests/wsgi tests/asgi tests/django

.PHONY: demo test lint bench dist clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	rm -rf src/python_raven.egg-info  # left by installs under the old name
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

$(OLDEST)/.installed: pyproject.toml tests/oldest.txt
	python3 -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install --quiet --upgrade pip
	$(OLDEST)/bin/python -m pip install --quiet -e '.[test]' -c tests/oldest.txt
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/raven demo

test: $(VENV)/.installed $(OLDEST)/.installed
	$(VENV)/bin/ruff check src tests benchmarks docs fuzz
	$(PY) -m pytest
	@echo "--- the adapters' suites on the oldest admitted versions (tests/oldest.txt)"
	$(OLDEST)/bin/python -m pytest -q -p no:cacheprovider $(OLDEST_SUITES)

bench: $(VENV)/.installed
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

# An sdist and a wheel in dist/, built in an isolated environment.
dist: $(VENV)/.installed
	rm -rf dist
	$(PY) -m build --outdir dist .

clean:
	rm -rf $(VENV) $(OLDEST) build dist src/*.egg-info .pytest_cache
