#!/usr/bin/env bash
# Throughput engine (issue #13), one command, one run per table, DEFAULT options (no --set): in one Iris.Bench process,
# raw session.Run of YOLOX-Nano (the reference, at the start and again at the end), the in-process pipeline at 1 caller,
# POST /v1/detect at 1, 4, 8 and 16 callers (images/s, p50/p99, 429/503 answers), each /v1/analyze task alone and
# /v1/analyze?tasks=detect,faces,classify,describe at 4 callers; then the peer (bench/peers/yolox_fastapi.py:
# FastAPI + uvicorn + OpenCV DNN on the same ONNX file) at the same concurrencies, and both servers' detections on
# the image.
# Before the first in-process and the first HTTP cell, 15 s of load are thrown away (--settle) so the JIT has finished.
# Usage: bench/throughput/run.sh [SECONDS per cell (default 3)] [ROUNDS (default 1)]
# Needs the .NET SDK and scripts/install-detect-peer.sh (Debian python3-fastapi, python3-uvicorn, python3-opencv,
# python3-multipart). Reports go to ${IRIS_THROUGHPUT_DIR:-/tmp/iris-throughput}/round-N.md and to stdout;
# bench/README.md ("Throughput engine") has the results. Extra arguments for Iris.Bench in IRIS_THROUGHPUT_ARGS.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-3}
rounds=${2:-1}
dir=${IRIS_THROUGHPUT_DIR:-/tmp/iris-throughput}
mkdir -p "$dir"
py=${PYTHON:-/usr/bin/python3}  # Debian's python3-opencv and python3-fastapi live in the system Python
"$py" -c 'import cv2, fastapi, uvicorn, multipart' 2>/dev/null ||
  { echo "The peer needs Debian's python3-fastapi, python3-uvicorn, python3-opencv and python3-multipart: scripts/install-detect-peer.sh" >&2; exit 1; }
shared=$(cd .. && pwd)/shared
[ -d "$shared/models/yolox-nano" ] || { echo "No model mirror at $shared/models (the repository's ../shared)." >&2; exit 1; }

dotnet build bench/Iris.Bench/Iris.Bench.csproj -c Release --nologo -v quiet >/dev/null

# The peer on a free loopback port, stopped (by its own pid) however the script ends.
port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$py" bench/peers/yolox_fastapi.py --model "$shared/models/yolox-nano/yolox_nano.onnx" \
  --labels "$shared/models/yolox-nano/coco-labels.txt" --port "$port" >"$dir/peer.log" 2>&1 &
peer_pid=$!
trap 'kill "$peer_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$peer_pid" 2>/dev/null || { echo "The peer did not start:" >&2; cat "$dir/peer.log" >&2; exit 1; }
  sleep 0.5
done

echo "# cores: $(nproc); Iris $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with local changes)')"
for round in $(seq 1 "$rounds"); do
  echo "# round $round, uptime at start: $(uptime)"
  # shellcheck disable=SC2086
  dotnet bench/Iris.Bench/bin/Release/net10.0/Iris.Bench.dll http --seconds "$seconds" --warmup 1 --concurrency 1,4,8,16 \
    --analyze-callers 4 --peer "http://127.0.0.1:$port" --peer-pid "$peer_pid" --out "$dir/round-$round.md" ${IRIS_THROUGHPUT_ARGS:-} >/dev/null
  cat "$dir/round-$round.md"
  echo "# round $round, uptime at end: $(uptime)"
done
