#!/usr/bin/env bash
# Burst of large images against a real `iris serve` (issue #15, item 5): N concurrent 36-megapixel PNGs (~105 KB each,
# a decompression-heavy but legitimate input) to /v1/analyze. Reports peak RSS of the server, how many requests were
# shed (503 + Retry-After), p50/p99 of the admitted (200) ones, and RSS after the server has been idle.
# Usage: bench/burst/burst.sh [--requests 32] [--side 6000] [--idle 30] [--set Images:MaxInFlightPixels=...]...
# Needs: a Release build (dotnet build Iris.slnx -c Release), curl, python3, the model mirror in ../shared.
set -euo pipefail
cd "$(dirname "$0")/../.."

requests=32 side=6000 idle=30 sets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) requests=$2; shift 2 ;;
    --side) side=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    --set) sets+=(--set "$2"); shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

# A black RGB PNG of side×side written with zlib alone: the pixels cost 3 bytes each once decoded, the file ~105 KB.
python3 - "$side" "$work/large.png" <<'PY'
import struct, sys, zlib
side, path = int(sys.argv[1]), sys.argv[2]
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
row = b"\x00" + b"\x00" * (side * 3)
z = zlib.compressobj(9)
idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
with open(path, "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
PY

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
IRIS__Log__Level=Information src/Iris/bin/Release/net10.0/iris serve \
  --set "Server:Urls=http://127.0.0.1:$port" --set "Models:CacheDirectory=$work/models" --set "Models:Mirror=$(cd .. && pwd)/shared/models" \
  --set "Models:Enabled=yolox-nano,ultraface-rfb-320" --set "Jobs:Database=$work/jobs.db" --set "Jobs:InputDirectory=$work/inputs" \
  --set "Storage:Directory=$work/blobs" "${sets[@]}" > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
rss() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$server/status"; }
echo "idle RSS before: $(rss) MiB"

# Peak RSS, sampled every 100 ms; written whole (mv) so a read never sees a half-written file.
( max=0; while kill -0 "$server" 2>/dev/null; do r=$(rss); [ "${r:-0}" -gt "$max" ] && max=$r; echo "$max" > "$work/peak.tmp" && mv "$work/peak.tmp" "$work/peak"; sleep 0.1; done ) &
sampler=$!

start=$(date +%s.%N)
for i in $(seq 1 "$requests"); do
  curl -s -o "$work/body.$i" -D "$work/head.$i" -w "%{http_code} %{time_total}\n" \
    -H "Content-Type: image/png" --data-binary "@$work/large.png" "http://127.0.0.1:$port/v1/analyze" > "$work/result.$i" &
done
wait $(jobs -p | grep -v "^$sampler$" | grep -v "^$server$") 2>/dev/null || true
end=$(date +%s.%N)
sleep 0.3
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
peak=$(cat "$work/peak")

cat "$work"/result.* > "$work/all"
python3 - "$work/all" "$requests" "$start" "$end" "$peak" <<'PY'
import sys, collections
lines = [l.split() for l in open(sys.argv[1]) if l.strip()]
codes = collections.Counter(c for c, _ in lines)
ok = sorted(float(t) for c, t in lines if c == "200")
def rank(p): return ok[max(0, min(len(ok) - 1, int(round(p * len(ok) + 0.5)) - 1))] if ok else float("nan")
print(f"requests {sys.argv[2]}: " + ", ".join(f"{c}×{n}" for c, n in sorted(codes.items())))
print(f"shed (503): {codes.get('503', 0)}; 5xx other than 503: {sum(n for c, n in codes.items() if c.startswith('5') and c != '503')}")
print(f"admitted p50 {rank(0.5):.2f} s, p99 {rank(0.99):.2f} s; burst wall {float(sys.argv[4]) - float(sys.argv[3]):.1f} s; peak RSS {sys.argv[5]} MiB")
PY
echo "answers with Retry-After: $(cat "$work"/head.* | grep -ci '^retry-after:' || true)"
sleep "$idle"
echo "RSS after ${idle} s idle: $(rss) MiB"
# The after-burst trim (Images:TrimAfterBurstMs) logs what it gave back, managed heap and native heap apart.
grep -o 'Trimmed memory after a burst[^"]*' "$work/server.log" || echo "no after-burst trim logged (Images:TrimAfterBurstMs=0, or less than 30 MP admitted)"
