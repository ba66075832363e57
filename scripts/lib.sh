#!/usr/bin/env bash
# Shared helpers for scripts/*.sh. Source it; do not run it.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Restore exactly what the committed packages.lock.json files say (Directory.Build.props turns this into
# RestoreLockedMode): a registry serving other versions fails the restore instead of changing the build.
# To change a dependency, edit Directory.Packages.props and run `dotnet restore --force-evaluate` without it.
export JOBS_LOCKED_RESTORE=${JOBS_LOCKED_RESTORE:-true}

# Installs Azurite from the committed lockfile when it is missing or the lockfile changed.
ensure_azurite() {
  local stamp="$REPO_ROOT/node_modules/.lock-stamp"
  if [[ ! -x "$REPO_ROOT/node_modules/.bin/azurite" ]] || ! cmp -s "$REPO_ROOT/package-lock.json" "$stamp"; then
    echo "==> installing Azurite (npm ci, pinned by package-lock.json)"
    (cd "$REPO_ROOT" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$REPO_ROOT/package-lock.json" "$stamp"
  fi
}

# Installs the npm tools the OpenAPI tests run (openapi-typescript, TypeScript, Redocly CLI) in tests/openapi-ts from
# its committed lockfile when they are missing or the lockfile changed.
ensure_openapi_tools() {
  local dir="$REPO_ROOT/tests/openapi-ts"
  local stamp="$dir/node_modules/.lock-stamp"
  if [[ ! -x "$dir/node_modules/.bin/tsc" ]] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
    echo "==> installing the OpenAPI checks' tools (npm ci in tests/openapi-ts, pinned by its package-lock.json)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$dir/package-lock.json" "$stamp"
  fi
}

# The browser tests drive Debian's Chromium (no browser is downloaded): installs it when missing (CI runs as root).
ensure_chromium() {
  local chromium="${JOBS_CHROMIUM:-/usr/bin/chromium}"
  if [[ ! -x "$chromium" ]]; then
    echo "==> installing Debian's chromium for the browser tests"
    local sudo=""
    if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
    $sudo apt-get install -y -q chromium >/dev/null || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q chromium >/dev/null; }
  fi
}

# Prints a TCP port nobody is listening on.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

# start_azurite BLOB QUEUE TABLE [--inMemoryPersistence | --location DIR] — starts it in the background
# and waits until all three services answer. Sets AZURITE_PID.
start_azurite() {
  local blob=$1 queue=$2 table=$3; shift 3
  "$REPO_ROOT/node_modules/.bin/azurite" --silent --skipApiVersionCheck --loose --disableTelemetry \
    --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 \
    --blobPort "$blob" --queuePort "$queue" --tablePort "$table" "$@" &
  AZURITE_PID=$!
  for _ in $(seq 1 100); do
    if node -e "
      const net=require('net');let left=3;
      for (const p of [$blob,$queue,$table]) { const c=net.connect(p,'127.0.0.1',()=>{c.end();if(--left===0)process.exit(0);}); c.on('error',()=>process.exit(1)); }
    " 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$AZURITE_PID" 2>/dev/null; then echo "Azurite exited during start-up" >&2; return 1; fi
    sleep 0.2
  done
  echo "Azurite did not start within 20 s" >&2
  return 1
}

# start_private_azurite VAR — an in-memory Azurite on free ports for this script only (stopped on exit);
# exports VAR as its connection string.
start_private_azurite() {
  local var=$1 blob queue table
  blob=$(free_port); queue=$(free_port); table=$(free_port)
  echo "==> starting Azurite in memory (blob $blob, queue $queue, table $table)"
  start_azurite "$blob" "$queue" "$table" --inMemoryPersistence > /dev/null
  trap 'stop_pid "$AZURITE_PID"' EXIT
  export "$var=$(azurite_connection_string "$blob" "$queue" "$table")"
}

# Stops a background process: SIGTERM, up to 5 s to exit, then SIGKILL — never hangs the caller.
stop_pid() {
  local pid=${1:-}
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}

# The development-storage connection string for Azurite on the given ports.
azurite_connection_string() {
  local blob=$1 queue=$2 table=$3
  local key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
  echo "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$blob/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue/devstoreaccount1;TableEndpoint=http://127.0.0.1:$table/devstoreaccount1;"
}
