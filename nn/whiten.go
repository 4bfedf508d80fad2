package nn

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// KindWhiten is a fixed 2-D convolution without padding whose filters whiten the input's
// patches (airbench's first layer): weights set from the training images, never trained; a
// trained bias.
const KindWhiten LayerKind = "whiten"

func init() {
	registerKind(KindWhiten, kind{
		outShape: func(l LayerSpec, in [3]int) ([3]int, error) {
			if l.Size < 1 || l.Size > in[0] || l.Size > in[1] || !(l.Epsilon >= 0) {
				return [3]int{}, l.errorf("size %d must be in 1..%d and epsilon %g not negative", l.Size, min(in[0], in[1]), l.Epsilon)
			}
			return [3]int{in[0] - l.Size + 1, in[1] - l.Size + 1, whitenOut(l.Size, in[2])}, nil
		},
		params: func(l LayerSpec, in [3]int) []paramShape {
			k, out := l.Size, whitenOut(l.Size, in[2])
			return []paramShape{
				{name: l.Name + "/weights", shape: []int{k, k, in[2], out}, use: Fixed},
				{name: l.Name + "/biases", shape: []int{out}},
			}
		},
		init: func(l LayerSpec, ps []*Param, _ *initRand) {
			// Until InitWhitening sees the data: the whitening of an identity covariance, each
			// patch value and its negation.
			k2c := len(ps[1].Data()) / 2
			id := make([]float64, k2c*k2c)
			vals := make([]float64, k2c)
			for i := range k2c {
				id[i*k2c+i], vals[i] = 1, 1
			}
			setWhitening(ps[0].Data(), vals, id, l.Epsilon)
			fill(ps[1].Data(), float32(l.BiasInit))
		},
		build: func(l LayerSpec, c layerConfig) layer {
			return newWhitenLayer(l, c)
		},
	})
}

// whitenOut is the whitening layer's output channels for k×k patches of c channels: every
// eigenvector of the patch covariance and its negation (so that a following GELU or ReLU
// loses no direction).
func whitenOut(k, c int) int { return 2 * k * k * c }

// whitenLayer is a k×k convolution with stride 1 and no padding (out = in - k + 1) whose
// weights, HWIO [k, k, c, 2k²c], are Fixed: the backward pass computes only the bias
// gradient and, when a layer before needs it, the input gradient. As the first layer of a
// model whose bias is frozen too, the Trainer skips its backward altogether (firstTrained).
// The forward pass unfolds blocks of whitenChunk examples into rows of k²c patch values (in
// HWIO order) and multiplies them by the weights in one GEMM, then adds the bias.
type whitenLayer struct {
	r            *runner
	w, b         *Param
	k, h, wd, c  int // kernel side, input size and channels
	oh, ow, o    int // output size and channels
	chunk        int
	col          []float32   // the unfolded patches of chunk examples
	patch        [][]float32 // per part: one patch's gradient
	db           colSummer
	x, y, dy, dx []float32
	fnFwd, fnBwd func(part, lo, hi int)
	fnBias       func(part, lo, hi int)
}

// whitenChunk is the most examples whose patches are unfolded at once (a fixed number, so
// results depend on nothing else): 16, one browser shard, is 0.7 MB for CIFAR-10.
const whitenChunk = 16

func newWhitenLayer(l LayerSpec, c layerConfig) *whitenLayer {
	wl := &whitenLayer{r: c.r, w: c.params[0], b: c.params[1], k: l.Size, h: c.in[0], wd: c.in[1], c: c.in[2],
		oh: c.out[0], ow: c.out[1], o: c.out[2]}
	wl.patch = make([][]float32, c.r.threads)
	for i := range wl.patch {
		wl.patch[i] = make([]float32, wl.k*wl.k*wl.c)
	}
	wl.chunk = min(c.batch, whitenChunk)
	wl.col = make([]float32, wl.chunk*wl.oh*wl.ow*wl.k*wl.k*wl.c)
	wl.db = newColSummer(wl.o)
	wl.fnFwd, wl.fnBwd, wl.fnBias = wl.unfoldRange, wl.backwardRange, wl.biasRange
	return wl
}

