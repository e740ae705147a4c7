# The two commands a newcomer needs: `make demo` runs the main job against the local sandbox, `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo demo-down test lint unit unit-oldest integration engine kube helm sandbox-up sandbox-down bench clean docs \
	docs-browser-test compat compat-oldest compat-newest compat-engine engine-newest

# The editable install is setuptools' "strict" mode: a tree of links to the sources in build/, which mypy can
# follow (the top-level folders map into pulumi_cluster_connect). A new module needs a re-install: any change
# to the set of package files re-runs this rule.
PACKAGE_FILES := $(shell find components dynamic_providers sandbox src -type f -not -path '*/__pycache__/*' 2>/dev/null | sort)
$(BIN)/.installed: pyproject.toml constraints.txt $(VENV)/.package-files
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.3
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]" --config-settings editable_mode=strict
	touch $@

$(VENV)/.package-files: FORCE
	@mkdir -p $(VENV)
	@echo "$(PACKAGE_FILES)" | cmp -s - $@ || echo "$(PACKAGE_FILES)" > $@

FORCE:

engine:
	@bash tools/pulumi/build.sh >/dev/null

kube:
	@bash sandbox/toolchain/kubernetes/build.sh >/dev/null

helm:
	@bash tools/helm/build.sh >/dev/null

demo: $(BIN)/.installed engine kube helm
	$(BIN)/cluster-connect demo up

demo-down: $(BIN)/.installed engine
	$(BIN)/cluster-connect demo down

sandbox-up: $(BIN)/.installed kube
	$(BIN)/cluster-connect sandbox up --background

sandbox-down: $(BIN)/.installed
	$(BIN)/cluster-connect sandbox down

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict -p pulumi_cluster_connect
	$(BIN)/mypy --strict tests bench
	$(BIN)/lint-imports
	for program in __main__.py examples/*/__main__.py; do $(BIN)/mypy --strict "$$program" || exit 1; done

unit: $(BIN)/.installed
	$(BIN)/pytest -m unit -q

# The unit tests once more against the oldest pulumi SDK that pyproject.toml allows (users' projects pin theirs).
OLDEST_PULUMI := 3.231.0
OLDEST := .venv-oldest
# An environment like .venv but with another pulumi SDK: $(call sdk_environment,FOLDER,VERSION).
define sdk_environment
	test -x $(1)/bin/python || $(PYTHON) -m venv $(1)
	grep -v '^pulumi==' constraints.txt > $(1)/constraints.txt
	$(1)/bin/pip install --quiet --upgrade pip==25.3
	$(1)/bin/pip install --quiet -c $(1)/constraints.txt -e ".[dev]" "pulumi==$(2)" --config-settings editable_mode=strict
	touch $(1)/.installed
endef
$(OLDEST)/.installed: pyproject.toml constraints.txt $(VENV)/.package-files
	$(call sdk_environment,$(OLDEST),$(OLDEST_PULUMI))

unit-oldest: $(OLDEST)/.installed
	$(OLDEST)/bin/python -c 'import importlib.metadata as m, sys; v = m.version("pulumi"); print("pulumi SDK", v); sys.exit(v != "$(OLDEST_PULUMI)")'
	$(OLDEST)/bin/pytest -m unit -q -p no:cacheprovider

# The compatibility suite (tests/compat, marker `compat`) on what users have besides our pins: the oldest and the
# newest pulumi SDK (each leg's provider processes run that SDK: the tests check it), and the newest engine the Go
# module proxy serves, each with our language host. The whole suite stays on the pinned engine and SDK.
NEWEST_PULUMI := 3.272.0
NEWEST_ENGINE := v3.277.0
NEWEST := .venv-newest
$(NEWEST)/.installed: pyproject.toml constraints.txt $(VENV)/.package-files
	$(call sdk_environment,$(NEWEST),$(NEWEST_PULUMI))

# The Python toolchains a user's project may name (runtime.options.toolchain), pinned, in their own environment so
# that their dependencies never meet ours; tests/compat/test_toolchains.py finds them here.
UV_VERSION := 0.13.9
POETRY_VERSION := 2.5.1
TOOLCHAINS := .venv-toolchains
TOOLCHAINS_STAMP := $(TOOLCHAINS)/.installed-uv-$(UV_VERSION)-poetry-$(POETRY_VERSION)
$(TOOLCHAINS_STAMP):
	test -x $(TOOLCHAINS)/bin/python || $(PYTHON) -m venv $(TOOLCHAINS)
	$(TOOLCHAINS)/bin/pip install --quiet --upgrade pip==25.3
	$(TOOLCHAINS)/bin/pip install --quiet "uv==$(UV_VERSION)" "poetry==$(POETRY_VERSION)"
	touch $@

engine-newest:
	@bash tools/pulumi/build.sh $(NEWEST_ENGINE) >/dev/null

# Each leg prints its time; COMPAT_SDK / COMPAT_ENGINE are what the tests expect to find running.
# With the unit tests of the SDK internals we lean on (the serving pool, the gRPC context, the pickled provider).
SDK_INTERNALS_TESTS := tests/unit/test_serving.py tests/unit/test_reporting.py \
	tests/unit/test_reporting_through_provider_server.py tests/unit/test_provider_pickling.py
COMPAT_PYTEST = pytest -q -p no:cacheprovider tests/compat $(SDK_INTERNALS_TESTS)
compat-oldest: $(OLDEST)/.installed engine kube helm $(TOOLCHAINS_STAMP)
	@started=$$(date +%s); COMPAT_SDK=$(OLDEST_PULUMI) $(OLDEST)/bin/$(COMPAT_PYTEST); status=$$?; \
		echo "compat: oldest SDK $(OLDEST_PULUMI) took $$(( $$(date +%s) - started ))s"; exit $$status

compat-newest: $(NEWEST)/.installed engine kube helm $(TOOLCHAINS_STAMP)
	@started=$$(date +%s); COMPAT_SDK=$(NEWEST_PULUMI) $(NEWEST)/bin/$(COMPAT_PYTEST); status=$$?; \
		echo "compat: newest SDK $(NEWEST_PULUMI) took $$(( $$(date +%s) - started ))s"; exit $$status

compat-engine: $(BIN)/.installed engine-newest kube helm $(TOOLCHAINS_STAMP)
	@started=$$(date +%s); COMPAT_ENGINE=$(NEWEST_ENGINE) $(BIN)/$(COMPAT_PYTEST); status=$$?; \
		echo "compat: newest engine $(NEWEST_ENGINE) took $$(( $$(date +%s) - started ))s"; exit $$status

compat: compat-oldest compat-newest compat-engine

integration: $(BIN)/.installed engine kube helm
	$(BIN)/pytest -m integration -q

test: $(BIN)/.installed engine kube helm lint docs unit-oldest
	@started=$$(date +%s); $(BIN)/pytest -q -m "not compat" --durations=20; status=$$?; \
		echo "test: the whole suite took $$(( $$(date +%s) - started ))s"; exit $$status
	$(MAKE) -j3 --output-sync=target compat

# The documentation site (mkdocs.yml) into build/site, with --strict: a broken link or page fails.
docs: $(BIN)/.installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# The built site in headless Chromium (Debian's package, installed when missing: CI runs as root on a fresh machine).
docs-browser-test: docs
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/pytest -q -m docs tests/docs

bench: $(BIN)/.installed engine
	$(BIN)/python bench/fargate.py
	$(BIN)/python bench/upgrade.py

clean:
	rm -rf $(VENV) $(OLDEST) $(NEWEST) $(TOOLCHAINS) build dist .pytest_cache .mypy_cache .ruff_cache
