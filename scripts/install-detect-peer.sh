#!/usr/bin/env bash
# Installs the Debian packages of the detection peer in bench/peers/ (FastAPI + uvicorn + OpenCV DNN, the stack the
# older services used), only when they are missing. Run as root or with sudo available.
set -euo pipefail

packages=(python3-fastapi python3-uvicorn python3-opencv python3-multipart python3-numpy)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
