# shellcheck shell=sh
# Link the site's shared paths into a release (deployments/pipeline/commands.py link_shared).
# Usage: sh -c "$(cat link_shared.sh)" sh RELEASE SHARED [d|f PATH]...
# For each (d|f, path): refuse when a parent of the path is a symlink committed in the
# repository (never follow it); seed shared/<path> from the release on first use (unless the
# release's copy is a symlink), else create it empty; then replace the release's copy with a
# symlink into shared/ (`rm -rf` removes a committed symlink, never its target).
release=$1 shared=$2; shift 2
set -f
is_kind() {  # is_kind d|f PATH: PATH is a directory (d) or a regular file (f)
  if [ "$1" = d ]; then [ -d "$2" ]; else [ -f "$2" ]; fi
}
while [ "$#" -ge 2 ]; do
  kind=$1 path=$2; shift 2
  case $path in */*) parents=${path%/*} ;; *) parents= ;; esac
  prefix=
  IFS=/
  for part in $parents; do
    prefix=${prefix:+$prefix/}$part
    if [ -L "$release/$prefix" ]; then
      printf '%s is a symlink in the repository: refusing to follow it\n' "$prefix" >&2
      exit 3
    fi
  done
  unset IFS
  in_release=$release/$path in_shared=$shared/$path
  mkdir -p -- "${in_shared%/*}" || exit
  if [ ! -e "$in_shared" ] && [ ! -L "$in_release" ] && is_kind "$kind" "$in_release"; then
    cp -a -- "$in_release" "$in_shared" || exit
  fi
  if [ ! -e "$in_shared" ]; then
    if [ "$kind" = d ]; then mkdir -p -- "$in_shared"; else touch -- "$in_shared"; fi || exit
  fi
  rm -rf -- "$in_release" && mkdir -p -- "${in_release%/*}" || exit
  ln -s -- "$in_shared" "$in_release" || exit
done
