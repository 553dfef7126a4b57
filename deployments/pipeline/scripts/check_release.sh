# shellcheck shell=sh
# A rollback's first look at its target (deployments/pipeline/commands.py check_release):
# fail when the release is missing, else print "revision <sha>" and "current <target>".
# Usage: sh -c "$(cat check_release.sh)" sh RELEASE CURRENT
release=$1 current=$2
[ -d "$release" ] || exit 1
revision=$(cat -- "$release/REVISION" 2>/dev/null) && printf 'revision %s\n' "$revision"
target=$(readlink -- "$current") && printf 'current %s\n' "$target"
exit 0
