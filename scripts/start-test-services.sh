#!/usr/bin/env bash
# Starts private instances of redis-server, PostgreSQL, RabbitMQ and s3rver for the integration tests: bound to 127.0.0.1,
# on unusual ports, with all their data in one temporary directory. Prints `export NAME=value` lines for the
# tests (IRIS_TEST_REDIS, IRIS_TEST_POSTGRES, IRIS_TEST_RABBITMQ, IRIS_TEST_S3, IRIS_TEST_PGVECTOR, IRIS_TEST_SERVICES_DIR); a service that fails to
# start is reported on stderr and left unset, so its tests are skipped rather than the whole run failing.
# Stop them with scripts/stop-test-services.sh "$IRIS_TEST_SERVICES_DIR".
# Ports: IRIS_TEST_PORT_BASE (default: a free random base) + 0 redis, +1 postgres, +2 rabbitmq, +3 epmd, +4 erlang distribution,
# +5 s3rver (IRIS_TEST_S3, an S3 endpoint for the S3 storage tests), +6 PGlite with pgvector (IRIS_TEST_PGVECTOR, a
# PostgreSQL connection string for the pgvector index tests).
set -uo pipefail

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -n "${IRIS_TEST_PORT_BASE:-}" ]; then
  base=$IRIS_TEST_PORT_BASE
else
  # A random base, so concurrent runs on one machine (several checkouts, CI jobs) do not collide.
  for _ in $(seq 1 50); do
    base=$((20000 + (RANDOM % 900) * 10))
    port_free $base && port_free $((base + 1)) && port_free $((base + 2)) && port_free $((base + 3)) && port_free $((base + 4)) && port_free $((base + 5)) && port_free $((base + 6)) && break
  done
fi
redis_port=$base; pg_port=$((base + 1)); amqp_port=$((base + 2)); epmd_port=$((base + 3)); dist_port=$((base + 4))
dir=$(mktemp -d /tmp/iris-test-services.XXXXXX)
chmod 755 "$dir"
echo "export IRIS_TEST_SERVICES_DIR=$dir"
echo "$base" > "$dir/port-base"

