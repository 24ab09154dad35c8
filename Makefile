# `make demo` and `make test` are all a newcomer needs; both install first.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint bench dist clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	rm -rf src/python_raven.egg-info  # left by installs under the old name
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/raven demo

test: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests benchmarks docs fuzz
	$(PY) -m pytest

bench: $(VENV)/.installed
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

# An sdist and a wheel in dist/, built in an isolated environment.
dist: $(VENV)/.installed
	rm -rf dist
	$(PY) -m build --outdir dist .

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
