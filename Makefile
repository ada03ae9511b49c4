# `make book` and `make test` set everything up from a clean clone: the virtual environment, the package,
# and the default data set (Fashion-MNIST from Debian's dataset-fashion-mnist package).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FASHION_MNIST := /usr/share/datasets/fashion-mnist
PROFILE ?= quick

.PHONY: book test setup data clean clean-cache

book: setup
	$(BIN)/adaptsym book --profile $(PROFILE)

test: setup
	$(BIN)/python -m pytest

setup: $(STAMP) data

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# Fashion-MNIST, the default data set, as Debian ships it (sudo -n: a missing password fails with the command to
# run, it never prompts); elsewhere `adaptsym fetch fashion-mnist`.
data:
	@if [ ! -d $(FASHION_MNIST) ]; then \
	  if command -v apt-get >/dev/null; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo "sudo -n" ); \
	    $$SUDO apt-get install -y -q dataset-fashion-mnist || \
	      { $$SUDO apt-get update -q && $$SUDO apt-get install -y -q dataset-fashion-mnist; } || \
	      { echo "could not install dataset-fashion-mnist (make never asks for a sudo password): run 'sudo apt-get install dataset-fashion-mnist'"; exit 1; }; \
	  else \
	    echo "Fashion-MNIST is not installed and apt-get is missing: run '$(BIN)/adaptsym fetch fashion-mnist'"; \
	  fi; \
	fi

# `clean` removes what `make book` and `adaptsym run/sweep` write, and keeps build/cache (trained runs, ensembles,
# Ising fits, Hessian snapshots: the slow part); `clean-cache` removes that too.
clean:
	rm -rf build/_build build/chapters build/runs build/sweeps build/claims_table.md

clean-cache: clean
	rm -rf build/cache
