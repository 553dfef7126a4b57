# shellcheck shell=sh
# Which release each worker runs on a systemd host (workers.py systemd_report; changes
# nothing). Prints what workers_report.sh prints, in its words: "current <real path of
# CURRENT>"; "status GROUP:PROCESS RUNNING pid <MainPID>, unit UNIT" (or the unit's
# ActiveState in capitals) for each PROCESS UNIT pair; after "--", "proc <tag> <pid> <cwd>" for
# every live process whose environment holds VARIABLE=<tag> (the MainPID among them).
# Usage: sh -c "$(cat workers_systemd_report.sh)" workers_systemd_report CURRENT VARIABLE GROUP
#        [PROCESS UNIT]... -- TAG...
current=$1 variable=$2 group=$3
shift 3
printf 'current %s\n' "$(readlink -f -- "$current")"
while [ "$#" -ge 2 ] && [ "$1" != -- ]; do
  state=$(systemctl show -p ActiveState --value -- "$2")
  pid=$(systemctl show -p MainPID --value -- "$2")
  case $state in
    active) word=RUNNING ;;
    activating|reloading) word=STARTING ;;
    *) word=$(printf '%s' "${state:-unknown}" | tr '[:lower:]' '[:upper:]') ;;
  esac
  printf 'status %s:%s %s pid %s, unit %s\n' "$group" "$1" "$word" "$pid" "$2"
  shift 2
done
[ "${1:-}" = -- ] && shift
for tag in "$@"; do
  grep -lszxF -- "$variable=$tag" /proc/[0-9]*/environ | while read -r environ; do
    pid=${environ#/proc/}
    pid=${pid%/environ}
    state=$(sed 's/.*) \([A-Z]\).*/\1/' "/proc/$pid/stat" 2>/dev/null) || continue
    [ "$state" = Z ] && continue
    cwd=$(readlink "/proc/$pid/cwd") || continue
    printf 'proc %s %s %s\n' "$tag" "$pid" "$cwd"
  done
done
exit 0
