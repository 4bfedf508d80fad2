package cifar

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
)

// The ranges of cifar10_input.distorted_inputs.
const (
	maxBrightness = 63
	minContrast   = 0.2
	maxContrast   = 1.8
)

// Sampler makes the training stream: example k (k = 0, 1, 2, ...; batch s of size B holds
// examples s*B .. s*B+B-1) is image perm_e[k mod N] of epoch e = k / N, distorted as
// cifar10_input.distorted_inputs did (random crop, left-right flip, brightness, contrast,
// standardization) with a generator seeded from (seed, k) only, or, for a sampler of
// FlipTranslate (Prep.NewSampler), translated and flipped as that Prep says.
//
// The stream is a pure function of (set, seed, crop, k), so a checkpoint only needs the seed
// and the number of examples consumed to resume exactly, and several workers can each fill a
// fixed shard of a batch and get the same batch as one worker would.
//
// The TensorFlow script drew examples through a 20,000-image shuffle buffer. We use a full
// Fisher–Yates permutation per epoch instead: every image appears exactly once per epoch
// (better mixing than a buffer a fifth of a pass wide), and a position in the stream is one
// number, which is what makes resuming exact.
//
// A Sampler caches the current epoch's permutation and owns a generator, so it is not safe
// for concurrent use: give each goroutine or worker its own.
type Sampler struct {
	set   *Set
	seed  uint64
	crop  int
	prep  Prep  // how examples are augmented and normalized (Tutorial: distort)
	epoch int64 // epoch whose permutation perm holds; -1 before the first Fill
	perm  []int32
	rng   rand.PCG
}

// NewSampler returns a sampler over s for the given seed and crop (24 for the tutorial;
// 32 means no crop). It panics on an empty set or a crop outside 1..32, which are
// programming errors.
func NewSampler(s *Set, seed uint64, crop int) *Sampler {
	imageFloats(crop)
	if s.Len() == 0 {
		panic("cifar: NewSampler on an empty set")
	}
	return &Sampler{set: s, seed: seed, crop: crop, epoch: -1, perm: make([]int32, s.Len())}
}

// Fill writes examples k0..k0+count-1 of the stream into images (count*crop*crop*3 floats,
// NHWC) and labels. A range may straddle two epochs. Fill allocates nothing; crossing into a
// new epoch recomputes the cached permutation in place (O(N)).
func (sp *Sampler) Fill(k0 int64, count int, images []float32, labels []uint8) {
	n := imageFloats(sp.crop)
	if k0 < 0 || count < 0 || len(images) < count*n || len(labels) < count {
		panic(fmt.Sprintf("cifar: Fill(k0=%d, count=%d) with %d floats (want %d) and %d labels",
			k0, count, len(images), count*n, len(labels)))
	}
	for j := range count {
		k := k0 + int64(j)
		i := sp.Index(k)
		sp.augment(images[j*n:(j+1)*n], sp.set.Image(i), k)
		labels[j] = sp.set.Labels[i]
	}
}

// Index is the image example k shows, so tests and tools can see the order without
// producing floats.
func (sp *Sampler) Index(k int64) int {
	if k < 0 {
		panic(fmt.Sprintf("cifar: example %d is negative", k))
	}
	N := int64(len(sp.perm))
	if e := k / N; e != sp.epoch {
		sp.permute(e)
	}
	return int(sp.perm[k%N])
}

// Epoch is the epoch example k belongs to, for progress reports.
func (sp *Sampler) Epoch(k int64) int64 { return k / int64(len(sp.perm)) }

// permute makes perm the Fisher–Yates permutation of epoch e. Its bounded integers come from
// our own code on PCG output, so the order does not depend on the standard library's choice
// of algorithm in rand.Rand.Shuffle (checkpoints must resume identically across versions).
func (sp *Sampler) permute(e int64) {
	for i := range sp.perm {
		sp.perm[i] = int32(i)
	}
	sp.rng.Seed(streamSeeds(sp.seed, tagPermutation, uint64(e)))
	for i := len(sp.perm) - 1; i > 0; i-- {
		j := intN(&sp.rng, uint64(i+1))
		sp.perm[i], sp.perm[j] = sp.perm[j], sp.perm[i]
	}
	sp.epoch = e
}

// distortion is one example's random choices, drawn before any pixel is touched.
type distortion struct {
	oy, ox int     // crop window offset
	flip   bool    // mirror left-right
	delta  float32 // brightness, uniform in [-63, 63)
	factor float32 // contrast, uniform in [0.2, 1.8)
}

// drawDistortion makes the draws in a fixed order, all of them every time (even when crop
// is 32), so example k's distortion depends on (seed, k) only.
func drawDistortion(r *rand.PCG, crop int) distortion {
	room := uint64(Side - crop + 1)
	var d distortion
	d.oy = int(intN(r, room))
	d.ox = int(intN(r, room))
	d.flip = r.Uint64()>>63 == 1
	d.delta = float32(uniform(r, -maxBrightness, maxBrightness))
	d.factor = float32(uniform(r, minContrast, maxContrast))
	return d
}

// augment writes training example k, of image img, as the sampler's preprocessing makes it.
func (sp *Sampler) augment(dst []float32, img []byte, k int64) {
	if sp.prep == FlipTranslate {
		sp.translate(dst, img, k, sp.Index(k))
		return
	}
	sp.distort(dst, img, k)
}

// distort is distorted_inputs for one image: crop, flip, brightness, contrast, standardize.
func (sp *Sampler) distort(dst []float32, img []byte, k int64) {
	sp.rng.Seed(streamSeeds(sp.seed, tagAugment, uint64(k)))
	d := drawDistortion(&sp.rng, sp.crop)
	cropFlip(dst, img, d.oy, d.ox, sp.crop, d.flip)
	brightness(dst, d.delta)
	contrast(dst, d.factor)
	Standardize(dst)
}

// Tags keep the permutation and augmentation generators apart for the same seed.
const (
	tagPermutation = 1
	tagAugment     = 2
	tagFlip        = 3 // FlipTranslate's coin of an image (seeded by the image, not the example)
)

// streamSeeds turns (seed, tag, n) into the two PCG seed words. splitmix64 scrambles both, so
// neighbouring k or epochs get unrelated streams; the second word is a bijection of n for a
// given seed and tag, so distinct k never share a stream.
func streamSeeds(seed, tag, n uint64) (uint64, uint64) {
	return mix64(seed ^ mix64(tag)), mix64(n ^ mix64(seed+tag))
}

// mix64 is the splitmix64 output function.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// intN is uniform in [0, n) by Lemire's multiply-and-reject method.
func intN(r *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(r.Uint64(), n)
	if lo < n {
		threshold := -n % n
		for lo < threshold {
			hi, lo = bits.Mul64(r.Uint64(), n)
		}
	}
	return hi
}

// uniform is uniform in [lo, hi), like tf.random_uniform, from 53 random bits. The explicit
// conversion forbids fusing the multiply and add, so the value is the same on every platform.
func uniform(r *rand.PCG, lo, hi float64) float64 {
	u := float64(r.Uint64()>>11) * 0x1p-53
	return lo + float64((hi-lo)*u)
}
