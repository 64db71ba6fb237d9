# devkit developer commands. `make test` is the one command CI and README use.
PYTHON ?= python3
VENV ?= .venv
# `make test` installs only what the tests need; the formatters come with lint/format.
TEST_PACKAGES = pytest pytest-cov
LINT_PACKAGES = black isort pre-commit
LINT_STAMP = $(VENV)/.lint-packages
VPY = $(VENV)/bin/python
VERSIONS = 3.9 3.10 3.11 3.12 3.13

.PHONY: test test-all golden venv pyz bench docs format lint clean backup restore cleanup cleanup-apply export validate

$(VPY):
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q $(TEST_PACKAGES)

$(LINT_STAMP): $(VPY)
	$(VPY) -m pip install -q $(LINT_PACKAGES)
	touch $@

venv: $(VPY)

test: $(VPY)
	$(VPY) -m pytest --cov=devkit --cov-report=term:skip-covered $(PYTEST_ARGS)

# Rewrite tests/golden/*.txt from the current screens after an intended change; review the diff.
golden: $(VPY)
	$(VPY) -m tests.golden.refresh

test-all:
	@set -e; for v in $(VERSIONS); do \
	  py=$$(.ci/find-python $$v) || { echo "python$$v: not found, skipped"; continue; }; \
	  echo "== python$$v ($$py)"; \
	  $(MAKE) --no-print-directory test PYTHON=$$py VENV=.venv-$$v; \
	done

pyz:
	$(PYTHON) -m devkit._build dist/devkit.pyz

bench:
	$(PYTHON) bench/startup.py
	@for b in bench/metrics_bench.py bench/export_bench.py bench/status_bench.py bench/cleanup_bench.py; do \
	  [ -f $$b ] && $(PYTHON) $$b || true; done

format: $(LINT_STAMP)
	$(VPY) -m isort devkit tests bench examples
	$(VPY) -m black devkit tests bench examples

lint: $(LINT_STAMP)
	$(VPY) -m isort --check-only devkit tests bench examples
	$(VPY) -m black --check devkit tests bench examples

clean:
	rm -rf build dist .venv .venv-3.* .pytest_cache .coverage

docs:
	COLUMNS=100 $(PYTHON) -m devkit._docs > docs/CLI.md

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
