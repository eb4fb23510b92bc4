#!/usr/bin/env bash
# Installs @imgproxy/imgproxy-node, imgproxy's official URL builder, into tools/imgproxy-node/node_modules (git-ignored):
# the imgproxy facade tests (tests/Iris.Tests/Facades/Imgproxy*) generate their URLs with it, as existing clients do.
# Needs node and npm; does nothing when installed.
set -euo pipefail
cd "$(dirname "$0")/../tools/imgproxy-node"
if [ -f node_modules/@imgproxy/imgproxy-node/package.json ]; then exit 0; fi
if ! command -v npm >/dev/null; then
  echo "npm is required for the imgproxy facade tests (apt-get install nodejs npm)." >&2
  exit 1
fi
npm install --no-audit --no-fund --loglevel=error
