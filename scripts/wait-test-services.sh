#!/usr/bin/env bash
# Waits for the RabbitMQ node started by start-test-services.sh (it boots while the build runs) and prints its URI.
set -uo pipefail
port=$1; seconds=${2:-120}
deadline=$((SECONDS + seconds))
while [ $SECONDS -lt $deadline ]; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "export IRIS_TEST_RABBITMQ=amqp://guest:guest@127.0.0.1:$port/"
    exit 0
  fi
  sleep 0.5
done
echo "RabbitMQ did not open port $port within ${seconds}s; its tests are skipped." >&2
