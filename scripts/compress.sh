#!/usr/bin/env bash
# Writes .br and .gz twins of each wasm file so the server can send them precompressed.
set -euo pipefail
for f in "$@"; do
  gzip -9 -k -f "$f"
  if command -v brotli >/dev/null; then brotli -f -q 11 -o "$f.br" "$f"; else echo "compress: brotli missing, only gzip for $f"; fi
done
