#!/usr/bin/env bash
# A 4000×3000 JPEG through POST /v1/detect with and without shrink-on-load (issue #13): two Iris servers, one with
# Images:ShrinkOnLoad=true and one with false, each asked in turn by one caller (A, B, A, B, …) so that a change in the
# machine's load hits both alike. Prints p50/p99 client latency, the medians of the server's own timings_ms (decode,
# preprocess, inference, total) and the ratios.
# Needs a Release build (dotnet build Iris.slnx -c Release), vips (libvips-tools), curl, python3 and ../shared.
# Usage: bench/shrink/run.sh [requests per server, default 40] [warm-up requests, default 5]
set -euo pipefail
cd "$(dirname "$0")/../.."
requests=${1:-40}
warmup=${2:-5}
iris="dotnet src/Iris/bin/Release/net10.0/iris.dll"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# dog.jpg (768×576, a real photo) enlarged 125/24× to exactly 4000×3000 and saved at Q90: a phone camera's size.
vips resize ../shared/testdata/real/dog.jpg "$work/big.v" 5.208333333333333 --kernel lanczos3
vips crop "$work/big.v" "$work/big.jpg[Q=90]" 0 0 4000 3000
echo "image: $(vipsheader "$work/big.jpg" | cut -d: -f2), $(stat -c %s "$work/big.jpg") bytes"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
declare -A port
for mode in on off; do
  port[$mode]=$(free_port)
  value=$([ "$mode" = on ] && echo true || echo false)
  IRIS__Images__ShrinkOnLoad=$value IRIS__Log__Level=Warning $iris serve --urls "http://127.0.0.1:${port[$mode]}" \
    --model-cache "$work/models-$mode" --mirror ../shared/models >"$work/server-$mode.log" 2>&1 &
  pids+=($!)
done
for mode in on off; do
  for _ in $(seq 1 120); do
    curl -fs "http://127.0.0.1:${port[$mode]}/healthz" >/dev/null && break
    sleep 1
  done
done

ask() { # mode → "client_seconds decode_ms preprocess_ms inference_ms total_ms"
  curl -fs -o "$work/answer.json" -w '%{time_total}' -H 'Content-Type: image/jpeg' --data-binary "@$work/big.jpg" \
    "http://127.0.0.1:${port[$1]}/v1/detect"
  python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["timings_ms"]; print("", t["decode"], t["preprocess"], t["inference"], t["total"])' "$work/answer.json"
}
for _ in $(seq 1 "$warmup"); do ask on >/dev/null; ask off >/dev/null; done
echo "load before: $(uptime)"
for _ in $(seq 1 "$requests"); do
  ask on >>"$work/on.txt"
  ask off >>"$work/off.txt"
done
echo "load after:  $(uptime)"
python3 - "$work/on.txt" "$work/off.txt" <<'PY'
import sys
def read(path):
    rows = [list(map(float, line.split())) for line in open(path) if line.strip()]
    rows = [[r[0] * 1000] + r[1:] for r in rows]
    return [sorted(column) for column in zip(*rows)]
def rank(values, q):  # nearest rank
    return values[max(0, min(len(values) - 1, int(round(q * len(values) + 0.5)) - 1))]
on, off = read(sys.argv[1]), read(sys.argv[2])
print("| Images:ShrinkOnLoad | Requests | p50 ms | p99 ms | server: decode | preprocess | inference | total (p50 ms) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for name, c in (("true", on), ("false", off)):
    print(f"| {name} | {len(c[0])} | {rank(c[0], .5):.1f} | {rank(c[0], .99):.1f} | {rank(c[1], .5):.1f} | {rank(c[2], .5):.1f} | {rank(c[3], .5):.1f} | {rank(c[4], .5):.1f} |")
print(f"\nfalse ÷ true: p50 {rank(off[0], .5) / rank(on[0], .5):.2f}×, p99 {rank(off[0], .99) / rank(on[0], .99):.2f}×, "
      f"decode p50 {rank(off[1], .5) / rank(on[1], .5):.2f}×")
PY
