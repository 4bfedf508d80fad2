package cifar

import (
	"fmt"
	"math"
)

// Images leave this package as float32 HWC (height, width, channel), the layout the engine's
// NHWC batches use, on the 0..255 scale until standardization. The steps follow TensorFlow 1's
// cifar10_input.py so results stay comparable with the tutorial.

// EvalImage writes image i of s as the evaluation input: the central crop x crop window
// (offset (32-crop)/2, i.e. 4,4 for 24) followed by per-image standardization, which is what
// cifar10_input.inputs did. dst needs crop*crop*3 floats.
func EvalImage(dst []float32, s *Set, i, crop int) {
	EvalPixels(dst, s.Image(i), crop)
}

// EvalPixels is EvalImage for an image that is not in a Set (e.g. a user's own picture
// converted to 32x32): img is 3,072 CHW bytes as a record stores them.
func EvalPixels(dst []float32, img []byte, crop int) {
	n := imageFloats(crop)
	checkImage(dst, img, n)
	off := (Side - crop) / 2
	cropFlip(dst[:n], img, off, off, crop, false)
	Standardize(dst[:n])
}

// EvalBatch fills images (count*crop*crop*3 floats) with test images i0..i0+count-1 of s as
// EvalImage makes them, and labels with their labels; labels may be nil when only
// predictions are wanted. Evaluation is not random, so there is no sampler for it.
func EvalBatch(s *Set, i0, count, crop int, images []float32, labels []uint8) {
	n := imageFloats(crop)
	if len(images) < count*n || i0 < 0 || i0+count > s.Len() || (labels != nil && len(labels) < count) {
		panic(fmt.Sprintf("cifar: EvalBatch(i0=%d, count=%d, crop=%d) with %d images, %d floats, %d labels",
			i0, count, crop, s.Len(), len(images), len(labels)))
	}
	for j := range count {
		EvalImage(images[j*n:(j+1)*n], s, i0+j, crop)
		if labels != nil {
			labels[j] = s.Labels[i0+j]
		}
	}
}

// Standardize is TensorFlow's per_image_standardization, in place: (x - mean) / adjusted with
// adjusted = max(stddev, 1/sqrt(N)) over all N values. The floor keeps a constant image at
// zeros instead of dividing by zero. Sums are in float64 so the mean is exact for bytes.
func Standardize(img []float32) {
	n := float64(len(img))
	var sum float64
	for _, v := range img {
		sum += float64(v)
	}
	mean := sum / n
	var sq float64
	for _, v := range img {
		d := float64(v) - mean
		sq += float64(d * d) // no FMA: same bits everywhere
	}
	adjusted := max(math.Sqrt(sq/n), 1/math.Sqrt(n))
	inv := 1 / adjusted
	for i, v := range img {
		img[i] = float32((float64(v) - mean) * inv)
	}
}

// imageFloats is the size of one preprocessed image; it panics on a crop the format cannot
// give, since that is a programming error, not bad data.
func imageFloats(crop int) int {
	if crop < 1 || crop > Side {
		panic(fmt.Sprintf("cifar: crop %d is not in 1..%d", crop, Side))
	}
	return crop * crop * 3
}

func checkImage(dst []float32, img []byte, n int) {
	if len(img) != ImageBytes || len(dst) < n {
		panic(fmt.Sprintf("cifar: image of %d bytes (want %d) into %d floats (want %d)",
			len(img), ImageBytes, len(dst), n))
	}
}

// cropFlip copies the crop x crop window at (oy, ox) of a CHW byte image into dst as HWC
// floats, mirrored left-right within the window when flip is set (TF crops, then flips).
func cropFlip(dst []float32, img []byte, oy, ox, crop int, flip bool) {
	const plane = Side * Side
	r, g, b := img[:plane], img[plane:2*plane], img[2*plane:]
	for y := range crop {
		row := (oy+y)*Side + ox
		out := dst[y*crop*3 : (y+1)*crop*3]
		for x := range crop {
			p := row + x
			if flip {
				p = row + crop - 1 - x
			}
			o := out[x*3 : x*3+3]
			o[0], o[1], o[2] = float32(r[p]), float32(g[p]), float32(b[p])
		}
	}
}

// brightness is TF's adjust_brightness on a float image: delta is added to every value and
// nothing is clipped, so values may leave 0..255 before standardization.
func brightness(img []float32, delta float32) {
	for i := range img {
		img[i] += delta
	}
}

// contrast is TF's adjust_contrast: each channel moves away from (factor > 1) or towards
// (factor < 1) its own mean over the image, so each channel's mean is unchanged.
func contrast(img []float32, factor float32) {
	var sum [3]float64
	for i := 0; i < len(img); i += 3 {
		sum[0] += float64(img[i])
		sum[1] += float64(img[i+1])
		sum[2] += float64(img[i+2])
	}
	pixels := float64(len(img) / 3)
	var mean [3]float32
	for c := range mean {
		mean[c] = float32(sum[c] / pixels)
	}
	for i := 0; i < len(img); i += 3 {
		for c := range 3 {
			img[i+c] = float32((img[i+c]-mean[c])*factor) + mean[c] // no FMA: same bits everywhere
		}
	}
}
