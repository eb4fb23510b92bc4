#!/usr/bin/env bash
# Runs `iris serve` on the embedded defaults (http://127.0.0.1:8080), pulling models from the
# mirror beside the checkout (../shared/models) unless IRIS__Models__Mirror says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
mirror="${IRIS__Models__Mirror:-$(cd .. && pwd)/shared/models}"
args=()
[ -d "$mirror" ] && args+=(--mirror "$mirror")
exec dotnet run --project src/Iris -c Release -- serve "${args[@]}" "$@"
