#!/usr/bin/env bash
# `make cluster`: two frase processes on this machine's PostgreSQL, behind nginx on one port, to
# try several processes on one machine. Ctrl-C stops all three.
#
#   PORT (default 3000)               where nginx listens; the processes take PORT+1 and PORT+2
#   FRASE_CLUSTER_DATABASE            default postgres://postgres@127.0.0.1:5432/frase_cluster
#                                     (created if missing)
#
# The processes share the key in target/cluster/secret.key (made once), as every process on one
# database must. nginx runs deploy/nginx.conf with its upstream and port set for these two.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${PORT:-3000}
database=${FRASE_CLUSTER_DATABASE:-postgres://postgres@127.0.0.1:5432/frase_cluster}
binary=target/release/frase
work=target/cluster
mkdir -p "$work"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

command -v nginx >/dev/null || { echo "make cluster needs nginx (apt-get install nginx)" >&2; exit 1; }
[ -x "$binary" ] || { echo "no $binary: run make build" >&2; exit 1; }

# The database, made if it is missing (frase applies its migrations itself).
server_url=${database%/*}/postgres
name=${database##*/}
if command -v psql >/dev/null; then
  if ! psql "$server_url" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
    say "creating database $name"
    psql "$server_url" -qc "CREATE DATABASE \"$name\""
  fi
fi

# One key for both processes.
if [ ! -s "$work/secret.key" ]; then
  (umask 077 && head -c 48 /dev/urandom | base64 > "$work/secret.key")
fi
FRASE_SECRET_KEY=$(cat "$work/secret.key")
export FRASE_SECRET_KEY

pids=()
stop() {
  trap - INT TERM EXIT
  say "stopping"
  [ -f "$work/nginx.pid" ] && nginx -p "$PWD/$work" -c nginx.conf -s quit 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

for n in 1 2; do
  say "frase $n on 127.0.0.1:$((port + n))"
  "$binary" serve --addr "127.0.0.1:$((port + n))" --data-dir "$work/process-$n" \
    --database "$database" --connections-per-address 0 --streams-per-address 0 \
    > "$work/process-$n.log" 2>&1 &
  pids+=($!)
done
for n in 1 2; do
  for _ in $(seq 100); do
    curl -fs -o /dev/null "http://127.0.0.1:$((port + n))/healthz" && break
    sleep 0.1
  done
done

# deploy/nginx.conf with this cluster's upstream servers and port.
{
  echo "pid $PWD/$work/nginx.pid;"
  echo "error_log $PWD/$work/nginx-error.log;"
  echo "events {}"
  echo "http {"
  echo "  access_log off;"
  sed -e "s/^    server 127.0.0.1:3000;/    server 127.0.0.1:$((port + 1));/" \
      -e "s/^    # server 127.0.0.1:3001;/    server 127.0.0.1:$((port + 2));/" \
      -e "s/^    listen 80;/    listen $port;/" \
      -e "/^    listen \[::\]:80;/d" \
      deploy/nginx.conf
  echo "}"
} > "$work/nginx.conf"
mkdir -p "$work/client_body_temp" "$work/proxy_temp"
nginx -p "$PWD/$work" -c nginx.conf -g "daemon on;"

say "frase is running on http://127.0.0.1:$port/ (nginx), processes on $((port + 1)) and $((port + 2))"
echo "   database $database; logs in $work/. Press Ctrl-C to stop."
wait "${pids[@]}"
