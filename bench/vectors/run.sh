#!/usr/bin/env bash
# The vector index against the physical limit (issue #10): the embedded index and FAISS IndexFlatIP over the same seeded
# random 512-d unit vectors and queries, in one run; then pgvector's HNSW (PGlite + pgvector behind pglite-socket) for
# recall@10 against exact search.
# Usage: bench/vectors/run.sh [SIZES (default "100000 1000000")] [PGVECTOR_N (default 100000; 0 skips)]
# Needs python3-faiss (apt-get install python3-faiss) and, for pgvector, scripts/install-pglite.sh. Prints JSON lines;
# bench/README.md ("Vector index") has the results. Data goes to ${IRIS_VECTOR_BENCH_DIR:-/tmp/iris-vector-bench}.
set -euo pipefail
cd "$(dirname "$0")/../.."
sizes=${1-"100000 1000000"}  # "" runs no exact-search size
pg_n=${2:-100000}
queries=${IRIS_VECTOR_BENCH_QUERIES:-100}
dir=${IRIS_VECTOR_BENCH_DIR:-/tmp/iris-vector-bench}
mkdir -p "$dir"
py=${PYTHON:-/usr/bin/python3}  # Debian's python3-faiss lives in the system Python, not a pyenv one
"$py" -c 'import faiss' 2>/dev/null || { echo "python3-faiss is required: apt-get install python3-faiss" >&2; exit 1; }

dotnet build bench/Iris.Bench/Iris.Bench.csproj -c Release --nologo -v quiet >/dev/null
bench() { dotnet bench/Iris.Bench/bin/Release/net10.0/Iris.Bench.dll "$@"; }
echo "# uptime: $(uptime)"
echo "# cores: $(nproc)"
for n in $sizes; do
  bench vectors --n "$n" --queries "$queries" --dir "$dir" --threads 1
  bench vectors --n "$n" --queries "$queries" --dir "$dir" --threads "$(nproc)"
  bench vectors --n "$n" --queries "$queries" --dir "$dir" --threads "$(nproc)" --quantize
  "$py" bench/vectors/faiss_flat.py "$dir" "$n" "$queries" "$dir/embedded-$n-t1.ids" "$dir/embedded-$n-t$(nproc).ids" "$dir/embedded-$n-t$(nproc)-int8.ids"
done
echo "# uptime: $(uptime)"

if [ "$pg_n" -gt 0 ]; then
  port=$((30000 + RANDOM % 2000))
  node tools/pglite/server.mjs "$port" >"$dir/pglite.log" 2>&1 &
  pglite_pid=$!
  trap 'kill "$pglite_pid" 2>/dev/null' EXIT
  for _ in $(seq 1 120); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.5; done
  bench vectors-pgvector --n "$pg_n" --queries 100 --dir "$dir" \
    --connection "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres;SSL Mode=Disable;Pooling=false;Command Timeout=0"
  echo "# uptime: $(uptime)"
fi
