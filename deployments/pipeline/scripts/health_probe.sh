# shellcheck shell=sh
# One health probe (deployments/pipeline/health.py): GET a URL with a Host header, print the answer.
# Usage: sh -c "$(cat health_probe.sh)" sh MODE TARGET HOST TIMEOUT BYTES FETCH_PHP [DOCROOT]
#   MODE live:    TARGET is the whole URL of the server's own web server (the live site).
#   MODE release: TARGET is a path; PHP's built-in server serves DOCROOT (the new release's web
#                 directory, its index.php as the router) on a free loopback port for this probe
#                 only, so no user ever reaches it, and the path is asked from it.
# Output: "status <code>" (or "error <why>"), "elapsed <seconds>", "body", then at most BYTES
# bytes of the body. Exits 0 whenever the question was asked; non-zero only if it could not be.
# curl when the server has it, else PHP CLI (FETCH_PHP, given as text: nothing to install).
mode=$1 target=$2 host=$3 timeout=$4 bytes=$5 fetch_php=$6 docroot=$7

fetch() {
  if command -v curl >/dev/null 2>&1; then
    fetch_with_curl "$1"
  else
    php -r "$fetch_php" -- "$1" "$host" "$timeout" "$bytes"
  fi
}

fetch_with_curl() {
  body=$(mktemp) || return
  if [ -n "$host" ]; then set -- "$1" -H "Host: $host"; fi
  # -k: the probe asks the server itself by address, so the name can never match the certificate.
  written=$(curl -sS -k -o "$body" --max-time "$timeout" -w '%{http_code} %{time_total}' \
    "$@" 2>"$body.err")
  code=${written% *}
  if [ "$code" = 000 ] || [ -z "$code" ]; then
    printf 'error %s\n' "$(head -n 1 "$body.err")"
  else
    printf 'status %s\n' "$code"
  fi
  printf 'elapsed %s\nbody\n' "${written#* }"
  head -c "$bytes" "$body"
  rm -f -- "$body" "$body.err"
}

if [ "$mode" = live ]; then
  fetch "$target"
  exit 0
fi

[ -f "$docroot/index.php" ] || { echo "no $docroot/index.php to probe" >&2; exit 2; }
# shellcheck disable=SC2016 # PHP code: its $ variables are PHP's, not the shell's
port=$(php -r '$s = stream_socket_server("tcp://127.0.0.1:0") or exit(1);
  $name = stream_socket_get_name($s, false); echo substr($name, strrpos($name, ":") + 1);') || exit
php -S "127.0.0.1:$port" -t "$docroot" "$docroot/index.php" >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null' EXIT
# shellcheck disable=SC2016 # PHP code, as above
if ! php -r 'for ($i = 0; $i < 100; $i++) { if (@fsockopen("127.0.0.1", (int) $argv[1])) exit(0);
  usleep(50000); } exit(1);' -- "$port"; then
  echo "PHP's built-in server did not start on 127.0.0.1:$port" >&2
  exit 3
fi
fetch "http://127.0.0.1:$port$target"
