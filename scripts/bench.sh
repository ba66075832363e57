#!/usr/bin/env bash
# Runs the benchmark (bench/Jobs.Bench, Release) against the local runner on a private in-memory Azurite and
# writes docs/benchmarks.md and bench/results/benchmarks.json. About 7 minutes on 2 cores by default.
# Options are passed through: --sizes 200,1000 (throughput runs; 1,000 jobs take ~20 min on Azurite here),
# --scale 10000 (jobs stored for the listing measurements), --render FILE.json (re-render only),
# --soak 300 [--fault-rate 0.1] (only the trust soak: jobs under injected storage faults; ~3 minutes).
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

ensure_azurite
echo "==> building (Release)"
dotnet build bench/Jobs.Bench/Jobs.Bench.csproj -c Release -nologo -v quiet -clp:ErrorsOnly

start_private_azurite JOBS_BENCH_STORAGE

dotnet bench/Jobs.Bench/bin/Release/net10.0/Jobs.Bench.dll --repo "$REPO_ROOT" "$@"
