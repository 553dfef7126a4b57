# shellcheck shell=sh
# May DEPLOY hold a site on this server? (deployments/pipeline/facts.py guard; changes nothing.)
# Usage: sh -c "$(cat guard.sh)" sh DEPLOY STATE ROOT...
# The panel validated the path, but the server is the truth: the real path of DEPLOY (symlinks
# resolved) must lie strictly under the real path of one ROOT ("~" is the deploy user's home)
# and contain no hidden directory (.ssh, .config); if DEPLOY exists with anything in it besides
# STATE, STATE must carry Deploynix's marks (site, lock or releases.log): a directory someone
# else filled is never adopted, so its repo/ and releases/ are never replaced or pruned.
# Prints "refused <why>" or "accepted"; runs before anything is created.
deploy=$1 state=$2
shift 2
real=$(realpath -m -- "$deploy") || exit
allowed=
for root in "$@"; do
  [ "$root" = "~" ] && root=$HOME
  [ -n "$root" ] || continue
  real_root=$(realpath -m -- "$root") || continue
  case $real in "$real_root"/?*) allowed=1 ;; esac
done
if [ -z "$allowed" ]; then
  printf 'refused %s resolves to %s, outside the allowed roots of this server (%s)\n' \
    "$deploy" "$real" "$*"
  exit 0
fi
case $real in
  */.*)
    printf 'refused %s resolves to %s, inside a hidden directory\n' "$deploy" "$real"
    exit 0
    ;;
esac
if [ -d "$deploy" ] && [ ! -e "$state/site" ] && [ ! -e "$state/lock" ] &&
  [ ! -e "$state/releases.log" ]; then
  others=$(find "$deploy" -mindepth 1 -maxdepth 1 ! -name .deploynix -print -quit)
  if [ -n "$others" ]; then
    printf 'refused %s is not empty and was not created by Deploynix: %s\n' \
      "$deploy" "deploy into a new or empty directory"
    exit 0
  fi
fi
echo accepted
