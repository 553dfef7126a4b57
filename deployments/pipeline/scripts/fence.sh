# shellcheck shell=sh
# The site's lock on this server, fenced by the deployment's epoch (deployments/pipeline/lock.py).
# Usage: sh -c "$(cat fence.sh)" fence STATE MODE EPOCH DEPLOYMENT STOP_RUN_SCRIPT COMMAND...
#   acquire  take the lock unless a newer epoch holds it; processes an older holder still
#            has registered under STATE/pids/<id> are stopped first (it was cut off or lost)
#   check    run COMMAND only while the lock names exactly this deployment and epoch
# The decision and COMMAND run under flock(1) on STATE/flock: no other fenced command can
# take the lock or change anything in between. STATE/lock holds "EPOCH DEPLOYMENT".
state=$1 mode=$2 epoch=$3 deployment=$4 stop_run=$5
shift 5
refuse() {
  printf 'deploynix: fenced off: %s; nothing was changed\n' "$1" >&2
  exit 76
}
mkdir -p -- "$state" && chmod 700 -- "$state" || exit
exec 9>>"$state/flock" || exit
if ! flock -w 60 9; then
  printf 'deploynix: %s/flock is busy (waited 60 s)\n' "$state" >&2
  exit 75
fi
held_epoch=0 held_by=0
if [ -s "$state/lock" ]; then
  read -r held_epoch held_by < "$state/lock"
fi
case $held_epoch in '' | *[!0-9]*) held_epoch=0 ;; esac
case $held_by in '' | *[!0-9]*) held_by=0 ;; esac
case $mode in
acquire)
  if [ "$held_epoch" -gt "$epoch" ]; then
    refuse "deployment $held_by holds the lock with the newer epoch $held_epoch (this one has $epoch)"
  fi
  if [ "$held_epoch" -eq "$epoch" ] && [ "$held_by" != "$deployment" ] && [ "$held_by" != 0 ]; then
    refuse "deployment $held_by holds the lock with the same epoch $epoch"
  fi
  if [ "$held_by" != "$deployment" ] && [ -d "$state/pids/$held_by" ]; then
    if [ -n "$(ls -A -- "$state/pids/$held_by")" ]; then
      printf 'deploynix: taking the lock over from deployment %s (epoch %s): stopping its processes\n' \
        "$held_by" "$held_epoch" >&2
    fi
    sh -c "$stop_run" stop_run "$state/pids/$held_by" "$held_by@${state%/*}" 9>&-
  fi
  printf '%s %s\n' "$epoch" "$deployment" > "$state/lock.new" &&
    mv -f -- "$state/lock.new" "$state/lock" || exit
  ;;
check)
  if [ "$held_epoch $held_by" != "$epoch $deployment" ]; then
    refuse "the lock names deployment $held_by (epoch $held_epoch), not $deployment (epoch $epoch)"
  fi
  ;;
*)
  printf 'fence.sh: unknown mode %s\n' "$mode" >&2
  exit 2
  ;;
esac
[ "$#" -eq 0 ] || "$@" 9>&-
