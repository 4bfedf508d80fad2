package checkpoint

import (
	"strings"

	"cifar10/nn/checkpoint/ckptname"
)

// Checkpoint file names are TensorFlow Saver's "<prefix>-<step>" with the format's extension
// (package ckptname, which the page shares).
const (
	namePrefix = ckptname.Prefix
	nameSuffix = ckptname.Ext
	// tempPrefix starts every temporary file: the leading dot hides it and makes sure
	// ParseFileName never takes it for a checkpoint.
	tempPrefix = "." + namePrefix
	tempMarker = ".tmp-"
)

// FileName returns the file name of the checkpoint at a step, "cifar10.ckpt-<step>.safetensors".
// Steps are never negative; WriteAtomic refuses them.
func FileName(step int64) string { return ckptname.File(step) }

// ParseFileName returns the step of a checkpoint file name made by FileName. It rejects anything
// else (temporary files, other extensions, signs, leading zeros, overflow), so that each step has
// exactly one name and foreign files in the folder are never mistaken for checkpoints.
func ParseFileName(name string) (step int64, ok bool) { return ckptname.Parse(name) }

// tempPattern is the os.CreateTemp pattern of the temporary file for a step.
func tempPattern(step int64) string {
	return "." + FileName(step) + tempMarker + "*"
}

// isTempName reports whether name is a temporary file left by WriteAtomic.
func isTempName(name string) bool {
	return strings.HasPrefix(name, tempPrefix) && strings.Contains(name, tempMarker)
}
