# glassnet: `make demo` and `make test` build .venv (if missing) with pinned versions and run.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.glassnet-installed

.PHONY: install demo test fuzz lint bench bench-partition clean browser mutation docs

$(STAMP): pyproject.toml constraints.txt setup.py $(wildcard src/glassnet/simplify/*.c)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dask,test,docs]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/glassnet demo

test: $(STAMP) browser
	$(BIN)/python -m pytest -n 2 -q

# The property tests with fresh random examples (`make test` draws the same ones every run, so
# CI judges the code, not the day's draw): run it before a release; turn each find into a test.
fuzz: $(STAMP)
	GLASSNET_HYPOTHESIS=explore $(BIN)/python -m pytest -n 2 -q -m "not browser" \
	  $$(grep -l "@given" tests/*.py)

# The report's browser test needs Debian's chromium; install it when we may (root or sudo),
# otherwise that one test is skipped and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] && echo "" || (command -v sudo >/dev/null && echo "sudo -n") ); \
	  ( $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium ) >/dev/null 2>&1 \
	  || echo "note: could not install chromium; the browser test will be skipped"; }

# API reference from the docstrings (Sphinx + numpydoc) into docs/_build/html; warnings are
# errors, as in tests/test_docs_build.py.
docs: $(STAMP)
	rm -rf docs/api/generated  # autosummary stubs of names that moved would fail the build
	OMP_NUM_THREADS=1 $(BIN)/python -m sphinx -b html -W --keep-going -j 1 docs docs/_build/html -d docs/_build/doctrees

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples

# Every script's output also goes to build/bench.log; the lines starting "issue 17 |" (ratios
# measured in this run, peers in their own venvs) are printed again at the end as one table.
bench: $(STAMP)
	@mkdir -p build && : > build/bench.log
	for f in $(filter-out benchmarks/partition_speed.py benchmarks/_%.py,$(wildcard benchmarks/*.py)); do \
	  echo "== $$f" | tee -a build/bench.log; \
	  $(BIN)/python $$f > build/bench.part 2>&1; rc=$$?; cat build/bench.part | tee -a build/bench.log; \
	  test $$rc -eq 0 || exit 1; done
	@echo "== issue 17: ratios measured in this run"; grep '^issue 17 |' build/bench.log || true

# regioncam (the compiled tool partition_2d is compared with) lives in its own venv, never
# in glassnet's dependencies.
bench-partition:
	@test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip install --quiet -c constraints.txt -e . regioncam
	.venv-bench/bin/python benchmarks/partition_speed.py

# Mutation testing (tools/mutation.py; docs/testing.md): a seeded sample per module, about 20 min
# on 2 cores. Not part of `make test`. Full mode: make mutation MUTATION_ARGS=--full
MUTATION_ARGS ?= --sample 6 --seed 0
mutation: $(STAMP)
	$(BIN)/python tools/mutation.py $(MUTATION_ARGS)

clean:
	rm -rf $(VENV) .venv-bench build dist docs/_build docs/api/generated src/*.egg-info .pytest_cache .hypothesis
