#!/usr/bin/env bash
# Installs the Debian packages the test suite relies on, only when they are missing.
# Run as root (CI) or with sudo available.
set -euo pipefail

packages=(redis-server postgresql-15 rabbitmq-server)   # job store and queue backends (issue #5)
# node and npm run the OCR parity peer; a node already on PATH (not from Debian) is fine.
command -v npm >/dev/null || packages+=(nodejs npm)
# Hugging Face parity tests (issue #4): python3-onnx derives the decoder_model + decoder_with_past_model pair from a merged decoder.
packages+=(python3-onnx)
packages+=(libturbojpeg0)   # issue #13: TurboJPEG decodes JPEGs (Images:TurboJpeg); TurboJpegTests compare it with libvips
packages+=(libvips-tools)   # issue #6: the vips CLI is the reference the transform tests compare against
packages+=(chromium)   # web UI tests (tests/Iris.Tests/Ui): Playwright drives the system browser; its own download needs the internet
packages+=(prometheus)   # issue #16: promtool checks and unit-tests deploy/prometheus; the scrape test runs the server
# issue #16: the kustomization in deploy/k8s is rendered with `kubectl kustomize`; a kubectl already on PATH is fine.
command -v kubectl >/dev/null || packages+=(kubernetes-client)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

# The OCR parity test runs the @gutenye/ocr-node peer (npm, into a git-ignored folder).
"$(dirname "$0")/install-ocr-peer.sh"
# The S3 storage tests run against s3rver, a fake S3 server (npm, into a git-ignored folder).
"$(dirname "$0")/install-s3rver.sh"
# The imgproxy facade tests generate URLs with the official @imgproxy/imgproxy-node builder (npm, into a git-ignored folder).
"$(dirname "$0")/install-imgproxy-node.sh"
# The pgvector index tests run against PGlite with its vector extension behind pglite-socket (npm, into a git-ignored folder).
"$(dirname "$0")/install-pglite.sh"
