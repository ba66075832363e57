#!/usr/bin/env bash
# Runs the benchmark (bench/Jobs.Bench, Release) against the local runner on a private in-memory Azurite and
# writes docs/benchmarks.md and bench/results/benchmarks.json. About 10–15 minutes on 2 cores.
# Options are passed through, e.g. scripts/bench.sh --sizes 200 --scale 10000 for a quick run.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

ensure_azurite
echo "==> building (Release)"
dotnet build bench/Jobs.Bench/Jobs.Bench.csproj -c Release -nologo -v quiet -clp:ErrorsOnly

BLOB=$(free_port); QUEUE=$(free_port); TABLE=$(free_port)
echo "==> starting Azurite in memory (blob $BLOB, queue $QUEUE, table $TABLE)"
start_azurite "$BLOB" "$QUEUE" "$TABLE" --inMemoryPersistence > /dev/null
trap 'stop_pid "$AZURITE_PID"' EXIT
export JOBS_BENCH_STORAGE
JOBS_BENCH_STORAGE=$(azurite_connection_string "$BLOB" "$QUEUE" "$TABLE")

dotnet bench/Jobs.Bench/bin/Release/net10.0/Jobs.Bench.dll --repo "$REPO_ROOT" "$@"
