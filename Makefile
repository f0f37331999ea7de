# The two commands a newcomer types: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
WL := $(VENV)/bin/worklife
OUT ?= out

.PHONY: demo test bench lint install install-test clean chromium

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[test,spark]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: $(VENV)/.installed
	$(WL) demo --out $(OUT)

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; } \
		|| echo "warning: could not install chromium (needs root); the browser tests will skip"

test: $(VENV)/.installed-test chromium
	$(PY) -m pytest -q

bench: $(VENV)/.installed-test
	$(PY) benchmarks/metrics.py
	$(PY) benchmarks/ingest.py
	$(PY) benchmarks/guard.py
	$(PY) benchmarks/scale.py
	$(PY) benchmarks/app.py

lint: $(VENV)/.installed-test
	$(PY) -m pip install -q ruff==0.17.5 mypy==2.4.1
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy src/worklife --ignore-missing-imports

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
