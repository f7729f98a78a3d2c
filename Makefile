# The two set-up commands of the README: `make demo` and `make test`.
# Each creates .venv with the Python on PATH (3.11+) and installs what it needs.

SHELL  := /bin/bash
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint fuzz bench bench-peers clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("pressbot needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,watch]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/pressbot fetch
	$(BIN)/pressbot users list | grep -qw demo || \
	  echo 'demo-password' | $(BIN)/pressbot users add demo --role admin --password-stdin
	@echo "review page: http://127.0.0.1:8080  (user: demo, password: demo-password)"
	$(BIN)/pressbot run

test: $(STAMP)
	$(BIN)/ruff check bot channels tests bench
	$(BIN)/mypy bot channels
	$(BIN)/pytest -q -n 4 --dist loadfile

fuzz: $(STAMP)
	PRESSBOT_FUZZ_EXAMPLES=20000 $(BIN)/pytest -q tests/test_properties.py tests/test_fit_properties.py tests/test_netguard.py tests/sources/test_corpus.py \
		tests/sources/test_extract.py::test_never_raises_on_any_text

bench: $(STAMP)
	for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# side by side with feed2toot and feediverse (issue 17): needs ../shared/peers or PEERS_HARNESS
bench-peers: $(STAMP)
	bash bench/peers.sh

clean:
	rm -rf $(VENV) var build dist *.egg-info
