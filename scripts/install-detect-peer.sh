#!/usr/bin/env bash
# Installs the Debian packages of the detection peer in bench/peers/ (FastAPI + uvicorn + OpenCV DNN, the stack the
# older services used), for bench/throughput/run.sh; does nothing when they are all installed. Run as root or with sudo.
set -euo pipefail

packages=(python3-fastapi python3-uvicorn python3-opencv python3-multipart python3-numpy)
dpkg -s "${packages[@]}" >/dev/null 2>&1 && exit 0
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
$sudo_cmd apt-get update -qq
# apt-get install skips what is already there.
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${packages[@]}"
