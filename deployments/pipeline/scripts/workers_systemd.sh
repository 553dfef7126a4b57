# shellcheck shell=sh
# Install a site's worker units on a systemd host and (re)start them (workers.py systemd_apply).
# Each unit arrives as four words: NAME (a template, PROGRAM@.service), COUNT (its instances
# PROGRAM@1 ... PROGRAM@COUNT), MODE (restart, or reload: an Octane daemon's ExecReload) and
# its TEXT. Every unit is staged under its own name and checked with `systemd-analyze verify`
# (where installed) before any is installed: a refused unit installs nothing (exit 4). Each is
# then written atomically (temp file in UNIT_DIR + rename); the same text changes nothing.
# Units of the site (PREFIX*@.service) no longer listed are stopped and removed. Where systemd
# does not run, the files are installed and nothing is started (said so). Otherwise
# daemon-reload, enable, restart or reload each instance; one that does not come up: exit 6.
# Usage: sh -c "$(cat workers_systemd.sh)" workers_systemd UNIT_DIR PREFIX [NAME COUNT MODE TEXT]...
unit_dir=$1 prefix=$2
shift 2
stage=$(mktemp -d) || exit 3
trap 'rm -rf -- "$stage"' EXIT
listed=""
while [ "$#" -ge 4 ]; do
  printf '%s' "$4" > "$stage/$1" || exit 3
  printf '%s %s\n' "$2" "$3" > "$stage/.$1.how" || exit 3
  listed="$listed $1"
  shift 4
done
if [ -n "$listed" ] && command -v systemd-analyze >/dev/null 2>&1; then
  # shellcheck disable=SC2086 # the names are PROGRAM@.service words, split on purpose
  if ! (cd "$stage" && systemd-analyze verify $listed) 2>&1; then
    echo "systemd-analyze verify refused the units: nothing installed" >&2
    exit 4
  fi
fi
running=0
[ -d /run/systemd/system ] && running=1
mkdir -p -- "$unit_dir" || exit 3
for name in $listed; do
  if [ -f "$unit_dir/$name" ] && cmp -s -- "$stage/$name" "$unit_dir/$name"; then
    echo "unchanged $unit_dir/$name"
    continue
  fi
  temp="$unit_dir/.$name.deploynix-new"
  if ! { cp -- "$stage/$name" "$temp" && chmod 0644 -- "$temp" \
      && mv -f -- "$temp" "$unit_dir/$name"; }; then
    rm -f -- "$temp"
    exit 3
  fi
  echo "installed $unit_dir/$name"
done
for path in "$unit_dir/$prefix"*@.service; do
  [ -e "$path" ] || continue
  name=${path##*/}
  case " $listed " in *" $name "*) continue ;; esac
  if [ "$running" = 1 ]; then
    systemctl list-units --all --plain --no-legend "${name%.service}*" \
      | while read -r unit _; do systemctl disable --now "$unit"; done
  fi
  rm -f -- "$path" && echo "removed $path"
done
if [ "$running" = 0 ]; then
  echo "systemd is not running here: the units are installed, nothing was started"
  exit 0
fi
systemctl daemon-reload || exit 3
failed=0
for name in $listed; do
  read -r count mode < "$stage/.$name.how"
  base=${name%@.service}
  i=1
  while [ "$i" -le "$count" ]; do
    unit="$base@$i.service"
    systemctl enable --quiet "$unit" || failed=1
    if [ "$mode" = reload ] && systemctl is-active --quiet "$unit"; then
      systemctl reload "$unit" || failed=1
    else
      systemctl restart "$unit" || failed=1
    fi
    i=$((i + 1))
  done
  # Instances above COUNT (the worker has fewer processes now) stop.
  systemctl list-units --all --plain --no-legend "$base@*" | while read -r unit _; do
    n=${unit#"$base@"}; n=${n%.service}
    [ "$n" -gt "$count" ] 2>/dev/null && systemctl disable --now "$unit"
  done
done
[ "$failed" = 0 ] || exit 6
