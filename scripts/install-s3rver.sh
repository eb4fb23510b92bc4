#!/usr/bin/env bash
# Installs s3rver (a fake S3 server speaking the real S3 HTTP API) into tools/s3rver/node_modules (git-ignored), for
# the S3 storage tests; scripts/start-test-services.sh starts it. Needs node and npm; does nothing when installed.
set -euo pipefail
cd "$(dirname "$0")/../tools/s3rver"
if [ -f node_modules/s3rver/package.json ]; then exit 0; fi
if ! command -v npm >/dev/null; then
  echo "npm is required for the S3 storage tests (apt-get install nodejs npm)." >&2
  exit 1
fi
npm install --no-audit --no-fund --loglevel=error
