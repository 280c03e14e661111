# Two entry points: `make run` (the app on the shipped default model) and `make test`.
PY := .venv/bin/python
PORT ?= 8501
# Python and pytest keep compiled (and pytest's assertion-rewritten) modules in __pycache__:
# without them every test run compiles the suite and its dependencies again (~20 s of collecting here).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run replicas test test-fast lint docs bench install install-dev browser balancer podman

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

browser: balancer podman  # Debian's Chromium for the Playwright tests (Playwright's own browser download is not used)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi; }

balancer:  # Debian's HAProxy, in front of replicas (deploy/haproxy.cfg; tests/browser/test_replicas.py)
	@PATH="$$PATH:/usr/sbin" command -v haproxy >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq haproxy; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq haproxy; fi; }

podman:  # Podman (with runc) and debootstrap: tests/browser/test_image.py builds the Dockerfile on a debootstrapped Debian
	@PATH="$$PATH:/usr/sbin"; for c in podman runc debootstrap; do command -v $$c >/dev/null || missing=1; done; \
	[ -z "$$missing" ] || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq podman runc debootstrap; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq podman runc debootstrap; fi; }

run: install
	$(PY) -m streamlit run app.py --server.port $(PORT)

N ?= 2
replicas: install balancer  # N replicas behind HAProxy at PORT (deploy/replicas.py)
	$(PY) deploy/replicas.py --replicas $(N) --port $(PORT)

lint: install-dev  # ruff's lint rules and format check, configured in pyproject.toml
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

docs: install-dev  # the documentation site (docs/mkdocs.yml), built strictly into a temporary folder: a broken link fails
# (not --quiet: mkdocs then stops counting warnings, and --strict passes anything)
	@site=$$(mktemp -d) && trap 'rm -rf "$$site"' EXIT && \
	  NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict -f docs/mkdocs.yml -d "$$site"

test: lint docs browser
	$(PY) -m pytest -q

test-fast: lint docs
	$(PY) -m pytest -q -m "not browser and not slow"

bench: install
	$(PY) -m lstm_viz bench
