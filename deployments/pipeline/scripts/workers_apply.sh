# shellcheck shell=sh
# Install a site's supervisor programs and restart them (deployments/pipeline/workers.py apply).
# The group's config arrives on stdin ("" when the site has no workers left) and goes to
# conf.d/GROUP.conf beside CONF atomically (temp file + rename); `supervisorctl reread` must
# accept it, else the previous file is put back and the step fails. `update GROUP` then adds,
# changes or removes the group's programs, and the processes named are restarted.
# Usage: sh -c "$(cat workers_apply.sh)" workers_apply CONF GROUP [GROUP:PROCESS ...] < config
conf=$1 group=$2
shift 2
dir=$(dirname -- "$conf")/conf.d
file=$dir/$group.conf
ctl() { supervisorctl -c "$conf" "$@"; }

if [ ! -e "$file" ] && [ ! -d "$dir" ]; then
  # Nothing of ours can be installed here: fine only when there is nothing to install.
  if [ -n "$(head -c 1)" ]; then
    echo "no supervisor here: $dir does not exist (install Debian's supervisor package)" >&2
    exit 3
  fi
  exit 0
fi
temp=$(mktemp "$dir/.$group.conf.XXXXXX") || exit 3
trap 'rm -f -- "$temp"' EXIT
cat > "$temp" || exit 3
if [ ! -s "$temp" ] && [ ! -e "$file" ]; then
  echo "no workers"
  exit 0
fi
if ! ctl pid >/dev/null 2>&1; then
  echo "supervisord is not running (supervisorctl -c $conf cannot reach it)" >&2
  exit 3
fi

changed=yes
if [ -e "$file" ] && cmp -s -- "$temp" "$file"; then
  changed=no
elif [ -e "$file" ]; then
  cp -p -- "$file" "$file.previous" || exit 3
fi
if [ "$changed" = yes ]; then
  chmod 0644 -- "$temp" || exit 3
  if [ -s "$temp" ]; then mv -f -- "$temp" "$file"; else rm -f -- "$file"; fi || exit 3
  if ! ctl reread; then
    # Refused: the previous programs stay installed (and running) as they were.
    if [ -e "$file.previous" ]; then mv -f -- "$file.previous" "$file"; else rm -f -- "$file"; fi
    ctl reread >/dev/null 2>&1
    echo "supervisor refused the new config of $group; the previous one is back" >&2
    exit 4
  fi
  rm -f -- "$file.previous"
  ctl update "$group" || exit 5
fi
if [ "$#" -gt 0 ]; then
  ctl restart "$@" || exit 6
fi
