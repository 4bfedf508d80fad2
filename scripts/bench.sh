#!/usr/bin/env bash
# Runs the engine benchmarks natively and as wasm under Node, with SIMD and with the plain-Go
# fallback, and prints one summary table. Speed is reported as measured in this one run: compare
# rows with each other, not with another machine or another run.
set -euo pipefail
cd "$(dirname "$0")/.."
exec_wasm="$(go env GOROOT)/lib/wasm/go_js_wasm_exec"
benchtime=${BENCHTIME:-3x}
out=$(mktemp -d)
run() { # label, env..., -- , package, regex
  local label=$1; shift
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  local pkg=$1 re=$2 extra=()
  case " ${envs[*]} " in *GOARCH=wasm*) extra=(-exec "$exec_wasm");; esac
  echo "bench: $label $pkg $re" >&2
  env "${envs[@]}" go test -count=1 -run '^$' -bench "$re" -benchtime "$benchtime" "${extra[@]}" "$pkg" \
    | tee -a "$out/raw.txt" | awk -v label="$label" '
      /^Benchmark/ { name=$1; sub(/-[0-9]+$/, "", name)
        for (i = 3; i < NF; i++) if ($(i+1) == "examples/s" || $(i+1) == "GFLOP/s") printf "%-14s %-48s %10s %s\n", label, name, $i, $(i+1) }' \
    >> "$out/table.txt"
}
for mode in simd plain; do
  e=(GOEXPERIMENT=simd); [ $mode = plain ] && e=(GOEXPERIMENT=)
  run "native-$mode" "${e[@]}" -- ./nn/gemm 'BenchmarkMul/conv2-fwd'
  run "native-$mode" "${e[@]}" -- ./nn 'BenchmarkTrainStep|BenchmarkEval'
  run "wasm-$mode" "${e[@]}" GOOS=js GOARCH=wasm -- ./nn/gemm 'BenchmarkMul/conv2-fwd'
  run "wasm-$mode" "${e[@]}" GOOS=js GOARCH=wasm -- ./nn 'BenchmarkTrainStep|BenchmarkEval'
  # What one browser worker does per step: the batch as 8 shards of 16, summed by the fixed tree.
  run "wasm-$mode" "${e[@]}" GOOS=js GOARCH=wasm -- ./nn/replica 'BenchmarkStep'
done
echo
printf '%-14s %-48s %10s %s\n' build benchmark value unit
cat "$out/table.txt"
echo "(raw output: $out/raw.txt)"
