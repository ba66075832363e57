#!/usr/bin/env bash
# Runs every test on a fresh machine: installs Azurite and the OpenAPI checks' npm tools (pinned lockfiles) and NuGet
# packages, starts a private in-memory Azurite on free ports, runs the whole suite against it, stops it, and prints
# line coverage of src/.
# Exit status is non-zero when a test fails or coverage of src/ drops below $JOBS_MIN_COVERAGE (default 90).
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
MIN_COVERAGE=${JOBS_MIN_COVERAGE:-90}
CONFIGURATION=${CONFIGURATION:-Release}

ensure_azurite
ensure_openapi_tools
ensure_chromium
echo "==> restoring and building ($CONFIGURATION)"
dotnet build Jobs.sln -c "$CONFIGURATION" -nologo -v quiet -clp:ErrorsOnly

start_private_azurite JOBS_TEST_STORAGE

rm -rf TestResults
echo "==> running tests"
tests_started=$SECONDS
set +e
# One test project at a time (-m:1): each already runs its collections in parallel (its xunit.runner.json); the unit,
# integration, runner and browser projects all at once would crowd a small machine into timeouts.
dotnet test Jobs.sln -c "$CONFIGURATION" --no-build -m:1 --results-directory TestResults \
  --collect:"XPlat Code Coverage" --settings tests/coverage.runsettings \
  --logger "console;verbosity=normal" 2>&1 | tee TestResults.log | awk '
    /^Test run for / { n = split($4, path, "/"); print "--", path[n]; next }  # which test project the lines below are of
    /^[[:space:]]+Failed Jobs/ { context = 7 }                                 # a failed test, with its message
    context > 0 { print; context--; next }
    /^[[:space:]]+(Total tests|Passed|Failed|Skipped):/ || /^[[:space:]]*Total time:/'
status=${PIPESTATUS[0]}
set -e
echo "tests ran for $((SECONDS - tests_started)) s (restoring, building and installing before them took $tests_started s)"

# Every test project prints its own summary ("Passed: N", and "Failed: N" / "Skipped: N" when there are any): add them up.
count() { { grep -E "^\s+$1:\s+[0-9]+\s*$" TestResults.log || true; } | awk '{ n += $2 } END { print n + 0 }'; }
passed=$(count Passed); failed=$(count Failed); skipped=$(count Skipped)

# One report per test project; coverage of src/ is over their union.
mapfile -t coverage_files < <(find TestResults -name coverage.cobertura.xml)
coverage_ok=1
if [[ ${#coverage_files[@]} -gt 0 ]]; then
  python3 scripts/coverage.py "$MIN_COVERAGE" "${coverage_files[@]}" || coverage_ok=0
else
  echo "coverage: no report produced"; coverage_ok=0
fi

echo "${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
if [[ $status -ne 0 ]]; then exit "$status"; fi
if [[ $coverage_ok -ne 1 ]]; then exit 3; fi
