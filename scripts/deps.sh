#!/usr/bin/env bash
# Installs what `make test` / `make run` need on a fresh Debian machine with only Go:
# Node.js (runs the engine's wasm tests), Chromium (browser tests), brotli (compressed wasm),
# PyTorch and numpy for Debian's /usr/bin/python3 (interop/pytorch's round-trip tests),
# a Chinese font (the lang=zh screenshots).
set -euo pipefail
what=${1:-test}
need=()
command -v brotli >/dev/null || need+=(brotli)
if [ "$what" = test ]; then
  command -v node >/dev/null || need+=(nodejs)
  [ -x /usr/lib/chromium/chromium ] || [ -x /usr/bin/chromium ] || need+=(chromium)
  /usr/bin/python3 -c 'import torch' 2>/dev/null || need+=(python3-torch)
  /usr/bin/python3 -c 'import numpy' 2>/dev/null || need+=(python3-numpy)
  # A Chinese font, so the lang=zh screenshots show characters rather than boxes.
  [ -n "$(fc-list :lang=zh 2>/dev/null)" ] || need+=(fonts-wqy-microhei)
fi
[ ${#need[@]} -eq 0 ] && exit 0
echo "deps: installing ${need[*]} (Debian packages)"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! command -v apt-get >/dev/null; then
  echo "deps: please install ${need[*]} with your package manager (apt-get not found)" >&2
  exit 1
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
