// Command nativeref trains and evaluates like the native trainer (cmd/cifar10 train, then
// eval), with the same nn and cifar calls in the same order, and prints every loss and the
// evaluation as JSON, for the browser tests to compare with what the page shows.
//
// The tests build it with GOEXPERIMENT unset on purpose: with GOEXPERIMENT=simd on amd64 the
// engine's GEMM uses fused multiply-add (AVX2/AVX-512), whose rounding differs in the last
// bit from WebAssembly, which has no fused multiply-add. The plain-Go kernels perform the
// same operations in the same order as the wasm SIMD kernels, so this build is the native
// computation the browser's must match bit for bit.
//
// It lives under testdata so that `go build ./...` and `go vet ./...` leave it alone.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"

	"cifar10/nn"
	"cifar10/nn/cifar"
	"cifar10/nn/replica"
)

// result is what the tests read.
type result struct {
	Losses    []uint32 `json:"losses"` // float32 bits of every step's loss
	Correct   int      `json:"correct"`
	Total     int      `json:"total"`
	Precision float64  `json:"precision"`
	Log       []string `json:"log"` // the native trainer's lines without the timing
}

func main() {
	data := flag.String("data", "", "folder holding cifar-10-batches-bin/")
	preset := flag.String("preset", "cifar10", "model preset")
	steps := flag.Int("steps", 20, "training steps")
	batch := flag.Int("batch", 16, "batch size")
	seed := flag.Uint64("seed", 1, "seed")
	lr := flag.Float64("lr", 0, "learning rate (0: the preset's)")
	flag.Parse()
	r, err := run(*data, *preset, *steps, *batch, *seed, *lr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nativeref:", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(r)
}

func run(dir, preset string, steps, batch int, seed uint64, lr float64) (*result, error) {
	d, err := cifar.Load(dir)
	if err != nil {
		return nil, err
	}
	spec, err := nn.Preset(preset)
	if err != nil {
		return nil, err
	}
	m, err := nn.NewModel(spec, seed)
	if err != nil {
		return nil, err
	}
	opt, err := nn.NewOptimizer(spec.Optimizer, m.Params())
	if err != nil {
		return nil, err
	}
	if lr > 0 {
		opt.SetLearningRate(lr)
	}
	crop := spec.Input[0]
	sampler := cifar.NewSampler(d.Train, seed, crop)
	// The batch is computed in shards, as the browser's workers compute it (nn/shard).
	rep, err := replica.New(m, opt, batch, 1, 0, 1)
	if err != nil {
		return nil, err
	}
	tr := rep.Trainer()
	images, labels := make([]float32, batch*m.InputSize()), make([]uint8, batch)
	r := &result{}
	for step := 0; step < steps; step++ {
		sampler.Fill(int64(step*batch), batch, images, labels)
		loss := rep.Step(images, labels)
		r.Losses = append(r.Losses, math.Float32bits(loss))
		if step%10 == 0 {
			r.Log = append(r.Log, fmt.Sprintf("Step %d, loss = %.2f", step, loss))
		}
	}
	ev, err := tr.Evaluate(d.Test.Len(), func(start int, images []float32, labels []uint8) error {
		cifar.EvalBatch(d.Test, start, len(labels), crop, images, labels)
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	r.Correct, r.Total, r.Precision = ev.Correct, ev.Total, ev.Precision()
	return r, nil
}
