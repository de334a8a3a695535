# The README's commands (each installs into .venv on first use):
#   make lab   -> the course: the lab and export extras, then JupyterLab on nbs/
#   make test  -> every extra the tests need, then every test (nbdev_test + pytest)
#   make docs  -> the course website in _docs/
# Offline: point DIGIT_LAB_MNIST_DIR at a folder holding the four MNIST idx files.
# CI installs from a complete lock: make test CONSTRAINTS=.ci/requirements.lock
PYTHON      ?= python3
VENV        ?= .venv
BIN         := $(VENV)/bin
LAB_EXTRAS  ?= lab,export
TEST_EXTRAS ?= dev,lab,export,docs,tfjs
CONSTRAINTS ?= .ci/constraints.txt
comma       := ,
stamp        = $(VENV)/.installed-$(subst $(comma),-,$(1))
# nbdev_test runs notebooks in parallel; each gets one BLAS thread so 2 cores are not oversubscribed
NB_WORKERS  ?= 2

.PHONY: lab test install install-lab nbtest pytest js docs clean-venv

define pip_install
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) -e '.[$(1)]'
	touch $@
endef

install: $(call stamp,$(TEST_EXTRAS))
$(call stamp,$(TEST_EXTRAS)): settings.ini setup.py $(CONSTRAINTS)
	$(call pip_install,$(TEST_EXTRAS))

install-lab: $(call stamp,$(LAB_EXTRAS))
$(call stamp,$(LAB_EXTRAS)): settings.ini setup.py $(CONSTRAINTS)
	$(call pip_install,$(LAB_EXTRAS))

# npm packages for the TF.js parity and web tests (lock file committed)
js:
	@if [ -f tests/js/package-lock.json ] && [ ! tests/js/node_modules/.installed -nt tests/js/package-lock.json ]; then \
	  cd tests/js && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; fi

lab: install-lab
	$(BIN)/jupyter lab nbs

nbtest: install
	OMP_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers $(NB_WORKERS) --do_print --timing

pytest: install js
	$(BIN)/pytest -q tests

test: nbtest pytest

# the course website in _docs/: Sphinx + myst-nb render the notebooks' stored outputs (nothing is re-run), the API
# reference from docments, and the `digit-lab export --format web` page as a live demo; works offline (docs/build.py)
docs: install
	$(BIN)/python docs/build.py

clean-venv:
	rm -rf $(VENV)
