# Two commands do all the set-up:  `make lab`  and  `make test`  (see README.md).
# Every target that needs Python first makes .venv from the pinned requirements; a second run
# reuses it and reinstalls only when a pinned file or pyproject.toml changed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
WEB    := build/web/node_modules/.package-lock.json  # make web-assets
PYTEST_NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
                --nbval-kernel-startup-timeout 120

.PHONY: lab test check unit nbval lint format notebooks bench student html lock clean help \
        test-distributed test-browser check-lock test-grader-security bench-grade \
        nbval-profile nbval-replays test-portability fragility slides slide-metadata web-assets \
        gradescope-autograder handout mutation

help:
	@echo "make lab        set up .venv, then open JupyterLab on notebooks/00_index.ipynb"
	@echo "make test       set up .venv, then ruff + unit tests + nbval replays (as this machine"
	@echo "                rounds and under $(TEST_PROFILES), at once) + browser tests"
	@echo "make check      the fast loop: ruff + the unit tests that need no kernel, browser, sandbox"
	@echo "                or npm (about a minute)"
	@echo "make lint       ruff check and ruff format --check of helpers, tests and notebooks"
	@echo "make format     ruff format, then ruff check --fix"
	@echo "make unit       every unit test but the browser and sandbox ones (kernels, nbgrader, a wheel)"
	@echo "make nbval      replay every notebook with nbval as this machine rounds"
	@echo "make nbval-profile PROFILE=name  the replay under one numerics profile"
	@echo "make nbval-replays  the replay as this machine rounds and under $(TEST_PROFILES), at once"
	@echo "make test-portability  nbval replay under every numerics profile (tests/numerics_profiles.txt)"
	@echo "make fragility  run every notebook under every numerics profile; list each output that changed"
	@echo "make test-browser  every notebook run in JupyterLab in Chromium; make html's pages"
	@echo "make notebooks  re-execute every notebook in place (stored outputs come only from here)"
	@echo "make bench      execute every notebook headless; print seconds and peak memory"
	@echo "make student    write student versions to student/ (solutions removed)"
	@echo "make html       static pages of the notebooks for students (no solutions), in build/html/;"
	@echo "                AUDIENCE=instructor keeps the solutions (offline)"
	@echo "make slides     a reveal.js deck per notebook, in build/slides/ (offline); THEME=black"
	@echo "                for a dark room"
	@echo "make handout    a PDF per deck, one slide a page, in build/handout/ (needs Chromium)"
	@echo "make slide-metadata  slide types and speaker notes on the notebooks' cells, by rule"
	@echo "make web-assets MathJax, reveal.js, require.js, widget manager from npm (web/package.json)"
	@echo "make lock       re-resolve requirements*.in into the universal locks requirements*.txt"
	@echo "make check-lock ask the package index that every lock installs on every supported platform"
	@echo "make test-distributed  two tuning workers sharing a study on a throwaway PostgreSQL"
	@echo "make test-grader-security  every attack on the grader, in its sandbox (bwrap; root or user namespaces)"
	@echo "make bench-grade  time the grader: one student's week, 40 submissions with --jobs 1 and 2"
	@echo "make gradescope-autograder  Gradescope's autograder zip in build/ (setup.sh, run_autograder, the course)"
	@echo "make mutation   mutate each exercise's reference; print the share of mutants its checks reject"
	@echo "make clean      remove .venv, build/, student/ and pytest's cache"

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else \
	    "Python 3.11, 3.12 or 3.13 is required (found " + sys.version.split()[0] + "); set PYTHON=/path/to/python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
	    -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

lab: $(STAMP)
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/00_index.ipynb

test: lint unit nbval-replays test-browser

lint: $(STAMP)
	$(BIN)/ruff check helpers tests notebooks
	$(BIN)/ruff format --check helpers tests notebooks

format: $(STAMP)
	$(BIN)/ruff format helpers tests notebooks
	$(BIN)/ruff check --fix helpers tests notebooks

# The attacks on the grader take minutes of sandboxed runs: their own target, below (with the
# grading of a class on a Dask cluster, which needs requirements-distributed.txt).
# The tests that build pages or decks need the npm packages: made when npm is there; without
# it those tests are skipped with a note (DNN_WEEK3_REQUIRE_BROWSER=1, as in CI, fails instead).
WEB_IF_NPM := $(if $(shell command -v npm),$(WEB))
UNIT_IGNORE := --ignore=tests/test_grade_security.py --ignore=tests/test_grade_dask.py

