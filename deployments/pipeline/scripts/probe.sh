# shellcheck shell=sh
# What the site's layout on this server looks like before a deploy (deployments/pipeline/facts.py).
# Usage: sh -c "$(cat probe.sh)" sh DEPLOY RELEASES SHARED STATE CURRENT REPO LOG RELEASE MIN_KB \
#        CREATED
# It creates the layout (idempotent; runs after guard.sh accepted the path), marks it as a
# Deploynix site (STATE/site), and prints one "key value" line per fact; the
# releases.log section comes last so a log without a final newline ends the output. It also
# creates the release, saving a round trip, but only where prepare_refusal would allow it
# (`current` not a real directory, enough space), and records its name in CREATED: only releases
# named there (or logged as good) are ever pruned. prepare still decides, and removes a release
# created on a server it then refuses.
deploy=$1 releases=$2 shared=$3 state=$4 current=$5 repo=$6 log=$7 release=$8 min_kb=$9
created=${10}
mkdir -p -- "$releases" "$shared" "$state" && chmod 700 -- "$state" || exit
[ -e "$state/site" ] || echo 'a site Deploynix created' > "$state/site" || exit
if [ -L "$current" ]; then
  echo link 1
  target=$(readlink -- "$current") && printf 'target %s\n' "$target"
elif [ -d "$current" ]; then
  echo directory 1
fi
space=$(df -Pk -- "$deploy") || exit
printf '%s\n' "$space" | sed 's/^/df /'
[ -f "$repo/HEAD" ] && echo mirror 1
find "$releases" -mindepth 1 -maxdepth 1 -type d -printf 'release %f\n' || exit
if [ -L "$current" ] || [ ! -d "$current" ]; then
  free_kb=$(printf '%s\n' "$space" | awk 'END { print $4 }')
  if [ "$free_kb" -ge "$min_kb" ] && mkdir -- "$release"; then
    printf '%s\n' "${release##*/}" >> "$created" || exit
    echo created 1
  fi
fi
if [ -f "$created" ]; then sed 's/^/ours /' -- "$created" || exit; fi
if [ -f "$log" ]; then echo log-exists 1; sed 's/^/log /' -- "$log" || exit; fi
exit 0
