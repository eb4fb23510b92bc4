#!/usr/bin/env bash
# Installs PGlite (PostgreSQL compiled to WASM) with its pgvector extension and pglite-socket (the PostgreSQL wire
# protocol in front of it) into tools/pglite/node_modules (git-ignored), for the pgvector index's contract tests and
# benchmark: Debian has no pgvector package. scripts/start-test-services.sh starts it. Needs node and npm; does nothing
# when installed.
set -euo pipefail
cd "$(dirname "$0")/../tools/pglite"
if [ -f node_modules/@electric-sql/pglite-socket/package.json ] && [ -f node_modules/@electric-sql/pglite-pgvector/package.json ]; then exit 0; fi
if ! command -v npm >/dev/null; then
  echo "npm is required for the pgvector index tests (apt-get install nodejs npm)." >&2
  exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
