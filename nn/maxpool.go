package nn

// KindMaxPool is max pooling with SAME padding.
const KindMaxPool LayerKind = "maxpool"

func init() {
	registerKind(KindMaxPool, kind{
		outShape: func(l LayerSpec, in [3]int) ([3]int, error) {
			if l.Size < 1 || l.Stride < 1 {
				return [3]int{}, l.errorf("size %d and stride %d must be positive", l.Size, l.Stride)
			}
			return [3]int{ceilDiv(in[0], l.Stride), ceilDiv(in[1], l.Stride), in[2]}, nil
		},
		build: func(l LayerSpec, c layerConfig) layer {
			return newPoolLayer(l, c.in, c.out, c.r, c.relu)
		},
		takesReLU: true,
	})
}

// poolLayer is max pooling with TensorFlow's SAME padding: out = ceil(in/stride) and the total
// padding (out-1)*stride + size - in is split with the smaller half before, so for 3x3/2 on an
// even size the one padded row and column are at the end. Padded cells never win (they are −∞).
//
// When the layer before is a convolution with ReLU, the pool applies that ReLU instead
// (max and ReLU commute), which touches 4x fewer values. The backward pass routes each output
// gradient to the first window cell, in row-major order, that holds the maximum — TensorFlow's
// tie rule — found again by comparison (whole channel vectors at a time) instead of a stored
// index.
//
// 3x3 windows that lie wholly inside the input (all but the last row and column for the
// tutorial's 3x3/2 pools) are pooled a row of outputs at a time by poolMax3Row and
// poolRoute3Row, whose SIMD versions read the nine cells at fixed offsets; the others go cell
// by cell. Both do the same operations, in the same order.
type poolLayer struct {
	r            *runner
	k, s         int // window side, stride
	padT, padL   int
	h, w, c      int // input
	oh, ow       int // output
	relu         bool
	x, y, dy, dx []float32
	fnFwd, fnBwd func(part, lo, hi int)
	scratch      [][]float32 // per part: the gradient of one pixel still to route
	cells        [][]int     // per part: offsets of one window's cells
	rowLo, rowHi []int       // input rows covered by each output row
	colLo, colHi []int       // input columns covered by each output column
	fullLo       int         // output columns fullLo ≤ ox < fullHi have windows of k whole columns
	fullHi       int
}

func newPoolLayer(l LayerSpec, in, out [3]int, r *runner, relu bool) *poolLayer {
	p := &poolLayer{r: r, k: l.Size, s: l.Stride, h: in[0], w: in[1], c: in[2], oh: out[0], ow: out[1], relu: relu}
	p.padT = max(0, (p.oh-1)*p.s+p.k-p.h) / 2
	p.padL = max(0, (p.ow-1)*p.s+p.k-p.w) / 2
	p.rowLo, p.rowHi = windows(p.oh, p.s, p.k, p.padT, p.h)
	p.colLo, p.colHi = windows(p.ow, p.s, p.k, p.padL, p.w)
	for p.fullLo < p.ow && p.colHi[p.fullLo]-p.colLo[p.fullLo] < p.k {
		p.fullLo++
	}
	for p.fullHi = p.fullLo; p.fullHi < p.ow && p.colHi[p.fullHi]-p.colLo[p.fullHi] == p.k; p.fullHi++ {
	}
	p.fnFwd, p.fnBwd = p.forwardRange, p.backwardRange
	p.scratch = make([][]float32, r.threads)
	p.cells = make([][]int, r.threads)
	for i := range p.scratch {
		p.scratch[i] = make([]float32, p.c)
		p.cells[i] = make([]int, p.k*p.k)
	}
	return p
}

// windows returns, for each of n outputs, the clipped input range [lo, hi) of its window.
func windows(n, stride, size, pad, in int) (lo, hi []int) {
	lo, hi = make([]int, n), make([]int, n)
	for i := range n {
		start := i*stride - pad
		lo[i], hi[i] = max(0, start), min(in, start+size)
	}
	return lo, hi
}

func (p *poolLayer) forward(x, y []float32, n int) {
	p.x, p.y = x, y
	p.r.parallel(n, p.fnFwd)
}

