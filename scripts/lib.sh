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
