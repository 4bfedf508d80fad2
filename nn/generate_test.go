package nn

import (
	"testing"

	"cifar10/nn/internal/gentest"
)

func TestGeneratedKernelsUpToDate(t *testing.T) { gentest.Check(t, "gen_kernels.go") }