unit: $(STAMP) $(WEB_IF_NPM)
	$(BIN)/python -m pytest -m "not browser" $(UNIT_IGNORE) tests

# The loop to run after every change: no kernels, notebooks, browser, sandbox or npm.
check: lint
	$(BIN)/python -m pytest -q -m "not slow and not browser and not distributed" $(UNIT_IGNORE) tests

# Needs Debian's bubblewrap (apt-get install bubblewrap) and root or user namespaces: each run is a
# sandbox of its own. Skipped with a note otherwise, unless DNN_WEEK3_REQUIRE_SANDBOX=1 (.ci/run).
# Also grades a few submissions on a Dask scheduler and two workers started on 127.0.0.1.
test-grader-security: $(VENV)/.distributed
	$(BIN)/python -m pytest -p no:cacheprovider tests/test_grade_security.py \
	    tests/test_grade_dask.py

# Not a test: one-change mutants of each exercise's reference, judged by its check and hidden
# cases; prints the share rejected per exercise and the survivors, writes build/mutation.json.
mutation: $(STAMP)
	$(BIN)/python tests/mutation.py

# A benchmark, not a test: prints seconds and writes build/bench-grade.json.
bench-grade: $(STAMP)
	$(BIN)/python -m helpers.course.bench_grade --json build/bench-grade.json

# Gradescope's autograder: gradescope/setup.sh and run_autograder, with the course beside them.
gradescope-autograder: $(STAMP)
	$(BIN)/python -m helpers.course.grading.gradescope --out build/gradescope-autograder.zip

nbval: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_NBVAL) notebooks

# Numerics profiles (tests/numerics_profiles.txt) make this machine round like another CPU;
# stored outputs must replay under each. `make test` replays as this machine rounds and under
# TEST_PROFILES at once (each replay is mostly one busy core): a laptop without AVX-512 (other
# OpenBLAS kernels) and an old SSE-only CPU (other oneDNN, OpenBLAS and NumPy loops), the two
# kinds of difference `make fragility` finds on the CI machine kind.
PROFILES := tests/numerics_profiles.txt
TEST_PROFILES := laptop-avx2 old-sse
PROFILE ?= laptop-avx2
# make 4 prints each replay's output in one piece; macOS's make 3.81 interleaves it
SYNC := $(if $(filter 3.%,$(MAKE_VERSION)),,--output-sync=target)

nbval-profile: $(STAMP)
	@vars=$$(awk -v p='$(PROFILE)' '$$1 == p { $$1 = ""; print; found = 1 } END { exit !found }' \
	    $(PROFILES)) || { echo "no numerics profile '$(PROFILE)' in $(PROFILES)"; exit 1; }; \
	echo "nbval under numerics profile $(PROFILE):$${vars:- (no variables)}"; \
	env $$vars $(BIN)/python -m pytest $(PYTEST_NBVAL) -p no:cacheprovider notebooks

nbval-profile-%: $(STAMP)
	@$(MAKE) --no-print-directory nbval-profile PROFILE=$*

nbval-replays: $(STAMP)
	@$(MAKE) --no-print-directory -j$(words x $(TEST_PROFILES)) $(SYNC) nbval \
	    $(addprefix nbval-profile-,$(TEST_PROFILES))

test-portability: $(STAMP)
	@failed=; for p in $$(awk '!/^#/ && NF { print $$1 }' $(PROFILES)); do \
	    $(MAKE) --no-print-directory nbval-profile PROFILE=$$p || failed="$$failed $$p"; \
	done; test -z "$$failed" || { echo "nbval failed under:$$failed"; exit 1; }

