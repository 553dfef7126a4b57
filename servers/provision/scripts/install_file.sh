# shellcheck shell=bash
# Install one configuration file atomically, validate it in place, reload; restore on failure.
# Usage: bash -c "$(cat install_file.sh)" bash TARGET MODE DRY N VALIDATE... M RELOAD... < content
# (N and M count the words of the validate and reload commands; either may be 0. DRY=1 only
# prints the diff and "would change TARGET": nothing is written, validated or reloaded.)
# Prints "unchanged TARGET" when the content is already there (nothing runs), else the diff
# (never for MODE 0600: a secret),
# then "changed TARGET". The previous file is kept as .NAME.deploynix-previous beside it (a
# hidden name: no include glob reads it) and put back if validation fails; the running server
# never loaded the broken file, because it is reloaded only after validation passed.
set -uo pipefail
target=$1 mode=$2 dry=$3
shift 3
count=$1; shift
validate=("${@:1:$count}"); shift "$count"
count=$1; shift
reload=("${@:1:$count}")
dir=$(dirname -- "$target") name=$(basename -- "$target")
temp="$dir/.$name.deploynix-new" previous="$dir/.$name.deploynix-previous"
mkdir -p -- "$dir" || exit 1
if ! { cat > "$temp" && chmod "$mode" -- "$temp"; }; then
  rm -f -- "$temp"
  exit 1
fi
if [ -f "$target" ] && cmp -s -- "$temp" "$target"; then
  rm -f -- "$temp"
  echo "unchanged $target"
  exit 0
fi
if [ "$mode" = 0600 ]; then
  # A private file (the TLS key) is a secret: its content never reaches the log.
  echo "$target: new content (a secret: not shown)"
elif [ -f "$target" ]; then
  diff -u --label "$target (current)" --label "$target (new)" -- "$target" "$temp"
else
  diff -u --label "/dev/null" --label "$target (new)" -- /dev/null "$temp"
fi
if [ "$dry" = 1 ]; then
  rm -f -- "$temp"
  echo "would change $target"
  exit 0
fi
had_previous=0
if [ -f "$target" ]; then
  cp -p -- "$target" "$previous" || exit 1
  had_previous=1
fi
mv -f -- "$temp" "$target" || { rm -f -- "$temp"; exit 1; }
if [ "${#validate[@]}" -gt 0 ] && ! "${validate[@]}" 2>&1; then
  if [ "$had_previous" = 1 ]; then
    cp -p -- "$previous" "$temp" && mv -f -- "$temp" "$target"
    echo "validation failed: restored the previous $target" >&2
  else
    rm -f -- "$target"
    echo "validation failed: removed the new $target" >&2
  fi
  exit 65
fi
if [ "${#reload[@]}" -gt 0 ] && ! "${reload[@]}"; then
  echo "reload failed after installing $target" >&2
  exit 1
fi
echo "changed $target"
