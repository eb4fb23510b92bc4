#!/usr/bin/env python3
"""Capacity on paper for Iris: images/day per node for a task mix, and the fleet for a daily volume.

Every input is a number measured in bench/README.md (section named next to it); what is extrapolated is said so in the
output. Usage:
  bench/capacity/calc.py                                   # the tables of docs/capacity.md
  bench/capacity/calc.py --images-per-day 10000000 --mix detect --peak-factor 3
  bench/capacity/calc.py --json                            # the same numbers, machine-readable
"""
import argparse
import json
import math

# --- Measured on the 2-core development VM (bench/README.md) -------------------------------------------------------
# "Detection ... Throughput options": HTTP POST /v1/detect, IntraOpThreads=1, MaxConcurrentRuns=2, 8 callers.
DETECT_HTTP_IMAGES_PER_S_2_CORES = 81.8
# Same table, 1 caller (one core busy, the other idle but for HTTP): the measured 1 -> 2 core scaling.
DETECT_HTTP_IMAGES_PER_S_1_CALLER = 35.0
DETECT_HTTP_IMAGES_PER_S_2_CALLERS = 64.7
# "Per task: ONNX Runtime time vs end-to-end HTTP": server total ms per image, one caller, medians.
SERVER_MS_ONE_CALLER = {
    "detect": 22.8,    # YOLOX-Nano, dog.jpg
    "faces": 19.8,     # face detector, faces-19.jpg
    "classify": 1.4,   # petal-color, flower-00.png
    "ocr": 239.4,      # ocr-paragraph.jpg: detection + direction + recognition
    "describe": 22.2,  # flower-captioner-tiny
    "embed": 1.7,      # clip-tiny image tower
}
# "Jobs": no-op task, submit -> done with 2 in-process workers, SQLite job store (fsync-bound fixed cost per job).
JOB_PATH_JOBS_PER_S_2_CORES = {"embedded": 67.0, "redis": 155.0, "rabbitmq": 159.0}
# "Jobs": detection through the Redis queue vs synchronous, same run: the queue costs ~14 % of a detect-sized job.
JOB_VS_SYNC_DETECT = 11.2 / 13.0

# --- Derived ---------------------------------------------------------------------------------------------------------
# Core-milliseconds per detect image under load = 2 cores / measured images per second. The per-task latencies were
# measured one caller at a time; scaling them by the same factor as detect (core time under load / latency alone) is an
# extrapolation for the other tasks (stated in the output).
DETECT_CORE_MS_UNDER_LOAD = 2 * 1000 / DETECT_HTTP_IMAGES_PER_S_2_CORES
LOAD_FACTOR = DETECT_CORE_MS_UNDER_LOAD / SERVER_MS_ONE_CALLER["detect"]
CORE_MS = {task: ms * LOAD_FACTOR for task, ms in SERVER_MS_ONE_CALLER.items()}
# Measured 1 -> 2 core efficiency of the HTTP path (2 callers vs 1 on 2 cores).
TWO_CORE_EFFICIENCY = DETECT_HTTP_IMAGES_PER_S_2_CALLERS / (2 * DETECT_HTTP_IMAGES_PER_S_1_CALLER)

MIXES = {
    "detect": ["detect"],
    "detect+classify": ["detect", "classify"],
    "moderation (detect+faces+classify)": ["detect", "faces", "classify"],
    "caption+embed": ["describe", "embed"],
    "library index (embed,describe,ocr,detect,faces)": ["embed", "describe", "ocr", "detect", "faces"],
    "library index without ocr": ["embed", "describe", "detect", "faces"],
}

SECONDS_PER_DAY = 86_400


def node_rate(tasks, cores=2, utilization=0.7, queue="redis", jobs=True):
    """Images/s one node sustains at the target CPU utilization."""
    core_ms = sum(CORE_MS[t] for t in tasks)
    if jobs:
        # The job path's fixed cost (submit, input blob, rows, ack), measured with a no-op task on 2 cores.
        core_ms += 2 * 1000 / JOB_PATH_JOBS_PER_S_2_CORES[queue]
    # Measured on 2 cores; beyond 2, linear in cores at the measured 2-core efficiency (extrapolated).
    return cores * 1000 / core_ms * utilization


