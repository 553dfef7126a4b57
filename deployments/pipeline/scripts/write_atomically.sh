# shellcheck shell=sh
# Write stdin to PATH atomically (deployments/pipeline/session.py upload): a temp file beside
# the target (noclobber), chmod, then rename(2) over it, so a reader sees the old file or the
# new one; the temp file never outlives a failure.
# Usage: sh -c "$(cat write_atomically.sh)" sh TEMP PATH MODE < data
temp=$1 path=$2 mode=$3
umask 077
set -C
cat > "$temp" && chmod "$mode" -- "$temp" && mv -f -T -- "$temp" "$path"
status=$?
if [ "$status" -ne 0 ]; then
  rm -f -- "$temp"
  exit "$status"
fi
