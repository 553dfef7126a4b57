# shellcheck shell=sh
# Run a command as the leader of its own session and process group (servers/ssh/job.py).
# Usage: setsid -w sh -c "$(cat run_in_group.sh)" sh MARKER COMMAND...
# Announces its pid (= the group id) on stdout after MARKER, records it as a pid file under
# $DEPLOYNIX_PIDS when that is set (removed when it ends), then runs COMMAND as a child, so
# death by signal N comes back as exit status 128+N, as in any shell (`setsid -w` would instead
# print "child did not exit normally" and exit with N). When a kill sends TERM to the group,
# the trap makes this shell exit normally (143) once the command is gone.
marker=$1
shift
echo "$marker$$"
pidfile=
if [ -n "${DEPLOYNIX_PIDS-}" ]; then
  pidfile=$DEPLOYNIX_PIDS/$$
  mkdir -p -- "$DEPLOYNIX_PIDS" && : > "$pidfile" || exit 70
fi
trap '[ -z "$pidfile" ] || rm -f -- "$pidfile"; exit 143' TERM
"$@"
status=$?
[ -z "$pidfile" ] || rm -f -- "$pidfile"
exit "$status"
