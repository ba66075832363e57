#!/usr/bin/env bash
# Regenerates the README's dashboard screenshots from a real run: starts a private in-memory Azurite, runs the browser
# tests that drive the dashboard through known jobs (the runner and the real durable engine, Debian's Chromium
# headless), and copies the pictures they take (TestResults/screenshots) into docs/images.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

ensure_azurite
ensure_chromium
echo "==> building"
dotnet build tests/Jobs.BrowserTests -nologo -v quiet -clp:ErrorsOnly
start_private_azurite JOBS_TEST_STORAGE

rm -rf TestResults/screenshots
echo "==> running the dashboard through demo jobs"
# The tests that take a screenshot (BrowserFixture.ScreenshotAsync), each of the page in a known state.
dotnet test tests/Jobs.BrowserTests --no-build -nologo \
  --filter "FullyQualifiedName~ARunningJobsBarMoves|FullyQualifiedName~TheList_ShowsTheOwnersJobsOnly|FullyQualifiedName~TheOverview_ShowsCountsByStatus|FullyQualifiedName~AParallelStepsItems_AreAGrid|FullyQualifiedName~SchedulesPageTests"

mkdir -p docs/images
cp TestResults/screenshots/*.png docs/images/
echo "==> docs/images:"
ls -l docs/images
