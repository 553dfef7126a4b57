# shellcheck shell=sh
# Credentials in, mirror updated, commit resolved: ONE command (deployments/pipeline/git.py
# fetch_and_resolve).
# Usage: sh -c "$(cat fetch.sh)" sh TEMP REPO URL REF FRESH NOT_FOUND FORMAT FILES
#          [NAME MODE SIZE]... GIT_OPTION...
# FRESH "1" clones the mirror (removing a half-cloned leftover) rather than fetching into it.
# FILES credential files follow as (name, octal mode, size); their bytes arrive on stdin in that
# order (dd reads exactly SIZE bytes: the next file starts right after). The GIT_OPTIONs (git's
# safety options) go on every git call. Stdout: the `git log --format=FORMAT` of REF; git's own
# output goes to stderr; a REF not in the repository exits with NOT_FOUND.
temp=$1 repo=$2 url=$3 ref=$4 fresh=$5 not_found=$6 format=$7 files=$8
shift 8
umask 077
mkdir -m 700 -- "$temp" || exit
trap 'rm -rf -- "$temp"' EXIT
trap 'exit 143' HUP INT TERM
while [ "$files" -gt 0 ]; do
  dd of="$temp/$1" bs="$3" count=1 iflag=fullblock status=none && chmod "$2" -- "$temp/$1" || exit
  shift 3
  files=$((files - 1))
done
if [ "$fresh" = 1 ]; then
  rm -rf -- "$repo" && git "$@" clone --mirror -- "$url" "$repo" >&2 || exit
else
  git -C "$repo" "$@" fetch --prune --force -- "$url" '+refs/*:refs/*' >&2 || exit
fi
git -C "$repo" "$@" log -1 --no-walk --no-show-signature "--format=$format" "$ref^{commit}" -- ||
  exit "$not_found"