as_user() { # run as a service account when we are root (postgres refuses to run as root)
  local user=$1; shift
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

wait_port() { # host port seconds
  local deadline=$((SECONDS + $3))
  while [ $SECONDS -lt $deadline ]; do
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
    sleep 0.3
  done
  return 1
}

# --- Redis: append-only file with fsync on every write, so an acknowledged enqueue survives a crash.
if command -v redis-server >/dev/null; then
  mkdir -p "$dir/redis"
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$dir/redis" --save "" --appendonly yes --appendfsync always \
    --daemonize yes --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" >/dev/null
  if wait_port 127.0.0.1 "$redis_port" 20; then
    echo "export IRIS_TEST_REDIS=127.0.0.1:$redis_port"
  else
    echo "redis-server did not start; see $dir/redis/redis.log" >&2
  fi
fi

# --- PostgreSQL: a throwaway cluster with trust authentication on 127.0.0.1 only.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ]; then
  mkdir -p "$dir/postgres"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir/postgres"
  if as_user postgres "$pg_bin/initdb" -D "$dir/postgres/data" -U iris -A trust -E UTF8 >"$dir/postgres/initdb.log" 2>&1 \
     && as_user postgres "$pg_bin/pg_ctl" -D "$dir/postgres/data" -l "$dir/postgres/server.log" -w -t 60 \
          -o "-p $pg_port -k $dir/postgres -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" start >/dev/null 2>&1; then
    echo "export IRIS_TEST_POSTGRES='Host=127.0.0.1;Port=$pg_port;Username=iris;Database=postgres'"
  else
    echo "PostgreSQL did not start; see $dir/postgres/" >&2
  fi
fi

# --- RabbitMQ: a private node (own name, ports, epmd, data and log directories; no plugins).
if command -v rabbitmq-server >/dev/null; then
  mkdir -p "$dir/rabbitmq/mnesia" "$dir/rabbitmq/log"
  : > "$dir/rabbitmq/enabled_plugins"
  echo "[]." > "$dir/rabbitmq/enabled_plugins"
  [ "$(id -u)" -eq 0 ] && id rabbitmq >/dev/null 2>&1 && chown -R rabbitmq "$dir/rabbitmq"
  (
    export RABBITMQ_NODENAME="iris-test-$base@localhost" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$amqp_port \
           RABBITMQ_DIST_PORT=$dist_port ERL_EPMD_PORT=$epmd_port ERL_EPMD_ADDRESS=127.0.0.1 \
           RABBITMQ_MNESIA_BASE="$dir/rabbitmq/mnesia" RABBITMQ_LOG_BASE="$dir/rabbitmq/log" \
           RABBITMQ_PID_FILE="$dir/rabbitmq/rabbitmq.pid" RABBITMQ_ENABLED_PLUGINS_FILE="$dir/rabbitmq/enabled_plugins" \
           RABBITMQ_CONFIG_FILE="$dir/rabbitmq/rabbitmq" RABBITMQ_ADVANCED_CONFIG_FILE="$dir/rabbitmq/advanced.config" \
           RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq/rabbitmq-env.conf" HOME="$dir/rabbitmq"
    # The default guest user may only connect from localhost, which is exactly where the tests are.
    printf 'loopback_users = none\nlisteners.tcp.default = 127.0.0.1:%s\n' "$amqp_port" > "$dir/rabbitmq/rabbitmq.conf"
    [ "$(id -u)" -eq 0 ] && chown rabbitmq "$dir/rabbitmq/rabbitmq.conf"
    setsid rabbitmq-server >"$dir/rabbitmq/server.out" 2>&1 &
    echo $! > "$dir/rabbitmq/launcher.pid"
  )
  echo "export IRIS_TEST_RABBITMQ_PENDING=amqp://guest:guest@127.0.0.1:$amqp_port/"
fi
echo "export IRIS_TEST_RABBITMQ_PORT=$amqp_port"

# --- s3rver: a fake S3 server (the real S3 HTTP API, data in its own directory); credentials S3RVER/S3RVER.
s3rver_bin="$(dirname "$0")/../tools/s3rver/node_modules/.bin/s3rver"
if [ -x "$s3rver_bin" ] && command -v node >/dev/null; then
  s3_port=$((base + 5))
  mkdir -p "$dir/s3rver/data"
  setsid "$s3rver_bin" -d "$dir/s3rver/data" -a 127.0.0.1 -p "$s3_port" --silent >"$dir/s3rver/server.log" 2>&1 &
  echo $! > "$dir/s3rver/s3rver.pid"
  if wait_port 127.0.0.1 "$s3_port" 30; then
    echo "export IRIS_TEST_S3=http://127.0.0.1:$s3_port"
  else
    echo "s3rver did not start; see $dir/s3rver/server.log" >&2
  fi
fi

# --- PGlite + pgvector (Debian has no pgvector package): in memory, behind the wire protocol, one connection at a time
# (tools/pglite/server.mjs says why), so clients connect with Pooling=false.
pglite_dir="$(dirname "$0")/../tools/pglite"
if [ -f "$pglite_dir/node_modules/@electric-sql/pglite-socket/package.json" ] && command -v node >/dev/null; then
  pglite_port=$((base + 6))
  mkdir -p "$dir/pglite"
  setsid node "$pglite_dir/server.mjs" "$pglite_port" >"$dir/pglite/server.log" 2>&1 &
  echo $! > "$dir/pglite/pglite.pid"
  if wait_port 127.0.0.1 "$pglite_port" 60; then
    echo "export IRIS_TEST_PGVECTOR='Host=127.0.0.1;Port=$pglite_port;Username=postgres;Database=postgres;SSL Mode=Disable;Pooling=false'"
  else
    echo "PGlite did not start; see $dir/pglite/server.log" >&2
  fi
fi
