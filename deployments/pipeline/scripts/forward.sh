# shellcheck shell=sh
# A webhook deploy must never move the site backwards (deployments/pipeline/git.py
# forward_check): the commit is still the tip of the branch in the freshly fetched mirror, or
# the live commit (current/REVISION) is its ancestor. Anything else is a stale or replayed push.
# Usage: sh -c "$(cat forward.sh)" sh REPO SHA BRANCH_REF CURRENT STALE GIT_OPTION...
# Stdout: one line saying why the commit may be deployed; exits STALE (with the reason on
# stderr) when it may not.
repo=$1 sha=$2 ref=$3 current=$4 stale=$5
shift 5
tip=$(git -C "$repo" "$@" rev-parse --verify --quiet "$ref^{commit}") || tip=
if [ "$sha" = "$tip" ]; then
  echo "forward: $sha is the tip of $ref"
  exit 0
fi
live=
if [ -f "$current/REVISION" ]; then
  live=$(head -c 64 -- "$current/REVISION" | tr -d '\n')
fi
if [ -z "$live" ]; then
  echo "forward: nothing is live yet"
  exit 0
fi
if git -C "$repo" "$@" merge-base --is-ancestor "$live" "$sha" 2>/dev/null; then
  echo "forward: $sha descends from the live commit $live"
  exit 0
fi
echo "$sha is not the tip of $ref (${tip:-missing}) and does not descend from the live commit $live" >&2
exit "$stale"
