# devkit developer commands. `make test` is the one command CI and README use.
PYTHON ?= python3
VENV ?= .venv
TEST_PACKAGES = pytest pytest-cov
# Pinned so that a new release of a formatter never turns CI red on formatting alone.
LINT_PACKAGES = black==26.10.1 isort==9.0.2 pre-commit
VPY = $(VENV)/bin/python
VERSIONS = 3.9 3.10 3.11 3.12 3.13
SOURCES = devkit tests bench examples bin/house-rules

.PHONY: test test-all venv lint-venv quick-check check format lint coverage pyz bench docs clean

$(VPY):
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q $(TEST_PACKAGES)

venv: $(VPY)

$(VENV)/.lint: $(VPY)
	$(VPY) -m pip install -q $(LINT_PACKAGES)
	touch $@

lint-venv: $(VENV)/.lint

test: $(VPY)
	$(VPY) -m pytest --cov=devkit --cov-report=term:skip-covered $(PYTEST_ARGS)

test-all:
	@set -e; for v in $(VERSIONS); do \
	  py=$$(.ci/find-python $$v) || { echo "python$$v: not found, skipped"; continue; }; \
	  echo "== python$$v ($$py)"; \
	  $(MAKE) --no-print-directory test PYTHON=$$py VENV=.venv-$$v; \
	done

# Seconds, no tests: formatting, import order and the house rules.
quick-check: lint-venv
	$(PYTHON) bin/house-rules
	$(VPY) -m isort --check-only --quiet $(SOURCES)
	$(VPY) -m black --check --quiet $(SOURCES)

# Everything CI runs: quick-check, the suite with branch coverage (fails under 90 %), docs, zipapp.
check: quick-check coverage pyz
	$(PYTHON) dist/devkit.pyz --version

coverage: $(VPY)
	rm -f .coverage .coverage.*
	$(VPY) -m pytest --cov=devkit --cov-branch --cov-report=term:skip-covered --cov-fail-under=90 $(PYTEST_ARGS)

format: lint-venv
	$(VPY) -m isort $(SOURCES)
	$(VPY) -m black $(SOURCES)

lint: quick-check

pyz:
	$(PYTHON) -m devkit._build dist/devkit.pyz

bench:
	$(PYTHON) bench/startup.py
	@for b in bench/*_bench.py; do echo "== $$b"; $(PYTHON) $$b || true; done

docs:
	COLUMNS=100 $(PYTHON) -m devkit._docs > docs/CLI.md
	$(PYTHON) -m devkit._apidocs > docs/API.md

clean:
	rm -rf build dist .venv .venv-3.* .pytest_cache .coverage .coverage.*
