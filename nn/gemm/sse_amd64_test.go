//go:build goexperiment.simd && amd64

package gemm

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// vectorReg matches an SSE/AVX register operand (X0-X31, Y0-Y31, Z0-Z31) in Go's disassembly.
var vectorReg = regexp.MustCompile(`\b[XYZ]([0-9]|[12][0-9]|3[01])\b`)

// TestNoLegacySSE disassembles this test binary's SIMD micro-kernels and fails on any vector
// instruction without a VEX/EVEX encoding (MOVUPS, MOVSS, XORPS, ... rather than VMOVUPS, ...).
// Go spills 128-bit values with legacy-SSE MOVUPS when the kernel needs more than its 15 vector
// registers; on Intel such an instruction inside AVX code with dirty upper halves costs a state
// transition or a false dependency each time, and made these kernels 25-70x slower on a Xeon
// (gen_kernels.go). It also checks that every kernel clears the upper bits (VZEROUPPER) before
// returning to the scalar SSE code of the caller.
func TestNoLegacySSE(t *testing.T) {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		if goTool, err = exec.LookPath("go"); err != nil {
			t.Skip("no go tool to disassemble the kernels with:", err)
		}
	}
	kernelFuncs := []string{"tileAVX2T", "tileAVX2S", "tileAVX2N", "tileAVX512T", "tileAVX512S", "tileAVX512N"}
	env := append(os.Environ(), "GOTOOLCHAIN=local", "GOEXPERIMENT=simd")
	objdump := func(bin string) ([]byte, error) {
		cmd := exec.Command(goTool, "tool", "objdump", "-s", `gemm\.(`+strings.Join(kernelFuncs, "|")+`)$`, bin)
		cmd.Dir = os.TempDir() // outside the module: no go.mod toolchain switch
		cmd.Env = env
		return cmd.Output()
	}
	// go test links its binaries without a symbol table; go test -c keeps it. Without symbols,
	// build this package's test binary again (from the build cache, usually) and read that.
	out, err := objdump(os.Args[0])
	if err != nil {
		bin := filepath.Join(t.TempDir(), "gemm.test")
		build := exec.Command(goTool, "test", "-c", "-o", bin, ".")
		build.Env = env
		if msg, err := build.CombinedOutput(); err != nil {
			t.Skipf("cannot build a test binary with symbols, not checking the kernels: %v: %s", err, msg)
		}
		if out, err = objdump(bin); err != nil {
			msg := err.Error()
			if ee, ok := err.(*exec.ExitError); ok {
				msg += ": " + strings.TrimSpace(string(ee.Stderr))
			}
			t.Skip("go tool objdump failed, not checking the kernels:", msg)
		}
	}

	seen := map[string]bool{}
	clears := map[string]bool{}
	var fn string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := sc.Text()
		if name, ok := strings.CutPrefix(line, "TEXT "); ok {
			fn, _, _ = strings.Cut(name, " ")
			fn = strings.TrimSuffix(fn[strings.LastIndex(fn, ".")+1:], "(SB)")
			seen[fn] = true
			continue
		}
		// "  file.go:53\t\t0x5493a0\t\t55\t\t\tPUSHQ BP\t\t\t": the instruction is the 4th field.
		var fields []string
		for _, f := range strings.Split(line, "\t") {
			if f = strings.TrimSpace(f); f != "" {
				fields = append(fields, f)
			}
		}
		if len(fields) < 4 {
			continue
		}
		inst := fields[3]
		mnemonic, operands, _ := strings.Cut(inst, " ")
		if mnemonic == "VZEROUPPER" {
			clears[fn] = true
		}
		if !strings.HasPrefix(mnemonic, "V") && vectorReg.MatchString(operands) {
			t.Errorf("%s: legacy SSE instruction %q at %s (spill or scalar op without VEX encoding; see gen_kernels.go)", fn, inst, fields[0])
		}
	}
	if len(seen) == 0 {
		t.Skip("the test binary has no symbols for the kernels (stripped?), not checking them")
	}
	for _, name := range kernelFuncs {
		switch {
		case !seen[name]:
			t.Errorf("%s: not found in the disassembly", name)
		case !clears[name]:
			t.Errorf("%s: no VZEROUPPER (archsimd.ClearAVXUpperBits) before returning", name)
		}
	}
}
