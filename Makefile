# The whole set-up is `make demo` and `make test`: both create .venv when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Material for MkDocs prints an end-of-life banner on every build; the builds stay quiet.
export NO_MKDOCS_2_WARNING := 1

.PHONY: demo test lint typecheck pytest clean serve migration docs

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/leadbot demo

test: $(STAMP)
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mkdocs build --strict --quiet
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

serve: $(STAMP)
	$(BIN)/leadbot serve

# Regenerates the configuration reference from the settings, then builds the site into site/.
docs: $(STAMP)
	$(BIN)/python -m bot.docs
	$(BIN)/mkdocs build --strict

# Regenerates the initial migration from the models (pre-release: one migration).
migration: $(STAMP)
	$(BIN)/python -m storage.makemigration

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache site
