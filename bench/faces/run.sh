#!/usr/bin/env bash
# Face recognition throughput on testdata/real/faces-16.jpg (nine registered people) against the raw UltraFace + FaceRes
# session runs of the same run. Usage: bench/faces/run.sh [seconds per row, default 10]. Prints a Markdown table and the load.
set -euo pipefail
cd "$(dirname "$0")/../.."
echo "uptime before: $(uptime)"
dotnet run -c Release --project bench/Iris.Bench -- faces "${1:-10}"
echo "uptime after: $(uptime)"
