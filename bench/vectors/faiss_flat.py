#!/usr/bin/env python3
"""FAISS IndexFlatIP (exact inner product, the physical limit for exact search) on the files Iris.Bench vectors wrote:
the same vectors and queries, one query at a time like the embedded index, and all queries in one batch (BLAS).
Compares its top-10 ids with the embedded index's. Prints one JSON line per mode.
Usage: faiss_flat.py DIR N Q EMBEDDED_IDS_FILE..."""
import json, sys, time

import faiss
import numpy as np

directory, n, q = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
d, k = 512, 10
base = np.fromfile(f"{directory}/base-{n}.f32", dtype=np.float32).reshape(n, d)
queries = np.fromfile(f"{directory}/queries-{q}.f32", dtype=np.float32).reshape(q, d)

index = faiss.IndexFlatIP(d)
index.add(base)
bytes_per_vector = index.code_size  # the raw float32 vector; ids are implicit (row numbers)
del base

for threads in sorted({1, faiss.omp_get_max_threads()}):
    faiss.omp_set_num_threads(threads)
    for i in range(min(5, q)):
        index.search(queries[i:i + 1], k)
    latencies, ids = [], []
    start = time.perf_counter()
    for i in range(q):
        t = time.perf_counter()
        _, found = index.search(queries[i:i + 1], k)
        latencies.append((time.perf_counter() - t) * 1000)
        ids.append(found[0])
    seconds = time.perf_counter() - start
    print(json.dumps({"index": "faiss-flat-ip", "mode": "one query at a time", "n": n, "queries": q, "threads": threads,
                      "qps": round(q / seconds, 1), "p50_ms": round(float(np.percentile(latencies, 50)), 2),
                      "p99_ms": round(float(np.percentile(latencies, 99)), 2), "bytes_per_vector": bytes_per_vector}))
    start = time.perf_counter()
    index.search(queries, k)
    seconds = time.perf_counter() - start
    print(json.dumps({"index": "faiss-flat-ip", "mode": f"batch of {q}", "n": n, "threads": threads, "qps": round(q / seconds, 1)}))

for path in sys.argv[4:]:
    embedded = [[int(x) for x in line.split()] for line in open(path).read().splitlines()]
    same_order = sum(list(a) == list(b) for a, b in zip(ids, embedded))
    same_set = sum(set(a) == set(b) for a, b in zip(ids, embedded))
    print(json.dumps({"compare": path.rsplit("/", 1)[-1], "identical_top10_order": f"{same_order}/{q}", "identical_top10_set": f"{same_set}/{q}"}))
