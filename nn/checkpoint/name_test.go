package checkpoint

import (
	"testing"

	"cifar10/nn/checkpoint/ckptname"
)

func TestTempNamesAreNotCheckpoints(t *testing.T) {
	name := tempPattern(42)
	if !isTempName(name) {
		t.Errorf("isTempName(%q) = false", name)
	}
	if _, ok := ckptname.Parse(name); ok {
		t.Errorf("ckptname.Parse accepted temporary name %q", name)
	}
	if isTempName(ckptname.File(42)) {
		t.Errorf("isTempName(%q) = true", ckptname.File(42))
	}
}
