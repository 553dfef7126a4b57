#!/usr/bin/env bash
# `make bench`: a benchmark, not a test. Builds real hosts, measures, rewrites docs/benchmarks.md.
source "$(dirname "$0")/lib.sh"
apt_ensure /usr/sbin/sshd:openssh-server ssh:openssh-client git:git \
  /usr/sbin/nginx:nginx "/usr/sbin/php-fpm*:php-fpm" php:php-cli
venv_ensure
say "Running the benchmarks (a few minutes)"
exec "$VENV/bin/python" -m bench "$@"
