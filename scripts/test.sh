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
npx vitest run "$@"
