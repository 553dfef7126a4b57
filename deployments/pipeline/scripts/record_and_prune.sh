# shellcheck shell=sh
# Log the release as good, then remove the old ones (deployments/pipeline/commands.py cleanup),
# except one that a running process works in (its cwd is inside it: a worker or an orphaned
# script of a cut-off deployment). find reads every /proc/<pid>/cwd link in one process.
# Usage: sh -c "$(cat record_and_prune.sh)" sh LOG_ENTRY RELEASES_LOG [RELEASE_DIR]...
printf '%s\n' "$1" >> "$2" || exit
shift 2
[ "$#" -eq 0 ] && exit 0
in_use=$(find /proc -mindepth 2 -maxdepth 2 -name cwd -printf '%l\n' 2>/dev/null)
for release in "$@"; do
  busy=$(printf '%s\n' "$in_use" | while IFS= read -r cwd; do
    case $cwd in "$release" | "$release"/*) echo 1; break ;; esac
  done)
  if [ -n "$busy" ]; then
    printf 'kept %s: a running process works in it\n' "$release" >&2
  else
    rm -rf -- "$release" || exit
  fi
done
