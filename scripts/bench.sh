#!/usr/bin/env bash
# Runs the benchmark (bench/Jobs.Bench, Release) against the local runner and writes docs/benchmarks.md and
# bench/results/benchmarks.json. Every phase starts in-memory Azurite processes of its own (from node_modules), so
# no phase runs on an emulator still busy with the previous one. About 45 minutes on 2 cores by default (the
# 100,000-job listing alone, seeded directly: ~6 minutes).
# Options are passed through: --pair-size 200 --pairs 5 (alternating runs of ours and the bare engine, per layout,
# after --warmup 50 unmeasured jobs of each),
# --layouts shared,split, --large 2000 (one run of that many jobs, ours and the bare engine, as a stream that keeps at
# most --large-window 100 unfinished; --large-window 0 submits them all at once; --no-large-bare: ours only;
# --large 0 skips it), --load-fraction 0.5 (latency load
# as a fraction of the sustained throughput), --scale 10000,100000 (jobs stored for the listing measurements; a list, each ≥ 5050),
# --no-stall-check, --render FILE.json (re-render only),
# --soak 300 [--fault-rate 0.1] (only the trust soak: jobs under injected storage faults; ~3 minutes).
# --soak-two 200 (only the scale-out soak: two runner processes on one storage account, one killed with SIGKILL mid-run; ~3 minutes).
# --limits 200 [--bulk-rerun 1000] (only issue 26's: a queued job's start after a slot frees, with the requests a limited
# type adds, over that many jobs; a bulk rerun of that many failed jobs; ~5 minutes).
# --stream-only (only the event-stream latency, merged into the saved results; ~1 minute).
# --webhooks 200 [--webhook-subscriptions 2] (only webhooks: deliveries per second to a local receiver and the storage
#   requests each subscription adds per job; ~1 minute at 200).
# --scale-only (only the listings with --scale jobs stored, default 10000,100000, merged into the saved results).
# --emulator-costs (only the table emulator's CPU per request and per entity, on an Azurite of its own; ~2 minutes).
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

ensure_azurite
echo "==> building (Release)"
dotnet build bench/Jobs.Bench/Jobs.Bench.csproj -c Release -nologo -v quiet -clp:ErrorsOnly

export JOBS_AZURITE="$REPO_ROOT/node_modules/.bin/azurite"
if [[ " $* " == *" --soak "* || " $* " == *" --soak-two "* ]]; then
  start_private_azurite JOBS_BENCH_STORAGE
fi

dotnet bench/Jobs.Bench/bin/Release/net10.0/Jobs.Bench.dll --repo "$REPO_ROOT" "$@"
