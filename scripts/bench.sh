#!/usr/bin/env bash
# `make bench`: a benchmark, not a test. Builds real hosts, measures, rewrites docs/benchmarks.md.
# Extra arguments go to `python -m bench` (see `python -m bench --help`).
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
apt_ensure /usr/sbin/sshd:openssh-server ssh:openssh-client git:git \
  /usr/sbin/nginx:nginx "/usr/sbin/php-fpm*:php-fpm" php:php-cli \
  cap:capistrano ip:iproute2 nsenter:util-linux composer:composer node:nodejs npm:npm
venv_ensure
say "Running the benchmarks (up to an hour and more: lb-rolling alone sends 1,000,000 requests; --only picks sections)"
exec "$VENV/bin/python" -m bench "$@"