func (p *poolLayer) forwardRange(part, lo, hi int) {
	in, out := p.h*p.w*p.c, p.oh*p.ow*p.c
	for e := lo; e < hi; e++ {
		p.forwardOne(p.x[e*in:(e+1)*in], p.y[e*out:(e+1)*out], p.cells[part])
	}
}

func (p *poolLayer) forwardOne(x, y []float32, cells []int) {
	c := p.c
	for oy := 0; oy < p.oh; oy++ {
		lo, hi := p.run3(oy)
		p.forwardPixels(x, y, cells, oy, 0, lo)
		if lo < hi {
			o := (p.rowLo[oy]*p.w + p.colLo[lo]) * c
			poolMax3Row(y[(oy*p.ow+lo)*c:(oy*p.ow+hi)*c], x[o:], hi-lo, p.s, p.w, c, p.relu)
		}
		p.forwardPixels(x, y, cells, oy, hi, p.ow)
	}
}

// run3 returns the output columns [lo, hi) of row oy that poolMax3Row and poolRoute3Row pool
// (hi = lo = 0 if none): those whose windows are 3x3 cells of the input.
func (p *poolLayer) run3(oy int) (lo, hi int) {
	if p.k != 3 || p.rowHi[oy]-p.rowLo[oy] != 3 {
		return 0, 0
	}
	return p.fullLo, p.fullHi
}

// forwardPixels pools outputs (oy, ox), from ≤ ox < to, cell by cell.
func (p *poolLayer) forwardPixels(x, y []float32, cells []int, oy, from, to int) {
	c := p.c
	for ox := from; ox < to; ox++ {
		n := 0
		for iy := p.rowLo[oy]; iy < p.rowHi[oy]; iy++ {
			for ix := p.colLo[ox]; ix < p.colHi[ox]; ix++ {
				cells[n] = (iy*p.w + ix) * c
				n++
			}
		}
		poolMax(y[(oy*p.ow+ox)*c:(oy*p.ow+ox+1)*c], x, cells[:n], p.relu)
	}
}

func (p *poolLayer) backward(x, y, dy, dx []float32, n int) {
	if dx == nil {
		return
	}
	p.x, p.y, p.dy, p.dx = x, y, dy, dx
	p.r.parallel(n, p.fnBwd)
}

func (p *poolLayer) backwardRange(part, lo, hi int) {
	in, out := p.h*p.w*p.c, p.oh*p.ow*p.c
	for e := lo; e < hi; e++ {
		dx := p.dx[e*in : (e+1)*in]
		clear(dx)
		p.backwardOne(p.x[e*in:(e+1)*in], p.y[e*out:(e+1)*out], p.dy[e*out:(e+1)*out], dx, p.scratch[part])
	}
}

// backwardOne routes one example's output gradient dy to dx, output by output in row-major
// order (so every dx sums its parts in the same order on every path); g is scratch of one
// pixel.
func (p *poolLayer) backwardOne(x, y, dy, dx, g []float32) {
	c := p.c
	for oy := 0; oy < p.oh; oy++ {
		lo, hi := p.run3(oy)
		p.backwardPixels(x, y, dy, dx, g, oy, 0, lo)
		if lo < hi {
			i, o, e := (p.rowLo[oy]*p.w+p.colLo[lo])*c, (oy*p.ow+lo)*c, (oy*p.ow+hi)*c
			poolRoute3Row(dx[i:], x[i:], y[o:e], dy[o:e], g, hi-lo, p.s, p.w, c, p.relu)
		}
		p.backwardPixels(x, y, dy, dx, g, oy, hi, p.ow)
	}
}

// backwardPixels routes the gradients of outputs (oy, ox), from ≤ ox < to, cell by cell.
func (p *poolLayer) backwardPixels(x, y, dy, dx, g []float32, oy, from, to int) {
	c := p.c
	for ox := from; ox < to; ox++ {
		o := (oy*p.ow + ox) * c
		yo := y[o : o+c]
		copy(g, dy[o:o+c])
		if p.relu {
			reluMask(g, yo) // the ReLU passes no gradient where the output is not positive
		}
		for iy := p.rowLo[oy]; iy < p.rowHi[oy]; iy++ {
			for ix := p.colLo[ox]; ix < p.colHi[ox]; ix++ {
				i := (iy*p.w + ix) * c
				poolRoute(dx[i:i+c], x[i:i+c], yo, g)
			}
		}
	}
}
