package nn

// KindGlobalMaxPool is max pooling over the whole image: HxWxC -> 1x1xC.
const KindGlobalMaxPool LayerKind = "globalmaxpool"

func init() {
	registerKind(KindGlobalMaxPool, kind{
		outShape: func(l LayerSpec, in [3]int) ([3]int, error) { return [3]int{1, 1, in[2]}, nil },
		build: func(l LayerSpec, c layerConfig) layer {
			return newGlobalMaxPool(c.in, c.r)
		},
	})
}

// globalMaxPool takes each channel's largest value over all pixels (airbench's last pooling,
// there a 3x3 window over a 3x3 map). The backward pass routes each channel's gradient to the
// first pixel, in row-major order, holding the maximum (TensorFlow's tie rule, as maxpool),
// found again by comparison with the output instead of a stored index.
type globalMaxPool struct {
	r            *runner
	pix, c       int
	x, y, dy, dx []float32
	fnFwd, fnBwd func(part, lo, hi int)
	done         [][]bool // per part: channels already routed
}

func newGlobalMaxPool(in [3]int, r *runner) *globalMaxPool {
	p := &globalMaxPool{r: r, pix: in[0] * in[1], c: in[2]}
	p.fnFwd, p.fnBwd = p.forwardRange, p.backwardRange
	p.done = make([][]bool, r.threads)
	for i := range p.done {
		p.done[i] = make([]bool, p.c)
	}
	return p
}

func (p *globalMaxPool) forward(x, y []float32, n int) {
	p.x, p.y = x, y
	p.r.parallel(n, p.fnFwd)
}

func (p *globalMaxPool) forwardRange(_, lo, hi int) {
	in := p.pix * p.c
	for e := lo; e < hi; e++ {
		globalMax(p.y[e*p.c:(e+1)*p.c], p.x[e*in:(e+1)*in])
	}
}

// globalMax sets y[c] to the largest x[i*C+c].
func globalMax(y, x []float32) {
	c := len(y)
	copy(y, x[:c])
	for o := c; o+c <= len(x); o += c {
		row := x[o : o+c]
		for j, v := range row {
			y[j] = max(y[j], v)
		}
	}
}

func (p *globalMaxPool) backward(x, y, dy, dx []float32, n int) {
	if dx == nil {
		return
	}
	p.x, p.y, p.dy, p.dx = x, y, dy, dx
	p.r.parallel(n, p.fnBwd)
}

func (p *globalMaxPool) backwardRange(part, lo, hi int) {
	in := p.pix * p.c
	for e := lo; e < hi; e++ {
		o := e * p.c
		globalMaxRoute(p.dx[e*in:(e+1)*in], p.x[e*in:(e+1)*in], p.y[o:o+p.c], p.dy[o:o+p.c], p.done[part])
	}
}

// globalMaxRoute sets dx to zero but at each channel's first maximum, which gets dy.
func globalMaxRoute(dx, x, y, dy []float32, done []bool) {
	c := len(y)
	clear(dx)
	clear(done)
	for o := 0; o+c <= len(x); o += c {
		row, d := x[o:o+c], dx[o:o+c]
		for j, v := range row {
			if !done[j] && v == y[j] {
				d[j], done[j] = dy[j], true
			}
		}
	}
}
