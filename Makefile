# `make book` and `make test` set everything up from a clean clone: the virtual environment, the package,
# and the default data set (Fashion-MNIST from Debian's dataset-fashion-mnist package); `make test` also installs
# the headless browser of the book's browser test (Debian's chromium and chromium-driver).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FASHION_MNIST := /usr/share/datasets/fashion-mnist
PROFILE ?= quick

.PHONY: book test publish setup data browser clean clean-cache

book: setup
	$(BIN)/adaptsym book --profile $(PROFILE)

test: setup browser
	$(BIN)/python -m pytest

# The built book (build/_build/html) to the gh-pages branch of origin, with ghp-import; `make book` first.
publish: $(STAMP)
	$(BIN)/adaptsym publish

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

# Debian's chromium and chromium-driver for tests/test_browser.py, installed like the data set (never prompting).
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo "sudo -n" ); \
	  $$SUDO apt-get install -y -q chromium chromium-driver || \
	    { $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium chromium-driver; } || \
	    { echo "could not install chromium (make never asks for a sudo password): run 'sudo apt-get install chromium chromium-driver'"; exit 1; }; \
	fi

# `clean` removes what `make book` and `adaptsym run/sweep` write, and keeps build/cache (trained runs, ensembles,
# Ising fits, Hessian snapshots: the slow part); `clean-cache` removes that too.
clean:
	rm -rf build/_build build/chapters build/pages build/static build/_toc.yml build/timings.json build/runs \
	  build/sweeps build/screenshots

clean-cache: clean
	rm -rf build/cache
