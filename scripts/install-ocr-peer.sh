#!/usr/bin/env bash
# Installs the @gutenye/ocr-node OCR peer into tools/ocr-peer/node_modules (git-ignored), for the OCR parity
# test and bench/ocr. ONNXRUNTIME_NODE_INSTALL=skip: onnxruntime-node ships its CPU binaries; its install
# script would only fetch GPU ones. Needs node and npm; does nothing when the peer is already installed.
set -euo pipefail
cd "$(dirname "$0")/../tools/ocr-peer"
if [ -f node_modules/@gutenye/ocr-node/package.json ]; then exit 0; fi
if ! command -v npm >/dev/null; then
  echo "npm is required for the OCR parity test (apt-get install nodejs npm)." >&2
  exit 1
fi
ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --loglevel=error
