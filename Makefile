# Two commands do all the set-up on a fresh machine:
#   make report   builds the full-length report on MNIST into reports/ (the benchmark, then every concept in
#                 float64 and float32)
#   make test     runs the test suite but its slow proofs, in two processes (about 5 minutes on 2 cores)
#   make test-all the whole test suite, slow proofs included (other seeds, whole-concept planted mistakes,
#                 the full determinism run); what CI (.ci/run) runs
#   make sweep    every check at seeds 0-19 (SEEDS=0-99 for more), quick set-ups, into reports/sweep; `make report`
#                 keeps it and shows its summary
# Both create .venv and install the project into it first.
#
# torch: the project accepts any torch >= 2.1. The set-up installs TORCH_SPEC first (a CPU build
# where the machine's pip provides one); override it, e.g. `make test TORCH_SPEC='torch==2.5.1'`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
ARGS ?=

.PHONY: install report sweep test test-all clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)" || $(PY) -m pip install --quiet "torch>=2.1"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

report: install
	$(PY) -m comparisons bench --out reports/bench
	$(PY) -m comparisons run --all --dtype float64 float32 --out reports $(ARGS)

sweep: install
	$(PY) -m comparisons sweep --seeds $(or $(SEEDS),0-19) --dtype float64 float32 --jobs 2 --out reports/sweep

# pytest-xdist: two test processes; --dist loadgroup keeps the tests that read one concept's run (or one
# shared report folder) in one process, which makes it once (see tests/conftest.py)
PYTEST := $(PY) -m pytest -q -n $(or $(JOBS),2) --dist loadgroup -p no:cacheprovider

test: install
	$(PYTEST) -m "not slow" $(ARGS)

test-all: install
	$(PYTEST) $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
