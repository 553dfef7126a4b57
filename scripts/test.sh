#!/usr/bin/env bash
# `make test`: install what is missing, start the services the tests need, run every test.
source "$(dirname "$0")/lib.sh"

# Real components only: the suite starts its own sshd, nginx + php-fpm hosts and Chromium.
apt_ensure \
  /usr/sbin/sshd:openssh-server ssh-keygen:openssh-client git:git \
  /usr/sbin/nginx:nginx "/usr/sbin/php-fpm*:php-fpm" php:php-cli composer:composer \
  node:nodejs npm:npm chromium:chromium chromedriver:chromium-driver
venv_ensure
redis_ensure
DATABASE_URL="$(python3 scripts/devenv.py postgres)"
export DATABASE_URL
export DEPLOYNIX_ENV=test
export DEPLOYNIX_VAR_DIR="$ROOT/var/test"
export DEPLOYNIX_REDIS_PREFIX="dnxtest-$$"

say "Running the test suite (PostgreSQL: ${DATABASE_URL%%\?*}, Redis: $REDIS_URL)"
set +e
"$VENV/bin/pytest" "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "make test: no tests were collected — that is a failure, not a pass." >&2
  exit 1
fi
exit "$status"
