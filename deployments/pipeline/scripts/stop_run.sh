# shellcheck shell=sh
# Stop every process of one deployment's run on this server (deployments/pipeline/lock.py).
# Usage: sh -c "$(cat stop_run.sh)" stop_run PIDS TAG
# Every command of a run carries DEPLOYNIX_RUN=TAG in its environment and registers its
# process group as PIDS/<pgid> while it runs. Stopped: each registered group whose leader
# still carries the tag (a pid can be reused), and every process carrying the tag (a child
# that left its group with setsid). TERM first, KILL what is still alive ~3 s later.
pids=$1 tag=$2
self=$$
tagged() {
  [ -r "/proc/$1/environ" ] && grep -qszxF -- "DEPLOYNIX_RUN=$tag" "/proc/$1/environ"
}
alive() {
  state=$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}
victims=
# One grep reads every process's environment: a grep per process cost ~0.5 ms each, about
# 0.15 s of CPU on every deploy's lock takeover on a machine running a thousand processes.
while read -r file; do
  pid=${file#/proc/}
  pid=${pid%/environ}
  [ -z "$pid" ] || [ "$pid" = "$self" ] || victims="$victims $pid"
done <<EOF
$(grep -lszxF -- "DEPLOYNIX_RUN=$tag" /proc/[0-9]*/environ)
EOF
if [ -d "$pids" ]; then
  for file in "$pids"/*; do
    pgid=${file##*/}
    case $pgid in '' | *[!0-9]*) continue ;; esac
    tagged "$pgid" && kill -TERM -- "-$pgid" 2>/dev/null
  done
fi
for pid in $victims; do kill -TERM "$pid" 2>/dev/null; done
tries=0
while [ "$tries" -lt 30 ]; do
  left=
  for pid in $victims; do alive "$pid" && left="$left $pid"; done
  victims=$left
  [ -z "$victims" ] && break
  sleep 0.1
  tries=$((tries + 1))
done
for pid in $victims; do kill -KILL "$pid" 2>/dev/null; done
[ -z "$victims" ] || printf 'deploynix: killed%s (still running after TERM)\n' "$victims" >&2
rm -rf -- "$pids"
exit 0
