package checkpoint

import (
	"strings"

	"cifar10/nn/checkpoint/ckptname"
)

// A checkpoint's file is named by package ckptname (which the page shares); WriteAtomic
// writes it first under a temporary name made here.
const (
	// tempPrefix starts every temporary file: the leading dot hides it and makes sure
	// ckptname.Parse never takes it for a checkpoint.
	tempPrefix = "." + ckptname.Prefix
	tempMarker = ".tmp-"
)

// tempPattern is the os.CreateTemp pattern of the temporary file for a step.
func tempPattern(step int64) string {
	return "." + ckptname.File(step) + tempMarker + "*"
}

// isTempName reports whether name is a temporary file left by WriteAtomic.
func isTempName(name string) bool {
	return strings.HasPrefix(name, tempPrefix) && strings.Contains(name, tempMarker)
}
