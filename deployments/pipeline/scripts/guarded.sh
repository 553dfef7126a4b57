# shellcheck shell=bash
# Run COMMAND only if every check holds, on the server, right before it would start
# (deployments/pipeline/session.py, a Command's `when`); else print MARKER (a skip).
# Usage: bash -c "$(cat guarded.sh)" bash MARKER [COUNT CHECK-ARGV...]... -- COMMAND...
# Each check is COUNT words: its argv, e.g. `3 test -f composer.json`.
marker=$1
shift
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
  count=$1
  shift
  if ! "${@:1:count}"; then
    printf '%s\n' "$marker"
    exit 0
  fi
  shift "$count"
done
shift
exec "$@"
