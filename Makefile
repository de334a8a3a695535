# Two commands do all the set-up (see README):
#   make lab   -> installs into .venv on first use, then starts JupyterLab on nbs/
#   make test  -> installs into .venv on first use, then runs every test (nbdev_test + pytest)
# Offline: point DIGIT_LAB_MNIST_DIR at a folder holding the four MNIST idx files.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
EXTRAS ?= dev,tfjs,docs
comma  := ,
STAMP  := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
# nbdev_test runs notebooks in parallel; each gets one BLAS thread so 2 cores are not oversubscribed
NB_WORKERS ?= 2

.PHONY: lab test install nbtest pytest js clean-venv

install: $(STAMP)

$(STAMP): settings.ini setup.py .ci/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c .ci/constraints.txt -e '.[$(EXTRAS)]'
	touch $@

# npm packages for the TF.js parity and web tests (lock file committed)
js:
	@if [ -f tests/js/package-lock.json ] && [ ! tests/js/node_modules/.installed -nt tests/js/package-lock.json ]; then \
	  cd tests/js && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; fi

lab: install
	$(BIN)/jupyter lab nbs

nbtest: install
	OMP_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers $(NB_WORKERS) --do_print --timing

pytest: install js
	$(BIN)/pytest -q tests

test: nbtest pytest

clean-venv:
	rm -rf $(VENV)

# the course website in _docs/: Sphinx + myst-nb render the notebooks' stored outputs (nothing is re-run), the API
# reference from docments, and the `digit-lab export --format web` page as a live demo; works offline (docs/build.py)
.PHONY: docs
docs: install
	$(BIN)/python docs/build.py
