package nn

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestWhitenGradients(t *testing.T) {
	cases := []struct{ h, w, c, k, n int }{
		{4, 5, 3, 2, 2},
		{3, 3, 1, 3, 3}, // one output pixel
		{5, 4, 2, 1, 1},
		{2, 3, 1, 2, 18}, // two blocks of whitenChunk examples
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%dx%dx%d-k%d", tc.h, tc.w, tc.c, tc.k), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, uint64(tc.h*10+tc.k)))
			o := whitenOut(tc.k, tc.c)
			w := randParam(rng, "wh/weights", []int{tc.k, tc.k, tc.c, o}, 0.5)
			b := randParam(rng, "wh/biases", []int{o}, 0.5)
			l := LayerSpec{Kind: KindWhiten, Name: "wh", Size: tc.k}
			out, err := l.outShape([3]int{tc.h, tc.w, tc.c})
			if err != nil {
				t.Fatal(err)
			}
			wl := newWhitenLayer(l, layerConfig{in: [3]int{tc.h, tc.w, tc.c}, out: out, params: []*Param{w, b}, batch: tc.n, r: newRunner(2), needDx: true})
			x := randSlice(rng, tc.n*tc.h*tc.w*tc.c, 1)
			y := make([]float32, tc.n*out[0]*out[1]*out[2])
			wl.forward(x, y, tc.n)
			x64, w64, b64 := to64(x), to64(w.Data()), to64(b.Data())
			ref := func() []float64 { return whiten64(x64, tc.n, tc.h, tc.w, tc.c, w64, b64, tc.k, o) }
			checkClose(t, "forward", y, toF32(ref()), 1e-5, 1e-5)
			dy := randSlice(rng, len(y), 1)
			dx := make([]float32, len(x))
			wl.backward(x, y, dy, dx, tc.n)
			f := func() float64 { return dot64(ref(), dy) }
			fdCheck(t, "dx", x64, f, dx)
			fdCheck(t, "db", b64, f, b.GradData())
		})
	}
}

// smoothImages makes n h×w×c images whose neighbouring pixels and channels are correlated
// (a random field averaged over 2x2 cells, plus a shared part across channels), so that their
// patch covariance is far from the identity.
func smoothImages(rng *rand.Rand, n, h, w, c int) []float32 {
	x := make([]float32, n*h*w*c)
	noise := make([]float64, (h+1)*(w+1))
	for e := range n {
		for i := range noise {
			noise[i] = rng.NormFloat64()
		}
		for y := range h {
			for xx := range w {
				s := noise[y*(w+1)+xx] + noise[y*(w+1)+xx+1] + noise[(y+1)*(w+1)+xx] + noise[(y+1)*(w+1)+xx+1]
				for ch := range c {
					x[((e*h+y)*w+xx)*c+ch] = float32(s*(1+0.3*float64(ch)) + 0.5*rng.NormFloat64() + 0.2)
				}
			}
		}
	}
	return x
}

