# shellcheck shell=sh
# The installed php-fpm binaries, one path a line (servers/stack/probe.py); nothing when none.
# Usage: sh -c "$(cat fpm_binaries.sh)" sh DIRECTORY...
for directory in "$@"; do
  for binary in "$directory"/php-fpm*; do
    [ -e "$binary" ] && printf '%s\n' "$binary"
  done
done
exit 0
