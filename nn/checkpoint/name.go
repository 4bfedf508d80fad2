package checkpoint

import (
	"strconv"
	"strings"
)

// Checkpoint file names are TensorFlow Saver's "<prefix>-<step>" with the format's extension,
// so the files read the same as the tutorial's and sort out by step.
const (
	namePrefix = "cifar10.ckpt-"
	nameSuffix = ".safetensors"
	// tempPrefix starts every temporary file: the leading dot hides it and makes sure
	// ParseFileName never takes it for a checkpoint.
	tempPrefix = "." + namePrefix
	tempMarker = ".tmp-"
)

// FileName returns the file name of the checkpoint at a step, "cifar10.ckpt-<step>.safetensors".
// Steps are never negative; WriteAtomic refuses them.
func FileName(step int64) string {
	return namePrefix + strconv.FormatInt(step, 10) + nameSuffix
}

// ParseFileName returns the step of a checkpoint file name made by FileName. It rejects anything
// else (temporary files, other extensions, signs, leading zeros, overflow), so that each step has
// exactly one name and foreign files in the folder are never mistaken for checkpoints.
func ParseFileName(name string) (step int64, ok bool) {
	digits, ok := strings.CutPrefix(name, namePrefix)
	if !ok {
		return 0, false
	}
	digits, ok = strings.CutSuffix(digits, nameSuffix)
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

// tempPattern is the os.CreateTemp pattern of the temporary file for a step.
func tempPattern(step int64) string {
	return "." + FileName(step) + tempMarker + "*"
}

// isTempName reports whether name is a temporary file left by WriteAtomic.
func isTempName(name string) bool {
	return strings.HasPrefix(name, tempPrefix) && strings.Contains(name, tempMarker)
}
