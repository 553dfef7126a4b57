# Two commands for a newcomer: `make run` and `make test`. Everything else is optional.
.PHONY: run test bench lock lint

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

bench:
	@bash scripts/bench.sh

# Re-lock dependencies after editing requirements/*.in (needs network access to PyPI).
lock:
	python3 -m venv var/piptools && var/piptools/bin/pip install -q pip-tools
	var/piptools/bin/pip-compile -q --generate-hashes --strip-extras -o requirements/app.txt requirements/app.in
	var/piptools/bin/pip-compile -q --generate-hashes --strip-extras -o requirements/dev.txt requirements/dev.in

# ruff over the Python, shellcheck over every shell script of the apps and scripts/ (the same
# checks as tests/test_lint.py, which make test runs).
SHELL_SCRIPTS = find . -name '*.sh' -not -path './.venv/*' -not -path './var/*' \
	-not -path './node_modules/*' -not -path './.git/*' | sort

lint:
	.venv/bin/ruff check .
	shellcheck -x $$($(SHELL_SCRIPTS))
