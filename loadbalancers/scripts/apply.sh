# shellcheck shell=bash
# Put an uploaded nginx config live only if nginx accepts it (loadbalancers/apply.py).
# Usage: bash -c "$(cat apply.sh)" bash TARGET STAGED COUNT TEST-ARGV... RELOAD-ARGV...
# The first COUNT words after COUNT are the test command (e.g. `nginx -t`), the rest reload.
# STAGED was uploaded atomically beside TARGET under a name the include glob does not match.
# TARGET.good keeps the last config that passed: a refused one is replaced by it again
# (or removed when there was none) before anything reloads, so nothing live changes.
# Exit 0 applied; 3 refused by the test (its output printed); 4 the reload failed.
set -u
target=$1
staged=$2
count=$3
shift 3
good="$target.good"

restore() {
  if [ -f "$good" ]; then
    cp -p -- "$good" "$target.restore" && mv -f -- "$target.restore" "$target"
  else
    rm -f -- "$target"
  fi
}

# One apply at a time per file: two panels (or a retry) must not interleave their renames.
exec 9>"$target.lock"
flock 9
if [ -f "$target" ] && [ ! -f "$good" ]; then
  cp -p -- "$target" "$good"
fi
mv -f -- "$staged" "$target"
if ! "${@:1:count}" 2>&1; then
  restore
  echo "deploynix: nginx refused the new config; the previous one was restored" >&2
  exit 3
fi
if ! "${@:count+1}" 2>&1; then
  restore
  echo "deploynix: the reload command failed; the previous config was restored" >&2
  exit 4
fi
cp -p -- "$target" "$good.new" && mv -f -- "$good.new" "$good"
