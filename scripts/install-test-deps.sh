#!/usr/bin/env bash
# Installs the Debian packages the test suite relies on, only when they are missing.
# Run as root (CI) or with sudo available.
set -euo pipefail

packages=(redis-server postgresql-15 rabbitmq-server)   # job store and queue backends (issue #5)
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
