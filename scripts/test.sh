#!/usr/bin/env bash
# The whole test suite from a clean clone: installs what it needs, lints, runs vitest against
# real Redis and Chromium, and ends with one line "N passed, N failed" from vitest's JSON report.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1

status=0
npm run --silent lint || status=1

report=.vitest-report.json
rm -f "$report"
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=1
node scripts/test-summary.mjs "$report" || status=1
exit $status
