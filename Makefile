# The README's commands. `make run` and `make test` set everything up on a fresh machine.
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
KG     := $(VENV)/bin/kg
# The CPU build of PyTorch (a plain `torch` requirement would pull a multi-GB CUDA build).
TORCH  ?= torch==2.13.0

.PHONY: run setup test test-fast lint chromium clean notebook

run: setup
	$(KG) build examples/daily-papers-order.txt --out outputs

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: setup chromium
	$(PY) -m pytest

# The analysis notebook on the whole 5k arXiv corpus (builds it into build/notebook-5k the first
# time, several minutes); writes notebooks/analysis.out.ipynb. KG_NOTEBOOK_FAST=1: a 300-paper slice.
notebook: setup
	$(VENV)/bin/jupyter-execute --timeout=-1 --output=analysis.out notebooks/analysis.ipynb

lint: setup
	$(VENV)/bin/ruff check kg tests benchmarks
	$(VENV)/bin/mypy kg

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
