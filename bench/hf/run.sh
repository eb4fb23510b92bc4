#!/usr/bin/env bash
# Captioning and CLIP throughput: Iris (IrisHfBench.cs, in-process) against transformers.js (peer.mjs, Node) on the
# same model folders and images, alternating engines in one run. Installs the peer into bench/hf/node_modules.
# Usage: bench/hf/run.sh [ROUNDS=3] [THREADS=1 …]   (THREADS 0 = each engine's default thread count)
set -euo pipefail
cd "$(dirname "$0")"
shared="${IRIS_TEST_SHARED:-$(cd ../../.. && pwd)/shared}"
rounds="${1:-3}"; shift || true
threads=("${@:-1}")

if [ ! -d node_modules/@huggingface/transformers ]; then
  # onnxruntime-node ships its CPU binaries in the package; skip its optional CUDA download.
  ONNXRUNTIME_NODE_INSTALL=skip ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm install --no-audit --no-fund --silent
fi
dotnet build -c Release ../../src/Iris.Core -v quiet --nologo >/dev/null

for t in "${threads[@]}"; do
  for pass in 1 2; do
    PEER_THREADS="$t" node peer.mjs "$shared" "$rounds"
    IRIS_BENCH_THREADS="$t" dotnet run -c Release IrisHfBench.cs -- "$shared" "$rounds"
  done
done
