#!/usr/bin/env bash
# The one command that runs the product on this machine: installs, starts PostgreSQL and Redis
# if they are down, creates the database, builds, and starts the service (role `all`). Migrations
# are applied by the service at start. Without Slack or Teams credentials it still starts, says
# which chat platforms are off, and serves its HTTP API and health endpoints.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build
node scripts/ensure-database.mjs
exec node dist/main.js "$@"
