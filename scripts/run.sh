#!/usr/bin/env bash
# Starts the service: Azurite (data in .azurite/, kept between runs) and the app on http://localhost:7071.
# Ctrl-C stops both. Needs only the .NET SDK and Node.js; installs the rest.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

ensure_azurite
if [[ ! -f local.settings.json ]]; then
  echo "==> creating local.settings.json from local.settings.sample.json"
  cp local.settings.sample.json local.settings.json
fi
echo "==> building"
dotnet build src/LocalRunner/LocalRunner.csproj -c Release -nologo -v quiet -clp:ErrorsOnly

mkdir -p .azurite
echo "==> starting Azurite (blob 10000, queue 10001, table 10002; data in .azurite/)"
start_azurite 10000 10001 10002 --location "$REPO_ROOT/.azurite"
RUNNER_PID=""
cleanup() {
  trap - INT TERM EXIT
  stop_pid "$RUNNER_PID"
  stop_pid "$AZURITE_PID"
  echo "==> stopped"
}
trap cleanup INT TERM EXIT

echo "==> starting the app on http://localhost:7071 (Ctrl-C to stop)"
dotnet src/LocalRunner/bin/Release/net10.0/Jobs.LocalRunner.dll --content-root "$REPO_ROOT" --urls "${JOBS_URLS:-http://localhost:7071}" &
RUNNER_PID=$!
wait "$RUNNER_PID"