// TestWhiteningCovariance: after InitWhitening, the whitening layer's outputs over the very
// patches it was computed from have (uncentred) covariance diag(λ/(λ+ε)), the identity for a
// small ε, and its second half of channels is the first's negation.
func TestWhiteningCovariance(t *testing.T) {
	const n, h, w, c, k = 40, 8, 8, 3, 2
	for _, eps := range []float64{1e-9, 0.5} {
		t.Run(fmt.Sprintf("eps%g", eps), func(t *testing.T) {
			spec := Spec{Name: "white", Input: [3]int{h, w, c}, Classes: 2, Optimizer: DefaultMomentum(),
				Layers: []LayerSpec{
					{Kind: KindWhiten, Name: "whiten", Size: k, Epsilon: eps},
					{Kind: KindDense, Name: "softmax_linear", Out: 2, Stddev: 0.1},
				}}
			m := mustModel(t, spec, 1)
			images := smoothImages(rand.New(rand.NewPCG(1, 9)), n, h, w, c)
			if err := m.InitWhitening(images); err != nil {
				t.Fatal(err)
			}
			vals, vecs, err := PatchEigen(images, h, w, c, k)
			if err != nil {
				t.Fatal(err)
			}
			for i := range vals {
				big := 0.0
				for _, v := range vecs[i*k*k*c : (i+1)*k*k*c] {
					if math.Abs(v) > math.Abs(big) {
						big = v
					}
				}
				if big <= 0 || (i > 0 && vals[i] > vals[i-1]) {
					t.Errorf("eigenvector %d's largest component %g (want positive), eigenvalue %g after %g", i, big, vals[i], vals[max(i-1, 0)])
				}
			}
			if vals[0]/vals[len(vals)-1] < 10 {
				t.Fatalf("eigenvalues %v: the test images are too close to white", vals)
			}
			tr := mustTrainer(t, m, n, 1)
			tr.Logits(images)
			y := tr.acts[0]
			d := k * k * c
			cov := make([]float64, d*d)
			rows := len(y) / (2 * d)
			for r := range rows {
				px := y[r*2*d : (r+1)*2*d]
				for i := range d {
					if px[d+i] != -px[i] {
						t.Fatalf("pixel %d: channel %d is %g, its negation %g", r, d+i, px[d+i], px[i])
					}
					for j := range d {
						cov[i*d+j] += float64(px[i]) * float64(px[j]) / float64(rows)
					}
				}
			}
			for i := range d {
				for j := range d {
					want := 0.0
					if i == j {
						want = vals[i] / (vals[i] + eps)
					}
					if math.Abs(cov[i*d+j]-want) > 1e-3 {
						t.Errorf("output covariance [%d][%d] = %.5f, want %.5f", i, j, cov[i*d+j], want)
					}
				}
			}
		})
	}
}

func TestWhiteningErrors(t *testing.T) {
	spec := tinySpec() // first layer a conv
	m := mustModel(t, spec, 1)
	if err := m.InitWhitening(make([]float32, m.InputSize())); err == nil || !strings.Contains(err.Error(), "whiten") {
		t.Errorf("InitWhitening on a conv: %v", err)
	}
	fast := mustModel(t, tinyFastSpec(), 1)
	before := append([]float32(nil), fast.Param("whiten/weights").Data()...)
	for _, images := range [][]float32{nil, make([]float32, fast.InputSize()+1)} {
		if err := fast.InitWhitening(images); err == nil {
			t.Errorf("InitWhitening of %d floats accepted", len(images))
		}
	}
	if !equal32(before, fast.Param("whiten/weights").Data()) {
		t.Errorf("a refused InitWhitening changed the weights")
	}
	for _, l := range []LayerSpec{
		{Kind: KindWhiten, Name: "w", Size: 0},
		{Kind: KindWhiten, Name: "w", Size: 7},
		{Kind: KindWhiten, Name: "w", Size: 2, Epsilon: -1},
	} {
		if _, err := l.outShape([3]int{6, 6, 3}); err == nil {
			t.Errorf("%+v accepted", l)
		}
	}
}

// whitenDigest is the SHA-256 (first 16 hex digits) of the fast preset's whitening weights
// computed by InitWhitening from 500 smoothImages of a fixed stream: the same natively (gonum's assembly) and
// in wasm (its pure Go), so browser workers and the native trainer whiten alike. Recorded
// natively; TestWhiteningSameEverywhere fails in whichever build disagrees.
const whitenDigest = "3bf5af8066c93b08"

// TestWhiteningSameEverywhere: the whitening weights InitWhitening computes are bit for bit
// the recorded ones, natively and in wasm (run this package under GOOS=js too).
func TestWhiteningSameEverywhere(t *testing.T) {
	m := mustModel(t, FastSpec(8), 1)
	if err := m.InitWhitening(smoothImages(rand.New(rand.NewPCG(19, 3)), 500, 32, 32, 3)); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, v := range m.Param("whiten/weights").Data() {
		binary.Write(h, binary.LittleEndian, math.Float32bits(v))
	}
	if got := hex.EncodeToString(h.Sum(nil))[:16]; got != whitenDigest {
		t.Errorf("whitening weights digest %s, want %s (recorded natively)", got, whitenDigest)
	}
}
