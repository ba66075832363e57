#!/usr/bin/env bash
# Starts the service: Azurite (data in .azurite/, kept between runs) and the app on http://localhost:7071.
# Ctrl-C stops both. Needs only the .NET SDK and Node.js; installs the rest.
#
# Ports, from the environment (defaults in brackets):
#   JOBS_PORT [7071]                      the app (http://localhost:$JOBS_PORT); JOBS_URLS replaces the whole address list
#   JOBS_AZURITE_BLOB_PORT [10000]        Azurite's blob, queue and table services; when any differs from its default,
#   JOBS_AZURITE_QUEUE_PORT [10001]       the app is given AzureWebJobsStorage for those ports (over local.settings.json)
#   JOBS_AZURITE_TABLE_PORT [10002]
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
JOBS_PORT=${JOBS_PORT:-7071}
BLOB_PORT=${JOBS_AZURITE_BLOB_PORT:-10000}
QUEUE_PORT=${JOBS_AZURITE_QUEUE_PORT:-10001}
TABLE_PORT=${JOBS_AZURITE_TABLE_PORT:-10002}
URLS=${JOBS_URLS:-http://localhost:$JOBS_PORT}

ensure_azurite
if [[ ! -f local.settings.json ]]; then
  echo "==> creating local.settings.json from local.settings.sample.json"
  cp local.settings.sample.json local.settings.json
fi
echo "==> building"
dotnet build src/LocalRunner/LocalRunner.csproj -c Release -nologo -v quiet -clp:ErrorsOnly

mkdir -p .azurite
echo "==> starting Azurite (blob $BLOB_PORT, queue $QUEUE_PORT, table $TABLE_PORT; data in .azurite/)"
start_azurite "$BLOB_PORT" "$QUEUE_PORT" "$TABLE_PORT" --location "$REPO_ROOT/.azurite"
if [[ "$BLOB_PORT/$QUEUE_PORT/$TABLE_PORT" != "10000/10001/10002" ]]; then
  # UseDevelopmentStorage=true means the default ports: name these instead (the environment wins over local.settings.json).
  export AzureWebJobsStorage
  AzureWebJobsStorage=$(azurite_connection_string "$BLOB_PORT" "$QUEUE_PORT" "$TABLE_PORT")
fi
RUNNER_PID=""
cleanup() {
  trap - INT TERM EXIT
  stop_pid "$RUNNER_PID"
  stop_pid "$AZURITE_PID"
  echo "==> stopped"
}
trap cleanup INT TERM EXIT

echo "==> starting the app on $URLS (Ctrl-C to stop)"
dotnet src/LocalRunner/bin/Release/net10.0/Jobs.LocalRunner.dll --content-root "$REPO_ROOT" --urls "$URLS" &
RUNNER_PID=$!
wait "$RUNNER_PID"
