# shellcheck shell=sh
# Create the site's unix user (no password, no login shell for people) and its deploy path.
# Usage: sh -c "$(cat ensure_user.sh)" sh USER DEPLOY_PATH WEB_GROUP
# An existing user is reused only if Deploynix created it (its comment says so). The deploy
# path is owned by the user, group WEB_GROUP, mode 2750: nginx (in WEB_GROUP) can traverse it
# to serve static files; other sites' users cannot even list it.
# Prints what it changed, or "unchanged USER".
set -eu
user=$1 path=$2 web_group=$3
changed=0
comment="Deploynix site user"
if id -u -- "$user" >/dev/null 2>&1; then
  if [ "$(getent passwd "$user" | cut -d: -f5)" != "$comment" ]; then
    echo "refused: $user exists and was not created by Deploynix" >&2
    exit 65
  fi
else
  useradd --create-home --shell /bin/bash --comment "$comment" --user-group -- "$user"
  echo "created user $user"
  changed=1
fi
home=$(getent passwd "$user" | cut -d: -f6)
if [ ! -d "$path" ]; then
  mkdir -p -- "$path"
  echo "created $path"
  changed=1
fi
for dir in "$home" "$path"; do
  if [ "$(stat -c %U:%G:%a -- "$dir")" != "$user:$web_group:2750" ]; then
    chown -- "$user:$web_group" "$dir"
    chmod 2750 -- "$dir"
    echo "$dir: owner $user, group $web_group, mode 2750"
    changed=1
  fi
done
[ "$changed" = 1 ] || echo "unchanged $user"
