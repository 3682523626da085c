# Two commands on a fresh machine: `make demo` (set up + build the demo world), `make test`.
# The engine pins Python 3.11 (some pinned wheels do not exist for newer versions).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)/.dagster_home

.PHONY: install demo test dev bench clean

$(VENV)/.installed: pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "make: Python 3.11 is required; found " + sys.version.split()[0] + " (set PYTHON=/path/to/python3.11)")'
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.3
	$(BIN)/pip install --quiet --constraint requirements.lock --editable '.[test]'
	touch $@

install: $(VENV)/.installed

$(DAGSTER_HOME)/dagster.yaml:
	mkdir -p $(DAGSTER_HOME)
	printf 'telemetry:\n  enabled: false\nnux:\n  enabled: false\n' > $@

# `make demo SEED=7` builds the sibling world of another seed.
demo: install $(DAGSTER_HOME)/dagster.yaml
	ENGINE_PROFILE=demo $(BIN)/python -m engine_assets.demo $(if $(SEED),--seed $(SEED))

# pytest exits 5 when it collected nothing: that is a failure here, not a pass.
test: install
	@$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests"; exit 1; fi; exit $$rc

# Extra `dagster dev` arguments, e.g. `make dev DEV_ARGS='-p 3001'`.
DEV_ARGS ?=
dev: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m engine_assets.dev $(DEV_ARGS)

bench: install
	$(BIN)/python benchmarks/rng.py
	$(BIN)/python benchmarks/write_limit.py
	$(BIN)/python benchmarks/reference.py
	$(BIN)/python benchmarks/seg_1a.py
	$(BIN)/python benchmarks/sites.py
	$(BIN)/python benchmarks/routing.py
	$(BIN)/python benchmarks/intensity.py
	$(BIN)/python benchmarks/arrivals.py
	$(BIN)/python benchmarks/entities.py
	$(BIN)/python benchmarks/flows.py

clean:
	rm -rf $(VENV) .dagster_home data .pytest_cache
