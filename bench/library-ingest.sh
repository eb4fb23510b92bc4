#!/usr/bin/env bash
# Ingest throughput of `iris library add` (default Library:IndexTasks) on the flowers and the real photos, with the
# per-task times summed, for bench/README.md. Needs a Release build (dotnet build Iris.slnx -c Release) and ../shared.
set -euo pipefail
cd "$(dirname "$0")/.."
IRIS="dotnet src/Iris/bin/Release/net10.0/iris.dll"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
MODELS=$work/models
# Fill the model cache first: copying models from the mirror is not ingest work.
$IRIS library add ../shared/testdata/flowers/flower-00.png --set Jobs:Database=$work/warm/jobs.db --set Storage:Directory=$work/warm/images \
  --model-cache $MODELS --mirror ../shared/models >/dev/null
for set in flowers real; do
  echo "== $set"; uptime
  /usr/bin/time -f "wall %e s, max RSS %M KB" $IRIS library add ../shared/testdata/$set --collection $set \
    --set Jobs:Database=$work/$set/jobs.db --set Storage:Directory=$work/$set/images --model-cache $MODELS --mirror ../shared/models 2>&1 | tail -3
  uptime
done
