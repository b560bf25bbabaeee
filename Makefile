# Two commands for a fresh machine: `make demo` and `make test`.
# Both bootstrap .venv (Python 3.11+, pip and gcc are all that is needed).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
FLAGSHIP := scenarios/ha-rest-api.yaml

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# The flagship uses health checks and DNS failover, which only the SimPy reference
# engine simulates today: the report runs on it (about a minute) until the numba
# engine has them.
demo: $(STAMP)
	$(BIN)/hasim validate scenarios/*.yaml scenarios/*.toml
	$(BIN)/hasim analyze $(FLAGSHIP)
	$(BIN)/hasim report $(FLAGSHIP) --engine simpy --replicas 200 --sensitivity-replicas 40 --out reports/ha-rest-api.html

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