func (wl *whitenLayer) forward(x, y []float32, n int) {
	kk, rows, in, out := wl.k*wl.k*wl.c, wl.oh*wl.ow, wl.h*wl.wd*wl.c, wl.oh*wl.ow*wl.o
	for e0 := 0; e0 < n; e0 += wl.chunk {
		m := min(wl.chunk, n-e0)
		wl.x = x[e0*in : (e0+m)*in]
		wl.r.parallel(m, wl.fnFwd)
		wl.r.gemm.Mul(false, false, m*rows, wl.o, kk, wl.col[:m*rows*kk], kk, wl.w.Data(), wl.o, y[e0*out:(e0+m)*out], wl.o, false)
	}
	wl.y = y
	wl.r.parallel(n, wl.fnBias)
}

// unfoldRange writes the patches of examples lo..hi-1 of the chunk to col, one row each.
func (wl *whitenLayer) unfoldRange(_, lo, hi int) {
	kk, in := wl.k*wl.k*wl.c, wl.h*wl.wd*wl.c
	for e := lo; e < hi; e++ {
		x := wl.x[e*in : (e+1)*in]
		col := wl.col[e*wl.oh*wl.ow*kk:]
		for oy := range wl.oh {
			for ox := range wl.ow {
				wl.gather(col[(oy*wl.ow+ox)*kk:][:kk], x, oy, ox)
			}
		}
	}
}

func (wl *whitenLayer) biasRange(_, lo, hi int) {
	out := wl.oh * wl.ow * wl.o
	biasReLU(wl.y[lo*out:hi*out], wl.b.Data(), false)
}

// gather copies the k×k×c patch of x whose top-left pixel is (oy, ox).
func (wl *whitenLayer) gather(patch, x []float32, oy, ox int) {
	run := wl.k * wl.c
	for ky := range wl.k {
		copy(patch[ky*run:(ky+1)*run], x[((oy+ky)*wl.wd+ox)*wl.c:])
	}
}

func (wl *whitenLayer) backward(x, y, dy, dx []float32, n int) {
	wl.db.sum(wl.b.GradData(), dy, n, wl.oh*wl.ow)
	if dx == nil {
		return
	}
	wl.dy, wl.dx = dy, dx
	wl.r.parallel(n, wl.fnBwd)
}

// backwardRange computes the input gradient: each output pixel's gradient times the weights,
// added to its patch's cells, in row-major output order.
func (wl *whitenLayer) backwardRange(part, lo, hi int) {
	in, out := wl.h*wl.wd*wl.c, wl.oh*wl.ow*wl.o
	w, g := wl.w.Data(), wl.patch[part]
	run := wl.k * wl.c
	for e := lo; e < hi; e++ {
		dx, dy := wl.dx[e*in:(e+1)*in], wl.dy[e*out:(e+1)*out]
		clear(dx)
		for oy := range wl.oh {
			for ox := range wl.ow {
				d := dy[(oy*wl.ow+ox)*wl.o:][:wl.o]
				for t := range g {
					g[t] = dot32(w[t*wl.o:(t+1)*wl.o], d)
				}
				for ky := range wl.k {
					row := dx[((oy+ky)*wl.wd+ox)*wl.c:][:run]
					for i, v := range g[ky*run : (ky+1)*run] {
						row[i] += v
					}
				}
			}
		}
	}
}

