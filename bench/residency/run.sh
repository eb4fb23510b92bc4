#!/usr/bin/env bash
# Memory of model residency (issue #13): RSS of a real `iris serve` with no model loaded (reference), with every
# built-in model (models/manifests) preloaded, after Models:IdleUnloadAfter has unloaded them all, and after one
# request has loaded yolox-nano again (with that load's time from /metrics). Also each model's own RSS growth, and the
# runtime's memory figure for all models (/health's residency.resident_bytes: each preload's RSS growth, measured as
# they load one at a time) against the measured growth.
# Usage: bench/residency/run.sh [--idle 00:01:00]  (longer than the preload takes, so all are loaded at once)
# Needs: a Release build (dotnet build Iris.slnx -c Release), curl, python3, the model mirror in ../shared.
set -euo pipefail
cd "$(dirname "$0")/../.."

idle=00:01:00
while [ $# -gt 0 ]; do
  case "$1" in
    --idle) idle=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
server=
trap '[ -n "$server" ] && { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }; rm -rf "$work"' EXIT
mirror="$(cd .. && pwd)/shared/models"
# Manifests with a `hub` section name Hugging Face Hub repositories that the mirror does not hold (nothing can be
# downloaded here); every other built-in model comes from the mirror.
all=$(python3 -c 'import json,glob; print(",".join(sorted(m["name"] for m in map(lambda p: json.load(open(p)), glob.glob("models/manifests/*.json")) if "hub" not in m)))')
echo "uptime: $(uptime)"
echo "models: $all"

rss() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$server/status"; }
get() { curl -fs "http://127.0.0.1:$port$1"; }

# start PRELOAD [more --set …]: an `iris serve` on a free port, waits for readiness (every preloaded model loaded).
start() {
  local preload=$1; shift
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  IRIS__Log__Level=Information src/Iris/bin/Release/net10.0/iris serve \
    --set "Server:Urls=http://127.0.0.1:$port" --set "Models:CacheDirectory=$work/models" --set "Models:Mirror=$mirror" \
    --set "Models:Preload=$preload" --set "Jobs:Workers=0" --set "Jobs:Database=$work/jobs.db" --set "Jobs:InputDirectory=$work/inputs" \
    --set "Storage:Directory=$work/blobs" --set "Library:IndexDatabase=$work/vectors.db" "$@" >> "$work/server.log" 2>&1 &
  server=$!
  local started; started=$(date +%s.%N)
  for _ in $(seq 1 1200); do get /readyz >/dev/null 2>&1 && break; sleep 0.1; done
  get /readyz >/dev/null || { echo "not ready:"; get /health || true; tail -20 "$work/server.log"; exit 1; }
  ready_s=$(python3 -c "import time; print(f'{time.time()-$started:.1f}')")
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; server=; }
states() { get /v1/models | python3 -c 'import json,sys; print(" ".join("%s=%s" % (m["name"], m["state"]) for m in json.load(sys.stdin) if m["state"] != "not_loaded"))'; }

# The models' files come from the mirror once, so the measured servers do not pull.
start "$all"; stop

# Each model on its own, over a server whose ONNX Runtime is already loaded and warmed by the smallest model
# (petal-color, 0.1 MB): the growth is the model's own (sessions, weights, arenas left by its warm-up run).
if [ "${PER_MODEL:-1}" = 1 ]; then
  start "petal-color"; sleep 2; ort=$(rss); stop
  echo "petal-color only (ONNX Runtime loaded): RSS $ort MiB"
  for m in ${all//,/ }; do
    [ "$m" = petal-color ] && continue
    start "petal-color,$m"; sleep 2
    mb=$(python3 -c "import json,os; m=json.load(open('models/manifests/$m.json')); print(round(sum(os.path.getsize(os.path.join('$work/models', m['name'], f['path'])) for f in m['files'])/1048576, 1))")
    echo "  $m: +$(( $(rss) - ort )) MiB RSS, files $mb MiB, loaded in ${ready_s} s"
    stop
  done
fi

start ""
sleep 2
base=$(rss)
echo "no model loaded:            RSS $base MiB"
stop

# A budget larger than everything makes the preloads load one at a time, so the runtime measures each one's RSS growth.
start "$all" --set "Models:IdleUnloadAfter=$idle" --set "Models:MemoryBudget=4GiB"
sleep 1
loaded=$(rss)
estimate=$(get /health | python3 -c 'import json,sys; print(json.load(sys.stdin)["residency"]["resident_bytes"] >> 20)')
files=$(python3 -c "
import json,glob,os
print(sum(os.path.getsize(os.path.join('$work/models', m['name'], f['path'])) for p in glob.glob('models/manifests/*.json') for m in [json.load(open(p))] if 'hub' not in m for f in m['files']) >> 20)")
echo "all preloaded (ready in ${ready_s} s): RSS $loaded MiB, +$((loaded - base)) MiB over none; files $files MiB; runtime's estimate $estimate MiB"
echo "  $(states)"

# Every model is unloaded once $idle passes without a request.
for _ in $(seq 1 1200); do
  s=$(states); [ -n "$s" ] && ! grep -q "=ready" <<< "$s" && break
  sleep 0.5
done
sleep 2
unloaded=$(rss)
echo "after the idle unload:      RSS $unloaded MiB, +$((unloaded - base)) MiB over none ($(( loaded - unloaded )) MiB given back)"
echo "  $(states)"
get /health | python3 -c 'import json,sys; print("  readiness: " + json.load(sys.stdin)["status"])'

start_ms=$(date +%s%N)
curl -fs -o /dev/null -H "Content-Type: image/jpeg" --data-binary "@../shared/testdata/real/dog.jpg" "http://127.0.0.1:$port/v1/detect"
first_ms=$(( ($(date +%s%N) - start_ms) / 1000000 ))
start_ms=$(date +%s%N)
curl -fs -o /dev/null -H "Content-Type: image/jpeg" --data-binary "@../shared/testdata/real/dog.jpg" "http://127.0.0.1:$port/v1/detect"
second_ms=$(( ($(date +%s%N) - start_ms) / 1000000 ))
sleep 1
echo "after one /v1/detect:       RSS $(rss) MiB; first request ${first_ms} ms (reload), second ${second_ms} ms"
get /metrics | grep -E '^iris_model_(loads|unloads)_total\{[^}]*yolox-nano|^iris_model_load_duration_seconds_sum\{[^}]*yolox-nano' | sed 's/^/  /'
{ grep -oE 'Model \\"yolox-nano\\" (ready|unloaded)[^"]*"[^"]*' "$work/server.log" || true; } | sed 's/^/  log: /' | tail -3
stop
echo "uptime at the end: $(uptime)"
