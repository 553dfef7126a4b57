# shellcheck shell=sh
# Reuse the previous release's installed dependencies in the new one (deployments/pipeline/
# commands.py install and build_assets, when the lock file is byte-identical).
# Usage: sh -c "$(cat reuse.sh)" sh SOURCE TARGET [OWN]...
# TARGET becomes a tree of new directories holding hard links to SOURCE's files: milliseconds
# where a copy of node_modules takes seconds, and no second copy on the disk. Nothing writes
# through those links: npm ci is skipped when node_modules was reused, and composer replaces a
# package by removing it first. What the installer or the build does rewrite in place (each
# OWN path, relative to TARGET: composer's autoloader files) gets a real copy, so the new
# release's install can never change a file the live release serves. Where hard links are
# refused (another owner under fs.protected_hardlinks, another file system), a copy.
source=$1 target=$2; shift 2
if ! cp -al -- "$source" "$target" 2>/dev/null; then
  rm -rf -- "$target"
  exec cp -a -- "$source" "$target"
fi
for own in "$@"; do
  if [ -e "$source/$own" ] || [ -L "$source/$own" ]; then
    rm -rf -- "${target:?}/$own"
    cp -a -- "$source/$own" "$target/$own"
  fi
done
echo "reused $source as hard links${1:+ (own copies: $*)}"
