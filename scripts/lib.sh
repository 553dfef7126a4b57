# shellcheck shell=bash
# Shared shell functions for `make run`, `make test` and `make bench`. Sourced, not executed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
VENV="$ROOT/.venv"

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }

# apt_ensure CMD:PACKAGE ... — install the Debian packages whose command is missing (root only).
apt_ensure() {
  local missing=() pair cmd pkg
  for pair in "$@"; do
    cmd="${pair%%:*}"; pkg="${pair#*:}"
    # Unquoted on purpose: CMD may be a glob such as /usr/sbin/php-fpm*.
    # shellcheck disable=SC2086
    if ! command -v "$cmd" >/dev/null 2>&1 && ! ls $cmd >/dev/null 2>&1; then missing+=("$pkg"); fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  apt_install "${missing[@]}"
}

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing system packages: $* — run: sudo apt-get install $*" >&2
    return 1
  fi
  say "Installing system packages: $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The virtualenv with the locked dependencies; reinstalls only when the lock file changes.
venv_ensure() {
  local lock="$ROOT/requirements/dev.txt" stamp
  if [ ! -x "$VENV/bin/python" ]; then
    say "Creating the virtualenv (.venv)"
    if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
      # Debian splits venv/ensurepip out of the interpreter package.
      rm -rf "$VENV"
      apt_install python3-venv
      python3 -m venv "$VENV"
    fi
  fi
  stamp="$VENV/.installed-$(sha256sum "$lock" | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    say "Installing locked Python dependencies"
    "$VENV/bin/pip" install -q --disable-pip-version-check --require-hashes -r "$lock"
    rm -f "$VENV"/.installed-*
    touch "$stamp"
  fi
}

redis_ensure() {
  REDIS_URL="$(python3 scripts/devenv.py redis)"
  export REDIS_URL
}

# rabbitmq_vhost_ensure NAME: a private RabbitMQ virtual host for one test run, so concurrent runs
# never consume each other's tasks. Sets AMQP_TEST_URL, or AMQP_SKIP_REASON and returns 1.
# DEPLOYNIX_TEST_AMQP_URL names a broker to use as it is (e.g. CI's own service).
AMQP_VHOST=""
# shellcheck disable=SC2034  # AMQP_TEST_URL and AMQP_SKIP_REASON are read by the sourcing script
rabbitmq_vhost_ensure() {
  AMQP_TEST_URL="${DEPLOYNIX_TEST_AMQP_URL:-}" AMQP_SKIP_REASON=""
  [ -z "$AMQP_TEST_URL" ] || return 0
  if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
    AMQP_SKIP_REASON="no RabbitMQ listens on 127.0.0.1:5672 (set DEPLOYNIX_TEST_AMQP_URL to use another)"
    return 1
  fi
  if ! command -v rabbitmqctl >/dev/null 2>&1; then
    AMQP_SKIP_REASON="rabbitmqctl is missing, so no private virtual host can be made (set DEPLOYNIX_TEST_AMQP_URL)"
    return 1
  fi
  if ! rabbitmqctl -q add_vhost "$1" >/dev/null 2>&1 \
      || ! rabbitmqctl -q set_permissions -p "$1" guest '.*' '.*' '.*' >/dev/null 2>&1; then
    AMQP_SKIP_REASON="rabbitmqctl could not create the virtual host $1 (not root?)"
    return 1
  fi
  AMQP_VHOST="$1"
  AMQP_TEST_URL="amqp://guest:guest@127.0.0.1:5672/$1"
}

rabbitmq_vhost_drop() {
  [ -z "$AMQP_VHOST" ] || rabbitmqctl -q delete_vhost "$AMQP_VHOST" >/dev/null 2>&1 || true
}
