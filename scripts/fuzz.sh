#!/usr/bin/env bash
# Runs every fuzz target briefly (default 5s each); `scripts/fuzz.sh 10m` for a long session.
# A crash found here is saved under the package's testdata/fuzz and becomes a regular test case.
set -euo pipefail
t=${1:-5s}
targets=(
  "./nn/safetensors FuzzParse"
  "./nn/checkpoint FuzzDecode"
  "./nn/cifar FuzzParse"
  "./nn/cifar FuzzArchive"
  "./nn/cifar/picture FuzzDecode"
)
for entry in "${targets[@]}"; do
  set -- $entry
  pkg=$1 name=$2
  if ! grep -qs "func $name(" "$pkg"/*_test.go; then
    continue
  fi
  echo "fuzz: $pkg $name for $t"
  go test -run '^$' -fuzz "^$name\$" -fuzztime "$t" "$pkg"
done
