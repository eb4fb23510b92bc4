#!/usr/bin/env bash
# Runs the whole Iris test suite: builds, then runs unit and integration tests against real
# components (libvips, ONNX Runtime, a real Kestrel server on 127.0.0.1, the model mirror in ../shared).
# Usage: scripts/test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Detection]
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null; then
  echo "The .NET SDK 10 is required: https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2
  exit 1
fi

shared="${IRIS_TEST_SHARED:-$(cd .. && pwd)/shared}"
if [ ! -f "$shared/models/catalog.json" ]; then
  echo "The model mirror and test data were not found at $shared (set IRIS_TEST_SHARED)." >&2
  exit 1
fi
export IRIS_TEST_SHARED="$shared"

# Installs the Debian packages and npm peers the suite needs (libvips and ONNX Runtime themselves come as NuGet native packages).
scripts/install-test-deps.sh

# Real Redis, PostgreSQL and RabbitMQ for the job backends (issue #5) and s3rver for S3 storage, private to this run, stopped on exit.
services=$(scripts/start-test-services.sh)
eval "$services"
trap 'scripts/stop-test-services.sh "${IRIS_TEST_SERVICES_DIR:-}"' EXIT

dotnet build Iris.slnx -c Release -warnaserror --nologo -v quiet
# RabbitMQ boots while the build runs.
[ -n "${IRIS_TEST_RABBITMQ_PORT:-}" ] && eval "$(scripts/wait-test-services.sh "$IRIS_TEST_RABBITMQ_PORT" 120)"
log=$(mktemp)
set +e
dotnet test tests/Iris.Tests/Iris.Tests.csproj -c Release --no-build --nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

summary=$(grep -E "(Passed|Failed)!\s+-\s+Failed:" "$log" | tail -1 || true)
if [ -n "$summary" ]; then
  failed=$(sed -E 's/.*Failed:\s+([0-9]+).*/\1/' <<<"$summary")
  passed=$(sed -E 's/.*Passed:\s+([0-9]+).*/\1/' <<<"$summary")
  skipped=$(sed -E 's/.*Skipped:\s+([0-9]+).*/\1/' <<<"$summary")
  echo
  echo "tests: $passed passed, $failed failed, $skipped skipped"
fi
rm -f "$log"
exit "$status"
