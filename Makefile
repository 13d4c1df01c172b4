# Two entry points for a fresh machine: `make run` and `make test`.
# Each sets up .venv itself; the stamps make a second call quick.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check
GEMSYM := $(VENV)/bin/gemsym

.PHONY: run test bench artefacts clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-deps: pyproject.toml | $(PY)
	$(PIP) -e .
	touch $@

# torch is pinned to 2.13.0: the CPU build that pip resolves here without pulling CUDA.
$(VENV)/.test-deps: pyproject.toml $(VENV)/.run-deps
	$(PIP) -e '.[test]'
	touch $@

run: $(VENV)/.run-deps
	$(GEMSYM) verify-smoothness --N 2
	$(GEMSYM) verify-smoothness --N symbolic

test: $(VENV)/.test-deps
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info
