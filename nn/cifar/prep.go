package cifar

import "fmt"

// Prep is how a record becomes the engine's input, for training (the sampler's augmentation)
// and for evaluation. A preset names its own (nn.Recipe.Input); the zero value is the
// tutorial's, so the package-level EvalImage, EvalPixels, EvalBatch and NewSampler are
// Tutorial's.
type Prep string

const (
	// Tutorial is cifar10_input.py's: a crop x crop window (random for training, central for
	// evaluation) with per-image standardization; training adds a random flip, brightness and
	// contrast.
	Tutorial Prep = ""
	// FlipTranslate is airbench's: the full 32x32 image normalized per channel with
	// CIFAR-10's training-set means and standard deviations (constants: ChannelMean,
	// ChannelStd); training translates it by up to 2 pixels each way (reflect padding, uniform
	// in -2..2 on each axis) and flips it left-right on alternate epochs: image i is mirrored
	// in epoch e when a coin drawn from (seed, i) xor e's parity says so, so every image is seen
	// both ways every two epochs (airbench's alternating flip, better than a fresh coin per
	// epoch in its ablations), still a pure function of (seed, k).
	FlipTranslate Prep = "flip-translate"
)

// ChannelMean and ChannelStd are the per-channel mean and standard deviation of CIFAR-10's
// 50,000 training images (R, G, B on the 0..1 scale), the constants airbench and most
// published recipes normalize with. Constants rather than computed: every run, worker and
// checkpoint then sees the same inputs whatever data it was given.
var (
	ChannelMean = [3]float64{0.4914, 0.4822, 0.4465}
	ChannelStd  = [3]float64{0.2470, 0.2435, 0.2616}
)

// maxShift is FlipTranslate's largest translation, in pixels each way.
const maxShift = 2

// normalized maps a byte of channel c to its normalized float: one table, so the value is the
// same on every platform and costs one load.
var normalized = func() (t [3][256]float32) {
	for c := range t {
		for v := range t[c] {
			t[c][v] = float32((float64(v)/255 - ChannelMean[c]) / ChannelStd[c])
		}
	}
	return t
}()

// Check reports whether p is a known preprocessing that can make inputs of side x side.
func (p Prep) Check(side int) error {
	switch p {
	case Tutorial:
		if side < 1 || side > Side {
			return fmt.Errorf("cifar: the tutorial's crop %d is not in 1..%d", side, Side)
		}
	case FlipTranslate:
		if side != Side {
			return fmt.Errorf("cifar: %s makes %dx%d inputs, not %dx%d", p, Side, Side, side, side)
		}
	default:
		return fmt.Errorf("cifar: unknown preprocessing %q (want %q or %q)", p, Tutorial, FlipTranslate)
	}
	return nil
}

// EvalPixels writes the evaluation input of one image (3,072 CHW bytes as a record stores
// them) into dst (side*side*3 floats, HWC).
func (p Prep) EvalPixels(dst []float32, img []byte, side int) {
	if p == Tutorial {
		EvalPixels(dst, img, side)
		return
	}
	p.mustCheck(side)
	checkImage(dst, img, imageFloats(side))
	normalize(dst, img, 0, 0, false)
}

// EvalBatch is the package's EvalBatch with p's evaluation input.
func (p Prep) EvalBatch(s *Set, i0, count, side int, images []float32, labels []uint8) {
	if p == Tutorial {
		EvalBatch(s, i0, count, side, images, labels)
		return
	}
	n := imageFloats(side)
	if len(images) < count*n || i0 < 0 || i0+count > s.Len() || (labels != nil && len(labels) < count) {
		panic(fmt.Sprintf("cifar: EvalBatch(i0=%d, count=%d, side=%d) with %d images, %d floats, %d labels",
			i0, count, side, s.Len(), len(images), len(labels)))
	}
	for j := range count {
		p.EvalPixels(images[j*n:(j+1)*n], s.Image(i0+j), side)
		if labels != nil {
			labels[j] = s.Labels[i0+j]
		}
	}
}

// NewSampler is the package's NewSampler with p's training augmentation.
func (p Prep) NewSampler(s *Set, seed uint64, side int) *Sampler {
	p.mustCheck(side)
	sp := NewSampler(s, seed, side)
	sp.prep = p
	return sp
}

// mustCheck panics on a preprocessing that cannot make side x side inputs: specs are checked
// when they are built (nn.Spec.Validate), so this is a programming error.
func (p Prep) mustCheck(side int) {
	if err := p.Check(side); err != nil {
		panic(err)
	}
}

// translation is one FlipTranslate example's random choices.
type translation struct {
	dy, dx int // shift, -maxShift..maxShift
	flip   bool
}

// drawTranslation draws the shift from the example's generator, (seed, k): vertical first.
// flip is the image's coin, drawn by the caller.
func drawTranslation(sp *Sampler, k int64) translation {
	sp.rng.Seed(streamSeeds(sp.seed, tagAugment, uint64(k)))
	var t translation
	t.dy = int(intN(&sp.rng, 2*maxShift+1)) - maxShift
	t.dx = int(intN(&sp.rng, 2*maxShift+1)) - maxShift
	return t
}

// translate is FlipTranslate's training example k of image i: shifted, flipped on alternate
// epochs, normalized.
func (sp *Sampler) translate(dst []float32, img []byte, k int64, i int) {
	sp.rng.Seed(streamSeeds(sp.seed, tagFlip, uint64(i)))
	coin := sp.rng.Uint64()>>63 == 1
	t := drawTranslation(sp, k)
	t.flip = coin != (sp.Epoch(k)%2 == 1)
	normalize(dst, img, t.dy, t.dx, t.flip)
}

// normalize writes img shifted by (dy, dx) (output pixel (y, x) shows input pixel (y+dy,
// x+dx), reflected at the borders without repeating the edge, as torch's reflect padding),
// mirrored left-right after the shift when flip is set, and normalized per channel, into dst
// as HWC floats.
func normalize(dst []float32, img []byte, dy, dx int, flip bool) {
	const plane = Side * Side
	r, g, b := img[:plane], img[plane:2*plane], img[2*plane:]
	for y := range Side {
		row := reflect(y+dy) * Side
		out := dst[y*Side*3 : (y+1)*Side*3]
		for x := range Side {
			sx := x
			if flip {
				sx = Side - 1 - x
			}
			p := row + reflect(sx+dx)
			o := out[x*3 : x*3+3]
			o[0], o[1], o[2] = normalized[0][r[p]], normalized[1][g[p]], normalized[2][b[p]]
		}
	}
}

// reflect maps a coordinate up to Side-1 beyond either border back into the image, mirroring
// about the edge pixel: -1 -> 1, Side -> Side-2.
func reflect(v int) int {
	switch {
	case v < 0:
		return -v
	case v >= Side:
		return 2*(Side-1) - v
	}
	return v
}
