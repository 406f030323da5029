# The portal's commands. Only Python 3.11+ and make are needed: the first
# command creates .venv from the pinned requirements (again whenever they
# change) and everything else runs inside it.
PYTHON ?= python3
# Vietnamese messages need UTF-8 whatever the terminal's locale.
export PYTHONUTF8 := 1
export PYTHONIOENCODING := utf-8
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
PELICAN := $(PY) -m pelican content -o output --log-handler plain
SITE_STAMP := $(VENV)/.site-requirements
TEST_STAMP := $(VENV)/.test-requirements

.PHONY: help html serve devserver publish clean test bench check article stats banners

help:
	@echo "make serve      build the sample portal and serve it on http://127.0.0.1:$(PORT)"
	@echo "make html       build only (into output/)"
	@echo "make devserver  rebuild on every save and serve (for previewing drafts)"
	@echo "make publish    strict build with publishconf.py"
	@echo "make test       run the whole test suite"
	@echo "make check      validate all content without building"
	@echo "make banners    list every banner: slot, order, status, clicks"
	@echo "make article TITLE=\"...\" CATEGORY=\"...\"  create a new draft article"
	@echo "make stats LOGS=\"/var/log/nginx/access.log*\"  access logs -> visitor and view feeds (system python3)"
	@echo "make bench      run the benchmarks"
	@echo "make clean      remove output/ and caches"

# Our own code (portal/ and plugins/, see pyproject.toml) is installed in
# editable mode: edits take effect at once and nothing touches sys.path.
$(SITE_STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-build-isolation --no-deps -e .
	@touch $@

$(TEST_STAMP): requirements-test.txt requirements.txt $(SITE_STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	@touch $@

# Any error (a broken article header, a missing lead photo) fails the build;
# output/ is swapped in only after a complete build (plugins/atomic_output).
html: $(SITE_STAMP)
	$(PELICAN) -s pelicanconf.py --fatal errors

serve: html
	$(PY) -m pelican --listen -s pelicanconf.py -o output -b 127.0.0.1 -p $(PORT)

devserver: $(SITE_STAMP)
	$(PY) -m pelican content -o output -s pelicanconf.py --log-handler plain --autoreload --listen -b 127.0.0.1 -p $(PORT)

# Staff tools (plugins/content_check): each problem is one `path:line: message`.
SETTINGS ?= pelicanconf.py
TOOLS := $(PY) -m content_check --settings $(SETTINGS)

check: $(SITE_STAMP)
	@$(TOOLS) check

banners: $(SITE_STAMP)
	@$(PY) -m banners --settings $(SETTINGS)

# Keep TITLE literal: a "$" in it is text, not a make variable.
override TITLE := $(value TITLE)
override CATEGORY := $(value CATEGORY)
export TITLE CATEGORY
article: $(SITE_STAMP)
	@# TITLE and CATEGORY are read from the environment, never pasted into
	@# the shell command: titles contain quotes, and $$ or ` must stay text.
	@$(TOOLS) new --title "$$TITLE" --category "$$CATEGORY"

# Strict: content is checked first, warnings fail the build too, drafts are left out.
publish: check
	$(PELICAN) -s publishconf.py --fatal warnings

test: $(TEST_STAMP)
	$(PY) -m pytest -q tests

# Benchmarks (not tests): each prints its figures and its same-run baseline.
bench: $(TEST_STAMP)
	$(PY) tests/bench/run.py $(BENCH)

# The visit counter (counter/): access logs -> content/feeds/{visitors,views}.json.
# Only pages the last build listed in its output registry PUBLISHED are counted.
# Standard library only: the system's $(PYTHON), no virtual environment, no
# pip bootstrap (cron runs this every minute, maybe on an offline server).
LOGS ?= /var/log/nginx/access.log*
FEEDS_DIR ?= content/feeds
STATE ?= cache/stats-state.json
PUBLISHED ?= cache/outputs.json
stats:
	$(PYTHON) -m counter --feeds-dir $(FEEDS_DIR) --state $(STATE) --published $(PUBLISHED) $(LOGS)

clean:
	# keeps cache/stats-state.json: the counter needs it to never count a log line twice;
	# the output registry goes with output/ (the counter then waits for the next build)
	rm -rf output output.staging output.old cache/pelican cache/outputs.json cache/outputs.json.unsure cache/articles-first tests/artifacts