// dot32 is the float32 dot product of a and b, summed in order.
func dot32(a, b []float32) float32 {
	b = b[:len(a)]
	s := float32(0)
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// InitWhitening sets the weights of the model's first layer, which must be a whitening layer,
// from training images (n float32 HWC images of the model's input shape, preprocessed as for
// training): the eigenvectors of the covariance of all their k×k patches, each divided by
// √(eigenvalue + epsilon), and their negations, as airbench initialises its first layer. Its
// outputs then have (nearly) the identity as covariance over those patches.
func (m *Model) InitWhitening(images []float32) error {
	l := m.spec.Layers[0]
	if l.Kind != KindWhiten {
		return fmt.Errorf("nn: model %s: InitWhitening needs a first layer of kind %s, not %s %q", m.spec.Name, KindWhiten, l.Kind, l.Name)
	}
	in := m.spec.Input
	vals, vecs, err := PatchEigen(images, in[0], in[1], in[2], l.Size)
	if err != nil {
		return fmt.Errorf("nn: model %s, layer %q: %w", m.spec.Name, l.Name, err)
	}
	setWhitening(m.layer[0][0].Data(), vals, vecs, l.Epsilon)
	return nil
}

// PatchEigen returns the eigenvalues (descending) and eigenvectors of the (uncentred, as
// airbench) covariance of every k×k patch of the HWC images (h×w×c each): vecs is row-major,
// row i the eigenvector of vals[i] over the patch's (ky, kx, c) values. It uses gonum's
// symmetric eigendecomposition, whose float64 results may differ in their last bits between
// builds (gonum has assembly on amd64, not in wasm): each eigenvector's sign is fixed (its
// largest component positive) so such differences cannot flip it, but for bit-identical
// weights across builds compute them once and share them (the weights are a Fixed
// parameter, saved in checkpoints).
func PatchEigen(images []float32, h, w, c, k int) (vals, vecs []float64, err error) {
	size := h * w * c
	if size == 0 || len(images) == 0 || len(images)%size != 0 || k < 1 || k > h || k > w {
		return nil, nil, fmt.Errorf("patch covariance of %d floats as %dx%dx%d images with %dx%d patches", len(images), h, w, c, k, k)
	}
	d := k * k * c
	cov := make([]float64, d*d)
	patch := make([]float64, d)
	count := 0
	for o := 0; o < len(images); o += size {
		x := images[o : o+size]
		for oy := 0; oy+k <= h; oy++ {
			for ox := 0; ox+k <= w; ox++ {
				for ky := range k {
					for i, v := range x[((oy+ky)*w+ox)*c:][:k*c] {
						patch[ky*k*c+i] = float64(v)
					}
				}
				for i, a := range patch {
					row := cov[i*d : (i+1)*d]
					for j := i; j < d; j++ {
						row[j] += float64(a * patch[j]) // no FMA: the same sums natively and in wasm
					}
				}
				count++
			}
		}
	}
	sym := mat.NewSymDense(d, nil)
	for i := range d {
		for j := i; j < d; j++ {
			sym.SetSym(i, j, cov[i*d+j]/float64(count))
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(sym, true) {
		return nil, nil, fmt.Errorf("eigendecomposition of the %dx%d patch covariance failed", d, d)
	}
	asc := eig.Values(nil)
	var ev mat.Dense
	eig.VectorsTo(&ev)
	vals, vecs = make([]float64, d), make([]float64, d*d)
	for i := range d { // descending, as airbench flips torch's ascending order
		src := d - 1 - i
		vals[i] = asc[src]
		row := vecs[i*d : (i+1)*d]
		big := 0
		for j := range d {
			row[j] = ev.At(j, src)
			if math.Abs(row[j]) > math.Abs(row[big]) {
				big = j
			}
		}
		if row[big] < 0 { // one sign for every build: the largest component positive
			for j := range row {
				row[j] = -row[j]
			}
		}
	}
	return vals, vecs, nil
}

// setWhitening writes HWIO weights [k,k,c,2d] (d = k²c = len(vals)): output channel i < d is
// eigenvector i divided by √(vals[i] + eps), channel d+i its negation.
func setWhitening(w []float32, vals, vecs []float64, eps float64) {
	d := len(vals)
	for i, lambda := range vals {
		s := 1 / math.Sqrt(max(lambda, 0)+eps)
		for t := range d {
			v := float32(vecs[i*d+t] * s)
			w[t*2*d+i], w[t*2*d+d+i] = v, -v
		}
	}
}
