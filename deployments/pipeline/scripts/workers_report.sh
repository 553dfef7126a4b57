# shellcheck shell=sh
# Which release each worker runs (deployments/pipeline/workers.py report; changes nothing).
# Prints "current <real path of CURRENT>", one "status <supervisorctl status line>" per
# process of GROUP, and "proc <tag> <pid> <cwd>" for every live process whose environment
# holds VARIABLE=<tag> (a child that left its worker's process group included).
# Usage: sh -c "$(cat workers_report.sh)" workers_report CONF GROUP CURRENT VARIABLE TAG...
conf=$1 group=$2 current=$3 variable=$4
shift 4
printf 'current %s\n' "$(readlink -f -- "$current")"
# Exits non-zero when a process is not running: the states say so, the caller decides.
supervisorctl -c "$conf" status "$group:*" | sed 's/^/status /'
for tag in "$@"; do
  # -z: environ is NUL-separated; -x -F: exactly this variable, not a longer tag.
  grep -lszxF -- "$variable=$tag" /proc/[0-9]*/environ | while read -r environ; do
    pid=${environ#/proc/}
    pid=${pid%/environ}
    # A zombie (state Z) has stopped; its cwd cannot be read anyway.
    state=$(sed 's/.*) \([A-Z]\).*/\1/' "/proc/$pid/stat" 2>/dev/null) || continue
    [ "$state" = Z ] && continue
    cwd=$(readlink "/proc/$pid/cwd") || continue
    printf 'proc %s %s %s\n' "$tag" "$pid" "$cwd"
  done
done
exit 0