# Not a test: every notebook executed under every profile (two at a time), each compared with its
# stored outputs as nbval compares them; lists every output that changed, with its cell and
# profiles, and writes build/fragility.json. About 20 minutes on 2 cores.
fragility: $(STAMP)
	$(BIN)/python tests/fragility.py --jobs 2 --json build/fragility.json notebooks/*.ipynb

# The PostgreSQL driver and Dask's distributed, only for the targets below: `make lab` and
# `make test` never install them.
$(VENV)/.distributed: requirements-distributed.txt $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-distributed.txt
	touch $@

# Needs Debian's PostgreSQL server (apt-get install postgresql); the script starts a throwaway
# one on 127.0.0.1 and removes it afterwards, whatever happens.
test-distributed: $(VENV)/.distributed
	bash tests/with_postgresql.sh $(BIN)/python -m pytest -m distributed -p no:cacheprovider \
	    tests/test_tuning.py

# Debian's Chromium (apt-get install chromium) drives JupyterLab; without it the tests are skipped
# with a note, unless DNN_WEEK3_REQUIRE_BROWSER=1 (.ci/run). Screenshots: build/screenshots/.
test-browser: $(STAMP) $(WEB)
	$(BIN)/python -m pytest -m browser -p no:cacheprovider tests/test_browser.py

notebooks: $(STAMP)
	$(BIN)/python -m helpers.course.execute --in-place $(if $(FORCE),--force) notebooks/*.ipynb

bench: $(STAMP)
	$(BIN)/python -m helpers.course.execute --bench --json build/bench.json notebooks/*.ipynb

student: $(STAMP)
	$(BIN)/python -m helpers.course.release $(if $(FORCE),--force) --out student notebooks/*.ipynb

# Pages for students by default: made from make student's copies in memory (nothing is written
# to student/), outputs from the notebooks' own run. AUDIENCE=instructor keeps the solutions.
AUDIENCE ?= student
html: $(STAMP) $(WEB)
	$(BIN)/python -m helpers.course.html_export --audience $(AUDIENCE) --out build/html notebooks/*.ipynb

# The scripts the pages and slides load (MathJax, reveal.js, require.js, the widgets' HTML
# manager) come from npm at build time, at the versions of web/package-lock.json, and are copied
# next to the pages: never a CDN, never committed. Needs node and npm (apt-get install npm).
web-assets: $(WEB)
$(WEB): web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the pages' scripts: apt-get install npm"; exit 1; }
	mkdir -p build/web
	cp web/package.json web/package-lock.json build/web/
	cd build/web && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

# THEME=black: a dark deck for a dark room (figures on a light card).
THEME ?= white
slides: $(STAMP) $(WEB)
	$(BIN)/python -m helpers.course.slides build --theme $(THEME) --out build/slides notebooks/*.ipynb

# Chromium (apt-get install chromium) prints each deck's ?print-pdf view: build/handout/*.pdf.
# Always the light theme: paper is white.
handout: $(STAMP) $(WEB)
	$(BIN)/python -m helpers.course.slides build --out build/handout/decks notebooks/*.ipynb
	$(BIN)/python -m helpers.course.handout --out build/handout build/handout/decks/*.slides.html

# Slide types and speaker notes by rule (helpers/course/slides.py); keeps what a person changed
# unless FORCE=1. Re-execute the notebooks afterwards (make notebooks).
slide-metadata: $(STAMP)
	$(BIN)/python -m helpers.course.slides annotate $(if $(FORCE),--force) notebooks/*.ipynb

# One universal lock per requirements*.in for every supported platform and Python (environment
# markers choose per machine), resolved by uv from the direct pins. Each lock holds only what the
# ones before it do not; the versions already locked are kept unless a pin moves them.
LOCK_FLAGS := pip compile --quiet --universal --python-version 3.11 --custom-compile-command "make lock"
lock: $(STAMP)
	$(BIN)/uv $(LOCK_FLAGS) requirements.in -o requirements.txt
	$(BIN)/uv $(LOCK_FLAGS) requirements-dev.in -c requirements.txt -o requirements-dev.txt \
	    $$(sed -n 's/^\([A-Za-z0-9_.-]*\)==.*/--no-emit-package \1/p' requirements.txt)
	$(BIN)/uv $(LOCK_FLAGS) requirements-distributed.in -c requirements.txt -c requirements-dev.txt \
	    -o requirements-distributed.txt \
	    $$(sed -n 's/^\([A-Za-z0-9_.-]*\)==.*/--no-emit-package \1/p' requirements.txt requirements-dev.txt)

# Asks the package index, for every supported platform and Python version, whether each lock
# installs there from wheels alone; fails naming the platform and the package without one.
check-lock: $(STAMP)
	$(BIN)/python tests/check_lock.py

clean:
	rm -rf $(VENV) build student .pytest_cache
