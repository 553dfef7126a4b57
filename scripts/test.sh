#!/usr/bin/env bash
# `make test`: install what is missing, start the services the tests need, run every test on
# PostgreSQL, then the tests marked `sqlite` (deploy, rollback, cancel, queueing, the SQLite
# stress test) again on SQLite, the embedded default that `make run` uses, then the tests marked
# `rabbitmq` (real Celery workers end to end) again with RabbitMQ as the broker, the production
# default (Redis is the broker of the other passes). All must pass; where no RabbitMQ answers,
# its pass is skipped with the reason printed.
#
# With arguments, one pass of pytest with those arguments: on PostgreSQL, or on SQLite when
# DEPLOYNIX_TEST_DB=sqlite (e.g. `DEPLOYNIX_TEST_DB=sqlite bash scripts/test.sh tests/faults`);
# with RabbitMQ as the broker when DEPLOYNIX_TEST_BROKER=rabbitmq.
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

# Real components only: the suite starts its own sshd, nginx + php-fpm hosts, supervisord
# (the site workers' tests: each with its own config and socket) and Chromium.
apt_ensure \
  /usr/sbin/sshd:openssh-server ssh-keygen:openssh-client git:git \
  /usr/sbin/nginx:nginx "/usr/sbin/php-fpm*:php-fpm" php:php-cli composer:composer \
  node:nodejs npm:npm chromium:chromium chromedriver:chromium-driver shellcheck:shellcheck \
  supervisord:supervisor sudo:sudo
venv_ensure
redis_ensure
POSTGRES_URL="$(python3 scripts/devenv.py postgres)"
# settings.py makes the test database of this file test_<run>_deploynix.sqlite3 beside it.
SQLITE_FILE="$ROOT/var/test/deploynix.sqlite3"
export DEPLOYNIX_ENV=test
# This run's own test databases (deploynix/settings.py): concurrent runs never share one.
export DEPLOYNIX_TEST_RUN="$$"
export DEPLOYNIX_VAR_DIR="$ROOT/var/test"
# Test sites live in temporary directories and under /srv: the default deploy roots of every test
# server, for the panel and the real workers alike (a server's deploy_roots field overrides it).
export DEPLOYNIX_DEPLOY_ROOTS="/var/www,~,/srv,${TMPDIR:-/tmp}"
mkdir -p "$DEPLOYNIX_VAR_DIR"

SQLITE_TEST_FILE="$(dirname "$SQLITE_FILE")/test_${DEPLOYNIX_TEST_RUN}_$(basename "$SQLITE_FILE")"

# Django deletes a test database file but not its -wal/-shm: removed before and after the pass,
# so a stale WAL never replays into a new file of the same name.
sqlite_test_files_remove() { rm -f "$SQLITE_TEST_FILE"{,-wal,-shm}; }

# run_pass NAME DATABASE_URL PYTEST_ARGS...: one pytest run; "no tests collected" fails it.
run_pass() {
  local name="$1" url="$2" status broker="${DEPLOYNIX_BROKER_URL:-Redis}"
  shift 2
  [ "$name" != sqlite ] || sqlite_test_files_remove
  say "Test pass on $name (${url%%\?*}, Redis: $REDIS_URL, broker: ${broker##*@})"
  set +e
  DATABASE_URL="$url" DEPLOYNIX_REDIS_PREFIX="dnxtest-$$-$name" "$VENV/bin/pytest" "$@"
  status=$?
  set -e
  [ "$name" != sqlite ] || sqlite_test_files_remove
  if [ "$status" -eq 5 ]; then
    echo "make test: the $name pass collected no tests — that is a failure, not a pass." >&2
    return 1
  fi
  return "$status"
}

# This run's own RabbitMQ virtual host (lib.sh), dropped when the run ends.
trap rabbitmq_vhost_drop EXIT

if [ "$#" -gt 0 ]; then
  status=0
  if [ "${DEPLOYNIX_TEST_BROKER:-redis}" = rabbitmq ]; then
    if ! rabbitmq_vhost_ensure "dnxtest-$$"; then
      echo "scripts/test.sh: DEPLOYNIX_TEST_BROKER=rabbitmq, but $AMQP_SKIP_REASON" >&2
      exit 1
    fi
    export DEPLOYNIX_BROKER_URL="$AMQP_TEST_URL"
  fi
  if [ "${DEPLOYNIX_TEST_DB:-postgres}" = sqlite ]; then
    run_pass sqlite "sqlite:///$SQLITE_FILE" "$@" || status=$?
  else
    run_pass postgres "$POSTGRES_URL" "$@" || status=$?
  fi
  exit "$status"
fi

postgres=0 sqlite=0 rabbitmq=0
run_pass postgres "$POSTGRES_URL" || postgres=$?
run_pass sqlite "sqlite:///$SQLITE_FILE" -m sqlite || sqlite=$?
if rabbitmq_vhost_ensure "dnxtest-$$"; then
  DEPLOYNIX_BROKER_URL="$AMQP_TEST_URL" run_pass rabbitmq "$POSTGRES_URL" -m rabbitmq \
    || rabbitmq=$?
  rabbitmq_result="exit $rabbitmq"
else
  rabbitmq_result="SKIPPED: $AMQP_SKIP_REASON"
  echo "make test: the RabbitMQ broker pass is SKIPPED: $AMQP_SKIP_REASON" >&2
fi
say "make test: PostgreSQL pass exit $postgres, SQLite pass exit $sqlite, RabbitMQ pass $rabbitmq_result"
[ "$postgres" -eq 0 ] && [ "$sqlite" -eq 0 ] && [ "$rabbitmq" -eq 0 ]
