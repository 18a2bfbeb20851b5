#!/usr/bin/env bash
# The one command that passes all tests on a fresh clone: installs, starts PostgreSQL and Redis
# if they are down, generates the Prisma client, typechecks, lints and runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run prisma:generate
npm run typecheck
npm run lint
report="$(mktemp -t vitest-report.XXXXXX.json)"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# One plain closing line with the counts, whatever the reporter printed above.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`Tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' "$report" || true
rm -f "$report"
exit "$status"
