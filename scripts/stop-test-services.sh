#!/usr/bin/env bash
# Stops the services started by start-test-services.sh and deletes their directory.
set -uo pipefail
dir=${1:-${IRIS_TEST_SERVICES_DIR:-}}
[ -n "$dir" ] && [ -d "$dir" ] || exit 0
base=$(cat "$dir/port-base" 2>/dev/null || echo 27460)

[ -f "$dir/redis/redis.pid" ] && kill "$(cat "$dir/redis/redis.pid")" 2>/dev/null
[ -f "$dir/s3rver/s3rver.pid" ] && kill "$(cat "$dir/s3rver/s3rver.pid")" 2>/dev/null
[ -f "$dir/pglite/pglite.pid" ] && kill "$(cat "$dir/pglite/pglite.pid")" 2>/dev/null

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -f "$dir/postgres/data/postmaster.pid" ]; then
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir/postgres/data" -m immediate stop >/dev/null 2>&1
  else "$pg_bin/pg_ctl" -D "$dir/postgres/data" -m immediate stop >/dev/null 2>&1; fi
fi

if [ -f "$dir/rabbitmq/rabbitmq.pid" ]; then
  beam=$(cat "$dir/rabbitmq/rabbitmq.pid")
  kill "$beam" 2>/dev/null
  # epmd refuses to stop while the node is still registered: wait for the node to go first.
  for _ in $(seq 1 50); do kill -0 "$beam" 2>/dev/null || break; sleep 0.2; done
fi
[ -f "$dir/rabbitmq/launcher.pid" ] && kill -- -"$(cat "$dir/rabbitmq/launcher.pid")" 2>/dev/null
# The private epmd on its own port belongs to this run only.
epmd_bin=$(ls /usr/lib/erlang/erts-*/bin/epmd 2>/dev/null | head -1)
[ -n "$epmd_bin" ] && "$epmd_bin" -port $((base + 3)) -kill >/dev/null 2>&1
sleep 1
rm -rf "$dir"
