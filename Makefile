# Two entry points: `make run` (the app on the shipped default model) and `make test`.
PY := .venv/bin/python
PORT ?= 8501

.PHONY: run replicas test test-fast lint bench install install-dev browser balancer

.venv/installed: requirements.txt
	python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

.venv/installed-dev: .venv/installed requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

install: .venv/installed
install-dev: .venv/installed-dev

browser: balancer  # Debian's Chromium for the Playwright tests (Playwright's own browser download is not used)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi; }

balancer:  # Debian's HAProxy, in front of replicas (deploy/haproxy.cfg; tests/browser/test_replicas.py)
	@PATH="$$PATH:/usr/sbin" command -v haproxy >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq haproxy; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq haproxy; fi; }

run: install
	$(PY) -m streamlit run app.py --server.port $(PORT)

N ?= 2
replicas: install balancer  # N replicas behind HAProxy at PORT (deploy/replicas.py)
	$(PY) deploy/replicas.py --replicas $(N) --port $(PORT)

lint: install-dev  # ruff's lint rules and format check, configured in pyproject.toml
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: lint browser
	$(PY) -m pytest -q

test-fast: lint
	$(PY) -m pytest -q -m "not browser"

bench: install
	$(PY) -m lstm_viz bench
