package ckptname

import (
	"math"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, step := range []int64{0, 1, 9, 10, 100, 1000, 123456789, 1 << 40, math.MaxInt64} {
		got, ok := Parse(File(step))
		if !ok || got != step {
			t.Errorf("Parse(%q) = %d, %v; want %d", File(step), got, ok, step)
		}
	}
	if got := File(20); got != "cifar10.ckpt-20.safetensors" {
		t.Errorf("File(20) = %q", got)
	}
	if got := File(1000); got != "cifar10.ckpt-1000.safetensors" {
		t.Errorf("File(1000) = %q", got)
	}
	if got := Base(20); got != "cifar10.ckpt-20" {
		t.Errorf("Base(20) = %q", got)
	}
}

func TestParseRefuses(t *testing.T) {
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
		".cifar10.ckpt-5.safetensors.tmp-1",
		"model.ckpt-5.safetensors",
		"CIFAR10.ckpt-5.safetensors",
		"checkpoint",
	} {
		if step, ok := Parse(name); ok {
			t.Errorf("Parse(%q) = %d, want a refusal", name, step)
		}
	}
}
