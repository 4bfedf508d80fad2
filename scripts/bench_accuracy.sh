#!/usr/bin/env bash
# Time to accuracy of the fast preset (make bench-accuracy; not part of make test): trains it
# natively for its default budget (FastEpochs at FastBatch, nn/spec.go) once per seed of SEEDS
# on the real CIFAR-10 in DATA, evaluates on the 10,000 test images, and prints one line per
# seed (wall minutes of the whole command, data loading and evaluations included; training
# examples/s of the steps alone; precision plain and with the preset's test-time augmentation)
# and the mean over the seeds.
#
#   SEEDS   seeds, default "1 2 3"
#   DATA    the data set (cifar10 -data), default /tmp/cifar10_data
#   THREADS engine threads, default 2
#   STEPS   when set, train this many steps instead of the default budget (a short run: the
#           schedule and the average then span these steps)
#   BENCH_BROWSER=1 then runs the browser's figure, go test ./e2e -run BenchAccuracyBrowser
#
# The machine's load changes the figures: each line ends with the load average at its start.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${SEEDS:-1 2 3}
data=${DATA:-/tmp/cifar10_data}
threads=${THREADS:-2}
out=$(mktemp -d)
bin="$out/cifar10"
GOEXPERIMENT=simd go build -o "$bin" ./cmd/cifar10
steps=()
[ -n "${STEPS:-}" ] && steps=(-steps "$STEPS")
echo "bench-accuracy: preset fast natively, data $data, threads $threads, seeds $seeds${STEPS:+, $STEPS steps}"
echo "(the development machine's $data is rebuilt from JPEGs by /work/shared/cifar10/build.py, not the original binaries)"
printf '%-6s %8s %11s %10s %10s  %s\n' seed minutes examples/s precision with-TTA 'load (1, 5, 15 min)'
for seed in $seeds; do
  log="$out/seed$seed.log"
  load=$(uptime | sed 's/.*load average: //')
  start=$(date +%s.%N)
  if ! "$bin" train -preset fast -seed "$seed" -data "$data" -threads "$threads" "${steps[@]}" >"$log" 2>&1; then
    echo "seed $seed failed (log $log):"
    tail -5 "$log"
    exit 1
  fi
  end=$(date +%s.%N)
  speed=$(sed -n 's/^trained .*: \([0-9.]*\) examples\/sec$/\1/p' "$log")
  plain=$(sed -n 's/^precision: //p' "$log")
  tta=$(sed -n 's/^precision with .*: //p' "$log" | tail -1)
  awk -v s="$start" -v e="$end" -v seed="$seed" -v x="$speed" -v p="$plain" -v t="${tta:--}" -v load="$load" \
    'BEGIN { printf "%-6s %8.2f %11s %10s %10s  %s\n", seed, (e-s)/60, x, p, t, load }' | tee -a "$out/table"
done
awk '{ m += $2; x += $3; p += $4; t += $5; n++ }
  END { printf "%-6s %8.2f %11.1f %10.4f %10.4f\n", "mean", m/n, x/n, p/n, t/n }' "$out/table"
echo "(logs: $out)"
if [ "${BENCH_BROWSER:-}" = 1 ]; then
  if grep -q 'func BenchmarkAccuracyBrowser\|func TestBenchAccuracyBrowser' e2e/*.go 2>/dev/null; then
    GOEXPERIMENT=simd SEEDS="$seeds" go test -count=1 -timeout 180m -run BenchAccuracyBrowser -bench BenchAccuracyBrowser -benchtime 1x -v ./e2e/
  else
    echo "BENCH_BROWSER=1: e2e has no BenchAccuracyBrowser yet (the browser's figure is the worker/page side's)"
  fi
fi
