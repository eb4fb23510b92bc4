#!/usr/bin/env bash
# Runs `iris serve` on the embedded defaults (http://127.0.0.1:8080), pulling models from the
# mirror beside the checkout (../shared/models) unless IRIS__Models__Mirror says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
mirror="${IRIS__Models__Mirror:-$(cd .. && pwd)/shared/models}"
args=()
[ -d "$mirror" ] && args+=(--mirror "$mirror")
dotnet build src/Iris -c Release --nologo -v quiet
# Run from the repository root, so data/ (model cache, job database, blobs) lands here, as documented.
exec dotnet src/Iris/bin/Release/net10.0/iris.dll serve "${args[@]}" "$@"