def plan(images_per_day, tasks, cores, utilization, peak_factor, queue, retention_days, result_bytes):
    average = images_per_day / SECONDS_PER_DAY
    peak = average * peak_factor
    per_node = node_rate(tasks, cores, utilization, queue)
    workers = math.ceil(peak / per_node)
    # PostgreSQL: per job one INSERT (submit), UPDATE to processing (claim), UPDATE done (result), heartbeats for long
    # jobs, and a webhook row when a callback is set; retention DELETEs the same rows later.
    writes_per_job = 4
    return {
        "images_per_day": images_per_day,
        "tasks": tasks,
        "average_images_per_s": round(average, 1),
        "peak_images_per_s": round(peak, 1),
        "node": f"{cores} cores at {int(utilization * 100)} % CPU",
        "images_per_s_per_node": round(per_node, 1),
        "images_per_day_per_node": int(per_node * SECONDS_PER_DAY),
        "workers_at_peak": workers,
        "worker_cores": workers * cores,
        "postgres_writes_per_s_peak": int(peak * writes_per_job),
        "postgres_rows_kept": int(images_per_day * retention_days),
        "postgres_table_gb": round(images_per_day * retention_days * (result_bytes + 600) / 1e9, 1),
        "redis_commands_per_s_peak": int(peak * 7),
        "s3_put_per_s_peak": round(peak, 1),
        "s3_get_per_s_peak": round(peak, 1),
        "s3_delete_per_s_average": round(average, 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images-per-day", type=int, default=10_000_000)
    parser.add_argument("--mix", choices=MIXES, default="detect")
    parser.add_argument("--cores", type=int, default=2, help="cores per worker node (measured: 2; more is extrapolated)")
    parser.add_argument("--utilization", type=float, default=0.7, help="target CPU share per node (headroom for bursts)")
    parser.add_argument("--peak-factor", type=float, default=3.0, help="peak hour rate / daily average rate")
    parser.add_argument("--queue", choices=JOB_PATH_JOBS_PER_S_2_CORES, default="redis")
    parser.add_argument("--retention-days", type=float, default=7, help="Jobs:Retention")
    parser.add_argument("--result-bytes", type=int, default=2000, help="result document size per job")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    the_plan = plan(args.images_per_day, MIXES[args.mix], args.cores, args.utilization, args.peak_factor, args.queue,
                    args.retention_days, args.result_bytes)
    if args.json:
        print(json.dumps({"core_ms_per_task": {k: round(v, 1) for k, v in CORE_MS.items()}, "plan": the_plan}, indent=2))
        return

    print(f"Core-ms per image under load (detect measured: {DETECT_CORE_MS_UNDER_LOAD:.1f}; others = one-caller "
          f"latency x {LOAD_FACTOR:.2f}, extrapolated):")
    print("| task | core-ms |\n|---|---:|")
    for task, ms in CORE_MS.items():
        print(f"| {task} | {ms:.1f} |")
    print(f"\nImages/day per node ({int(args.utilization * 100)} % CPU, jobs through {args.queue}; 2 cores measured, more extrapolated linearly):")
    print("| task mix | 2 cores | 4 cores | 8 cores | 16 cores |\n|---|---:|---:|---:|---:|")
    for name, tasks in MIXES.items():
        cells = [f"{int(node_rate(tasks, c, args.utilization, args.queue) * SECONDS_PER_DAY):,}" for c in (2, 4, 8, 16)]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\nMeasured 1 -> 2 core efficiency of the HTTP path: {TWO_CORE_EFFICIENCY:.2f} "
          f"({DETECT_HTTP_IMAGES_PER_S_2_CALLERS} images/s at 2 callers vs {DETECT_HTTP_IMAGES_PER_S_1_CALLER} at 1).")
    print(f"\nPlan for {args.images_per_day:,} images/day, mix '{args.mix}', peak factor {args.peak_factor}:")
    print("| quantity | value |\n|---|---:|")
    for key, value in the_plan.items():
        if key in ("images_per_day", "tasks"):
            continue
        print(f"| {key.replace('_', ' ')} | {value:,} |" if isinstance(value, (int, float)) else f"| {key.replace('_', ' ')} | {value} |")


if __name__ == "__main__":
    main()
