#!/usr/bin/env bash
# `make run`: install what is missing, migrate, seed the demo, run the panel with its worker.
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

apt_ensure /usr/sbin/sshd:openssh-server ssh-keygen:openssh-client git:git
# nginx + php-fpm serve the demo site's live release; optional when not root.
apt_ensure /usr/sbin/nginx:nginx "/usr/sbin/php-fpm*:php-fpm" php:php-cli \
  || echo "(the demo site will deploy but not be served over HTTP without nginx and php-fpm)"
# supervisor runs sites' workers; the package's own service is not started here.
apt_ensure supervisord:supervisor || echo "(sites with workers will fail to restart them)"
venv_ensure
redis_ensure
export DEPLOYNIX_ENV="${DEPLOYNIX_ENV:-development}"
# The panel's port; exported so settings build DEPLOYNIX_PUBLIC_URL's default from it (.env.example).
export DEPLOYNIX_PORT="${DEPLOYNIX_PORT:-8000}"
PORT="$DEPLOYNIX_PORT"
DEMO="$ROOT/var/demo"
mkdir -p "$DEMO"
port_for() {  # a port chosen once and kept, so pinned keys and URLs stay valid across runs
  [ -s "$DEMO/$1.port" ] || python3 scripts/devenv.py free-port > "$DEMO/$1.port"
  cat "$DEMO/$1.port"
}
SSH_PORT="$(port_for ssh)"
WEB_PORT="$(port_for web)"

PUBLIC="${DEPLOYNIX_PUBLIC_URL:-http://127.0.0.1:$PORT}"
DEMO_URL=""  # the demo site is served over HTTP only where nginx and php-fpm are installed
if ls /usr/sbin/php-fpm* >/dev/null 2>&1 && [ -x /usr/sbin/nginx ]; then
  DEMO_URL="http://127.0.0.1:$WEB_PORT/"
fi

say "Migrating the database"
"$VENV/bin/python" manage.py migrate --noinput -v0
say "Seeding the demo organization (details: var/demo/seed.log)"
# Quiet here: the log-in comes last, once the panel answers (scripts/greet.py).
"$VENV/bin/python" manage.py seed_demo --demo-dir "$DEMO" --ssh-port "$SSH_PORT" \
  --web-port "$WEB_PORT" > "$DEMO/seed.log"
chmod 600 "$DEMO/seed.log"

{
  echo "web: $VENV/bin/daphne -b 127.0.0.1 -p $PORT deploynix.asgi:application"
  # -q: no start-up banners, so the log-in block below is not buried under them.
  echo "worker: $VENV/bin/celery -A deploynix -q worker -Q default,deploy --pool threads --concurrency 32 -n worker@%h -l info"
  # The watchdog and the schedules, apart from the deploys (README.md, Processes).
  echo "control: $VENV/bin/celery -A deploynix -q worker -Q control --pool threads --concurrency 2 -n control@%h -l info"
  echo "beat: $VENV/bin/celery -A deploynix -q beat -l info -s $ROOT/var/celerybeat-schedule"
  echo "demo-ssh: $VENV/bin/python -m testbed.sshd serve --dir $DEMO/sshd --port $SSH_PORT --authorized-keys $DEMO/authorized_keys"
  if [ -n "$DEMO_URL" ]; then
    echo "demo-web: $VENV/bin/python -m testbed.web serve --dir $DEMO/web --deploy-path $DEMO/srv/demo --port $WEB_PORT --placeholder $DEMO/placeholder"
  fi
} > "$ROOT/var/Procfile"

say "Starting the panel, workers, beat and the demo server"
# The log-in block is printed by a watcher once the panel answers, after everything above; it
# stops on its own when this process (honcho, after exec) ends first.
python3 "$ROOT/scripts/greet.py" --port "$PORT" --parent "$$" \
  --panel-url "${PUBLIC%/}/" --email owner@demo.test --password-file "$DEMO/owner-password" \
  --demo-url "$DEMO_URL" \
  --ready-command "$VENV/bin/celery -A deploynix inspect ping --timeout 3 -d worker@$(hostname)" &
exec "$VENV/bin/honcho" -f "$ROOT/var/Procfile" -d "$ROOT" start
