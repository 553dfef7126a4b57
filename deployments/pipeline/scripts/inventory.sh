# shellcheck shell=sh
# What is live and on disk for one site (deployments/pipeline/inventory.py); changes nothing.
# Usage: sh -c "$(cat inventory.sh)" sh CURRENT RELEASES RELEASES_LOG
# Prints one "key value" line per fact; the releases.log section comes last so a log without a
# final newline ends the output.
current=$1 releases=$2 log=$3
if [ -L "$current" ]; then
  target=$(readlink -- "$current") && printf 'current %s\n' "$target"
  [ -d "$current" ] || echo current-dangling 1
elif [ -e "$current" ]; then
  echo current-not-link 1
fi
if [ -d "$releases" ]; then
  for dir in "$releases"/*; do
    if [ ! -d "$dir" ] || [ -L "$dir" ]; then continue; fi
    name=${dir##*/}
    case $name in *[!0-9]*) continue ;; esac
    [ "${#name}" -eq 14 ] || continue
    revision=
    if [ -f "$dir/REVISION" ]; then
      revision=$(head -c 200 -- "$dir/REVISION" | tr -cd '0-9a-f')
    fi
    printf 'release %s %s\n' "$name" "$revision"
  done
fi
if [ -f "$log" ]; then echo log-exists 1; sed 's/^/log /' -- "$log" || exit; fi
exit 0
