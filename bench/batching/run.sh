#!/usr/bin/env bash
# Dynamic batching (issue #13), in two parts:
# 1. batching-cost: CPU and wall ms per image inside ONNX Runtime at batch 2, 4 and 8 against the exported graph alone.
# 2. batching: POST /v1/detect (YOLOX-Nano) and POST /v1/embed (CLIP image tower) at 1, 4 and 16 callers on two
#    in-process servers that differ only in Inference:Batching:Enabled (markdown table, also to --out FILE).
# The machine's load is printed before and after: a shared machine skews the numbers.
# Usage: bench/batching/run.sh [--seconds 5] [--warmup 2] [--concurrency 1,4,16] [--image PATH] [--mirror DIR] [--out FILE.md]
set -euo pipefail
cd "$(dirname "$0")/../.."
echo "load before: $(uptime)"
dotnet run -c Release --project bench/Iris.Bench -- batching-cost
dotnet run -c Release --project bench/Iris.Bench --no-build -- batching "$@"
echo "load after: $(uptime)"
