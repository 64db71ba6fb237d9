# devkit developer commands. `make test` is the one command CI and README use.
PYTHON ?= python3
VENV ?= .venv
# `make test` installs only what the tests need; the formatters come with quick-check/format.
TEST_PACKAGES = pytest pytest-cov
# Pinned so that a new release of a formatter never turns CI red on formatting alone.
LINT_PACKAGES = black==26.10.1 isort==9.0.2 pre-commit
LINT_STAMP = $(VENV)/.lint-packages
VPY = $(VENV)/bin/python
VERSIONS = 3.9 3.10 3.11 3.12 3.13
SOURCES = devkit tests bench examples bin/house-rules

.PHONY: test test-all golden venv quick-check check coverage coverage-dir format lint pyz bench docs clean \
	backup restore cleanup cleanup-apply export validate

$(VPY):
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q $(TEST_PACKAGES)

$(LINT_STAMP): $(VPY)
	$(VPY) -m pip install -q $(LINT_PACKAGES)
	touch $@

venv: $(VPY)

# Coverage data goes to a sticky world-writable folder: the permission tests run the CLI as `nobody`, and
# those subprocesses are measured too (pyproject.toml: patch = ["subprocess"]).
COVERAGE_DIR = $(CURDIR)/.coverage-data
COVERAGE_ENV = COVERAGE_FILE=$(COVERAGE_DIR)/.coverage

coverage-dir:
	rm -rf $(COVERAGE_DIR)
	mkdir -p $(COVERAGE_DIR)
	chmod 1777 $(COVERAGE_DIR)

test: $(VPY) coverage-dir
	$(COVERAGE_ENV) $(VPY) -m pytest --cov=devkit --cov-report=term:skip-covered $(PYTEST_ARGS)

# Rewrite tests/golden/*.txt from the current screens after an intended change; review the diff.
golden: $(VPY)
	$(VPY) -m tests.golden.refresh

test-all:
	@set -e; for v in $(VERSIONS); do \
	  py=$$(.ci/find-python $$v) || { echo "python$$v: not found, skipped"; continue; }; \
	  echo "== python$$v ($$py)"; \
	  $(MAKE) --no-print-directory test PYTHON=$$py VENV=.venv-$$v; \
	done

# Seconds, no tests: import order, formatting and the house rules.
quick-check: $(LINT_STAMP)
	$(PYTHON) bin/house-rules
	$(VPY) -m isort --check-only --quiet $(SOURCES)
	$(VPY) -m black --check --quiet $(SOURCES)

# Everything CI runs: quick-check, the suite with branch coverage (fails under 90 %), the zipapp.
check: quick-check coverage pyz
	$(PYTHON) dist/devkit.pyz --version
	$(PYTHON) dist/devkit.pyz --json config show > /dev/null

coverage: $(VPY) coverage-dir
	$(COVERAGE_ENV) $(VPY) -m pytest --cov=devkit --cov-branch --cov-report=term:skip-covered --cov-fail-under=90 \
	  $(PYTEST_ARGS)

format: $(LINT_STAMP)
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
	rm -rf build dist .venv .venv-3.* .pytest_cache .coverage .coverage.* .coverage-data

# Maintenance of the project's data (see docs/MAINTENANCE.md); DEVKIT = how to run devkit here.
DEVKIT ?= $(PYTHON) -m devkit

backup:
	$(DEVKIT) backup create

restore:
	@[ -n "$(NAME)" ] || { echo "usage: make restore NAME=<backup name from 'devkit backup list'>"; exit 2; }
	$(DEVKIT) restore "$(NAME)"

cleanup:
	$(DEVKIT) cleanup

cleanup-apply:
	$(DEVKIT) cleanup --apply

export:
	$(DEVKIT) export-data all

validate:
	$(DEVKIT) validate
