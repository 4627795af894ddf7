# Everything a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

WORKBOOK := workbooks/customers.xlsx

# Until the service lands, `run` installs the template with messy sample rows (only when the
# workbook does not exist yet) and checks it. `check` exits 1 when it finds work: not a failure.
run: $(STAMP)
	@mkdir -p workbooks
	@test -e $(WORKBOOK) || $(BIN)/sheetkeeper install crm --to $(WORKBOOK) --with-samples
	@$(BIN)/sheetkeeper check $(WORKBOOK); status=$$?; [ $$status -le 1 ] || exit $$status

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(ARGS)
	$(BIN)/python -m benchmarks.apply $(ARGS)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
