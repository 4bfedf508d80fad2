// Package ckptname is how checkpoint files are named: TensorFlow Saver's "<prefix>-<step>"
// with the format's extension, so the files read the same as the tutorial's and sort out by
// step. It is a leaf, so the native trainer (nn/checkpoint) and the page, which must not link
// the engine, name the same step the same way.
package ckptname

import (
	"strconv"
	"strings"
)

// Prefix starts every checkpoint's name, Ext ends its file's.
const (
	Prefix = "cifar10.ckpt-"
	Ext    = ".safetensors"
)

// Base is the name TensorFlow's Saver gives the checkpoint of a step, as the seed script's
// files were named: "cifar10.ckpt-<step>".
func Base(step int64) string { return Prefix + strconv.FormatInt(step, 10) }

// File returns the file name of the checkpoint at a step, "cifar10.ckpt-<step>.safetensors".
// Steps are never negative.
func File(step int64) string { return Base(step) + Ext }

// Parse returns the step of a checkpoint file name made by File. It rejects anything else
// (temporary files, other extensions, signs, leading zeros, overflow), so that each step has
// exactly one name and foreign files in a folder are never mistaken for checkpoints.
func Parse(name string) (step int64, ok bool) {
	digits, ok := strings.CutPrefix(name, Prefix)
	if !ok {
		return 0, false
	}
	digits, ok = strings.CutSuffix(digits, Ext)
	if !ok || digits == "" || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	step, err := strconv.ParseInt(digits, 10, 64)
	return step, err == nil
}
