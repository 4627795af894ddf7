# Everything a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-deps bench install clean messages catalogs docs-images

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

WORKBOOK := workbooks/customers.xlsx

# `run` installs the template with messy sample rows on first run (only when the workbook does
# not exist yet), then starts the service on the embedded default: it watches workbooks/, keeps
# its data in workbooks/.sheetkeeper and logs one line per event. Ctrl-C stops it.
run: $(STAMP)
	@mkdir -p workbooks
	@test -e $(WORKBOOK) || $(BIN)/sheetkeeper install crm --to $(WORKBOOK) --with-samples
	@echo "sheetkeeper is watching workbooks/ (open $(WORKBOOK), edit and save; Ctrl-C stops it)"
	@$(BIN)/sheetkeeper run

test: $(STAMP)
	$(BIN)/python -m pytest -q

BENCH_STAMP := $(VENV)/.installed-bench

# The benchmarks' own extras (Splink, the duplicate benchmark's peer), beside the test ones.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

# DEDUPE_ARGS: e.g. DEDUPE_ARGS='--sizes 1000,10000,100000 --by-slip'
bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks $(ARGS)
	$(BIN)/python -m benchmarks.apply $(ARGS)
	$(BIN)/python -m benchmarks.service $(ARGS)
	$(BIN)/python -m benchmarks.gsheets
	$(BIN)/python -m benchmarks.dedupe $(DEDUPE_ARGS)
	$(BIN)/python -m benchmarks.ledgers

# Translations (i18n/__init__.py, ARCHITECTURE.md): `make messages` extracts every _() text into
# i18n/sheetkeeper.pot and merges it into each catalog's .po (new texts come in untranslated);
# translate them there, then `make catalogs` compiles the .mo files the package ships.
I18N_SOURCES := rules sync service audit sheet_templates i18n
messages:
	$(BIN)/pybabel --quiet extract -F i18n/babel.cfg --no-default-keywords -k _:1 -k _n:1,2 \
		-c TRANSLATORS: --sort-output --no-location --project sheetkeeper --copyright-holder sheetkeeper \
		-o i18n/sheetkeeper.pot $(I18N_SOURCES)
	$(BIN)/pybabel --quiet update -i i18n/sheetkeeper.pot -d i18n/locale -D sheetkeeper \
		--ignore-obsolete --no-wrap

catalogs:
	$(BIN)/pybabel compile --statistics -d i18n/locale -D sheetkeeper

# The README's pictures of a cleaned list in each language (docs/sheet-*.png), printed by
# LibreOffice (Debian: libreoffice-calc-nogui, poppler-utils).
docs-images: $(STAMP)
	$(BIN)/python -m tests.rendering docs

# What the tests that look at the sheet as a person sees it need besides Python (Debian or
# Ubuntu, as root): LibreOffice headless and poppler's pdftoppm. Without them those tests skip.
test-deps:
	@command -v soffice >/dev/null && command -v pdftoppm >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq libreoffice-calc-nogui poppler-utils; }

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
