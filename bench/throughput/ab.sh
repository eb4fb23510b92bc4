#!/usr/bin/env bash
# A/B of two server configurations (issue #13): two `iris serve` processes of this build, identical but for the --a and
# --b options, side by side; closed-loop load on one route alternates between them in short windows (A,B then B,A…),
# and each window reports images/s, p50 and the server's own CPU ms per image. This is how every "A/B" in
# bench/README.md was measured: on this shared VM the CPU available drifts by tens of percent within minutes, so two
# configurations are only comparable when measured interleaved.
# Usage: bench/throughput/ab.sh --a Inference:AdaptiveSessions=false [--b KEY=VALUE]... [--route /v1/detect]
#        [--concurrency 1,2,4,8] [--rounds 3] [--seconds 10] [--warmup 2] [--settle 15] [--out FILE.md]   (--help lists all)
# Needs the .NET SDK and the model mirror in ../shared.
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet build bench/Iris.Bench/Iris.Bench.csproj -c Release --nologo -v quiet >/dev/null
exec dotnet bench/Iris.Bench/bin/Release/net10.0/Iris.Bench.dll ab "$@"
