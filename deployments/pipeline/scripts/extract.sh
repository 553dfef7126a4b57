# shellcheck shell=bash
# Unpack exactly one commit into the release and write REVISION (deployments/pipeline/git.py
# extract_release), then print "has <file>" for each FILE present in the release.
# Usage: bash -c "$(cat extract.sh)" bash REPO SHA RELEASE COUNT FILE... GIT_OPTION...
# COUNT FILEs follow; the GIT_OPTIONs (git's safety options) go on the git call.
set -o pipefail
repo=$1 sha=$2 release=$3 count=$4
shift 4
files=("${@:1:count}")
shift "$count"
git -C "$repo" "$@" archive --format=tar "$sha" | tar -x -f - -C "$release" || exit
printf '%s' "$sha" > "$release/REVISION" || exit
for file in "${files[@]}"; do [ ! -f "$release/$file" ] || printf 'has %s\n' "$file"; done
