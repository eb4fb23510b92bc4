#!/usr/bin/env bash
# Throughput of signed imgproxy-format thumbnails against the same thumbnails through /v1/img, in one run, back to back
# (issue #17: the imgproxy URL format must cost nothing measurable). One `iris serve` with the result cache off, so
# every request decodes, resizes and encodes; the same stored JPEG (shared/testdata/real/dog.jpg by default) and size.
#   /v1/img/{sig}/resize:w=W,h=H,fit=inside/{id}        vs        /imgproxy/{sig}/rs:fit:W:H/{base64url("iris://{id}")}
# Rounds alternate A, B, A, B… so drift in the machine's load hits both alike; each round is a closed loop of C callers.
# Usage: bench/imgproxy/compare.sh [--seconds 5] [--rounds 4] [--concurrency 2] [--size 300] [--image PATH]
# Needs: a Release build (dotnet build Iris.slnx -c Release), curl, python3.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=5 rounds=4 concurrency=2 size=300 image="$(cd .. && pwd)/shared/testdata/real/dog.jpg"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --image) image=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
key=943b421c9eb07c830af81030552c86009268de4e532ba2ee2eab8247c6da0881
salt=520f986b998545b4785e0defbc4f3c1203f22de2374a3d53cb7a7fe9fea309c5

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
src/Iris/bin/Release/net10.0/iris serve \
  --set "Server:Urls=http://127.0.0.1:$port" --set "Models:LoadOnStartup=false" --set "Models:CacheDirectory=$work/models" \
  --set "Jobs:Database=$work/jobs.db" --set "Jobs:InputDirectory=$work/inputs" --set "Storage:Directory=$work/blobs" \
  --set "Transforms:CacheMaxBytes=0" --set "Transforms:SigningKey=$key" --set "Transforms:SigningSalt=$salt" \
  --set "Log:Level=Warning" > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

id=$(curl -fs -H "Content-Type: application/octet-stream" --data-binary "@$image" "http://127.0.0.1:$port/api/v1/upload" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

python3 - "$port" "$key" "$salt" "$id" "$size" "$seconds" "$rounds" "$concurrency" <<'PY'
import base64, hashlib, hmac, http.client, statistics, sys, threading, time
port, key, salt, blob, size, seconds, rounds, callers = sys.argv[1], bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3]), sys.argv[4], int(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])

def sign(path):
    return base64.urlsafe_b64encode(hmac.new(key, salt + path.encode(), hashlib.sha256).digest()).rstrip(b"=").decode()

def signed(prefix, path):
    return f"{prefix}/{sign(path)}{path}"

source = base64.urlsafe_b64encode(f"iris://{blob}".encode()).rstrip(b"=").decode()
urls = {
    "/v1/img": signed("/v1/img", f"/resize:w={size},h={size},fit=inside/{blob}"),
    "/imgproxy": signed("/imgproxy", f"/rs:fit:{size}:{size}/{source}"),
}

def run(url):
    latencies, lock, stop = [], threading.Lock(), time.monotonic() + seconds
    sizes = set()
    def caller():
        conn = http.client.HTTPConnection("127.0.0.1", int(port))
        while time.monotonic() < stop:
            t = time.monotonic()
            conn.request("GET", url)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise SystemExit(f"{url} answered {response.status}: {body[:300]!r}")
            with lock:
                latencies.append(time.monotonic() - t)
                sizes.add(len(body))
    started = time.monotonic()
    threads = [threading.Thread(target=caller) for _ in range(callers)]
    for t in threads: t.start()
    for t in threads: t.join()
    return len(latencies) / (time.monotonic() - started), statistics.median(latencies) * 1000, sizes

# Warm-up, not reported: the JIT's tiers and libvips' caches settle in the first seconds of both routes.
for name, url in urls.items():
    warm, seconds = seconds, min(seconds, 3.0)
    run(url)
    seconds = warm

results = {name: [] for name in urls}
for i in range(rounds):
    for name, url in (urls.items() if i % 2 == 0 else reversed(list(urls.items()))):
        rate, p50, sizes = run(url)
        results[name].append((rate, p50))
        print(f"round {i + 1}  {name:10}  {rate:7.1f} images/s  p50 {p50:6.1f} ms  ({sorted(sizes)} bytes)", flush=True)

print()
print(f"{size}x{size} fit thumbnails of one stored JPEG, {callers} callers, {rounds} rounds of {seconds:g} s each, result cache off")
for name in urls:
    rates = [r for r, _ in results[name]]
    print(f"{name:10}  mean {statistics.mean(rates):7.1f} images/s  (rounds {min(rates):.1f}-{max(rates):.1f})  p50 {statistics.median(p for _, p in results[name]):.1f} ms")
ratio = statistics.mean(r for r, _ in results["/imgproxy"]) / statistics.mean(r for r, _ in results["/v1/img"])
print(f"imgproxy / v1/img = {ratio:.3f}")
PY
