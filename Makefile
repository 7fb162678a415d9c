# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench fuzz messages otp install clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m config.launcher run

test: $(STAMP)
	$(PY) -m config.launcher test $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) -m config.launcher bench

fuzz: $(STAMP)
	$(PY) -m config.launcher fuzz

messages: $(STAMP)
	$(PY) -m config.launcher manage makemessages -l zh_Hans -l en --ignore=.venv --ignore=var
	$(PY) -m config.launcher manage compilemessages --ignore=.venv

# The current one-time code of a demo account: make otp LOGIN=officer-gd-ga
otp: $(STAMP)
	$(PY) -m config.launcher manage demo_otp $(LOGIN)

clean:
	rm -rf $(VENV) var
