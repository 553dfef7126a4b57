# shellcheck shell=bash
# Unpack a release streamed on stdin (the seed's `git archive` of SHA, piped by the panel:
# deployments/pipeline/seed.py) and write REVISION, then print "has <file>" for each FILE present,
# like extract.sh. Usage: bash -c "$(cat receive.sh)" bash SHA RELEASE FILE...
# A stream that breaks is killed here by the panel before its end reaches tar, and the step
# fails, so discard_release removes the release: nothing half-extracted stays.
sha=$1 release=$2
shift 2
tar -x -f - -C "$release" || exit
printf '%s' "$sha" > "$release/REVISION" || exit
for file in "$@"; do [ ! -f "$release/$file" ] || printf 'has %s\n' "$file"; done
