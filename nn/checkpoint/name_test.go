package checkpoint

import (
	"math"
	"testing"
)

func TestFileNameRoundTrip(t *testing.T) {
	for _, step := range []int64{0, 1, 9, 10, 100, 1000, 1 << 40, math.MaxInt64} {
		name := FileName(step)
		got, ok := ParseFileName(name)
		if !ok || got != step {
			t.Errorf("ParseFileName(%q) = %d, %v; want %d", name, got, ok, step)
		}
	}
	if got := FileName(1000); got != "cifar10.ckpt-1000.safetensors" {
		t.Errorf("FileName(1000) = %q", got)
	}
}

func TestParseFileNameRejects(t *testing.T) {
	for _, name := range []string{
		"",
		"cifar10.ckpt-.safetensors",
		"cifar10.ckpt--1.safetensors",
		"cifar10.ckpt-+1.safetensors",
		"cifar10.ckpt-007.safetensors",
		"cifar10.ckpt-1a.safetensors",
		"cifar10.ckpt-1 .safetensors",
		"cifar10.ckpt-99999999999999999999.safetensors",
		"cifar10.ckpt-5",
		"cifar10.ckpt-5.index",
		"cifar10.ckpt-5.safetensors.tmp-123",
		".cifar10.ckpt-5.safetensors.tmp-123",
		"model.ckpt-5.safetensors",
		"CIFAR10.ckpt-5.safetensors",
		"checkpoint",
	} {
		if step, ok := ParseFileName(name); ok {
			t.Errorf("ParseFileName(%q) = %d, true; want rejected", name, step)
		}
	}
}

func TestTempNamesAreNotCheckpoints(t *testing.T) {
	name := tempPattern(42)
	if !isTempName(name) {
		t.Errorf("isTempName(%q) = false", name)
	}
	if _, ok := ParseFileName(name); ok {
		t.Errorf("ParseFileName accepted temporary name %q", name)
	}
	if isTempName(FileName(42)) {
		t.Errorf("isTempName(%q) = true", FileName(42))
	}
}
