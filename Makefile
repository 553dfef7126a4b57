# Two commands for a newcomer: `make run` and `make test`. Everything else is optional.
.PHONY: run test bench lock lint advisories

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

bench:
	@bash scripts/bench.sh

# Re-lock dependencies after editing pyproject.toml's dependencies or extras (needs PyPI). The
# runtime lock first; the test/dev lock keeps its pins, so both install the same versions.
PIP_COMPILE = var/piptools/bin/pip-compile -q --generate-hashes --strip-extras \
	--no-emit-index-url --no-emit-find-links

lock:
	python3 -m venv var/piptools && var/piptools/bin/pip install -q pip-tools
	$(PIP_COMPILE) -o requirements/app.txt pyproject.toml
	$(PIP_COMPILE) --extra test --extra dev -c requirements/app.txt -o requirements/dev.txt pyproject.toml
	@echo "Locks changed: run \`make advisories\` to refresh the offline audit's snapshot."

# Refresh requirements/advisories.json, the PyPA advisory database's entries for every locked
# package, which `make lint` audits the locks against offline (needs github.com; commit the file).
ADVISORY_DB = var/advisory-database

advisories:
	@if [ -d $(ADVISORY_DB) ]; then git -C $(ADVISORY_DB) pull -q --depth 1; \
	else git clone -q --depth 1 https://github.com/pypa/advisory-database $(ADVISORY_DB); fi
	.venv/bin/python scripts/advisories.py $(ADVISORY_DB) requirements/app.txt requirements/dev.txt

# ruff over the Python, shellcheck over every shell script of the apps and scripts/ (the same
# checks as tests/test_lint.py, which make test runs), then the audit of the locked dependencies
# (scripts/audit.py: offline against the committed advisory snapshot, online with pip-audit
# where PyPI answers; a vulnerable pin fails; an unreachable service is reported as a skipped
# online audit, never as a pass).
SHELL_SCRIPTS = find . -name '*.sh' -not -path './.venv/*' -not -path './var/*' \
	-not -path './node_modules/*' -not -path './.git/*' | sort

lint:
	.venv/bin/ruff check .
	shellcheck -x $$($(SHELL_SCRIPTS))
	.venv/bin/python scripts/audit.py requirements/app.txt requirements/dev.txt
