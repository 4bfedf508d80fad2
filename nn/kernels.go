package nn

// Portable reference kernels. kernels_plain.go uses them directly; kernels_simd.go has
// simd/archsimd versions that perform the same operations in the same order, so on finite
// values the results are bit-identical up to the sign of zero (which the tests check; with NaN
// inputs the SIMD max may differ).

// The loops below are unrolled by four with full-slice expressions and explicit comparisons:
// Go's wasm backend turns every taken branch into a br_table, keeps bounds checks otherwise, and
// compiles the max builtin and even tiny helper calls into slow sequences; this form ran 2-6x
// faster there (PLATFORM.md), and as fast as the simple loops on amd64. Comparisons also give
// TF's semantics: a NaN never wins a max, and ReLU keeps -0 and NaN as they are.

// biasReLUGo adds the bias b (one value per channel, len(b) channels, rows of len(b)) to every
// row of y and, with relu, clamps negatives to zero. Fused so y is read and written once.
func biasReLUGo(y, b []float32, relu bool) {
	c := len(b)
	for r := 0; r+c <= len(y); r += c {
		row := y[r : r+c : r+c]
		j := 0
		for ; j+4 <= c; j += 4 {
			v, bb := row[j:j+4:j+4], b[j:j+4:j+4]
			v0, v1, v2, v3 := v[0]+bb[0], v[1]+bb[1], v[2]+bb[2], v[3]+bb[3]
			if relu {
				if v0 < 0 {
					v0 = 0
				}
				if v1 < 0 {
					v1 = 0
				}
				if v2 < 0 {
					v2 = 0
				}
				if v3 < 0 {
					v3 = 0
				}
			}
			v[0], v[1], v[2], v[3] = v0, v1, v2, v3
		}
		for ; j < c; j++ {
			v := row[j] + b[j]
			if relu && v < 0 {
				v = 0
			}
			row[j] = v
		}
	}
}

// reluMaskGo zeroes dy wherever the ReLU output y is not positive (TF's ReluGrad).
func reluMaskGo(dy, y []float32) {
	y = y[:len(dy)]
	i := 0
	for ; i+4 <= len(dy); i += 4 {
		d, v := dy[i:i+4:i+4], y[i:i+4:i+4]
		if !(v[0] > 0) {
			d[0] = 0
		}
		if !(v[1] > 0) {
			d[1] = 0
		}
		if !(v[2] > 0) {
			d[2] = 0
		}
		if !(v[3] > 0) {
			d[3] = 0
		}
	}
	for ; i < len(dy); i++ {
		if !(y[i] > 0) {
			dy[i] = 0
		}
	}
}

// addRowsGo adds every row of x (rows of len(acc)) into acc.
func addRowsGo(acc, x []float32) {
	c := len(acc)
	for r := 0; r+c <= len(x); r += c {
		row := x[r : r+c : r+c]
		j := 0
		for ; j+4 <= c; j += 4 {
			a, v := acc[j:j+4:j+4], row[j:j+4:j+4]
			a[0], a[1], a[2], a[3] = a[0]+v[0], a[1]+v[1], a[2]+v[2], a[3]+v[3]
		}
		for ; j < c; j++ {
			acc[j] += row[j]
		}
	}
}

// reluGo clamps negatives in x to zero.
func reluGo(x []float32) {
	for i, v := range x {
		if v < 0 {
			x[i] = 0
		}
	}
}

// poolMaxGo sets dst (one pooled pixel, len(dst) channels) to the maximum over the window cells
// of x starting at the offsets cells (in order, the first cell's value kept on ties), then
// clamps negatives to zero with relu. Four channels at a time stay in registers across cells.
func poolMaxGo(dst, x []float32, cells []int, relu bool) {
	c := len(dst)
	j := 0
	for ; j+4 <= c; j += 4 {
		o := cells[0] + j
		v := x[o : o+4 : o+4]
		m0, m1, m2, m3 := v[0], v[1], v[2], v[3]
		for _, o := range cells[1:] {
			v := x[o+j : o+j+4 : o+j+4]
			if v[0] > m0 {
				m0 = v[0]
			}
			if v[1] > m1 {
				m1 = v[1]
			}
			if v[2] > m2 {
				m2 = v[2]
			}
			if v[3] > m3 {
				m3 = v[3]
			}
		}
		d := dst[j : j+4 : j+4]
		d[0], d[1], d[2], d[3] = m0, m1, m2, m3
		if relu {
			reluGo(d)
		}
	}
	for ; j < c; j++ {
		m := x[cells[0]+j]
		for _, o := range cells[1:] {
			if v := x[o+j]; v > m {
				m = v
			}
		}
		if relu && m < 0 {
			m = 0
		}
		dst[j] = m
	}
}

// poolCells3 returns the offsets of the 3x3 window cells in row-major order, for rows of w
// pixels of c channels.
func poolCells3(w, c int) [9]int {
	r := w * c
	return [9]int{0, c, 2 * c, r, r + c, r + 2*c, 2 * r, 2*r + c, 2*r + 2*c}
}

// poolMax3RowGo pools n outputs of c channels whose 3x3 windows lie wholly inside x: output i
// (y[i*c:]) is poolMaxGo over the window whose top-left cell is pixel i*s of x, rows of w
// pixels.
func poolMax3RowGo(y, x []float32, n, s, w, c int, relu bool) {
	cells := poolCells3(w, c)
	for i := range n {
		poolMaxGo(y[i*c:(i+1)*c], x[i*s*c:], cells[:], relu)
	}
}

// poolRoute3RowGo routes the gradients dy of the n outputs y that poolMax3RowGo computed from
// x to the window cells of dx (laid out as x), output by output and cell by cell in order, as
// the general path does; g is scratch of c floats.
func poolRoute3RowGo(dx, x, y, dy, g []float32, n, s, w, c int, relu bool) {
	cells := poolCells3(w, c)
	for i := range n {
		yo := y[i*c : (i+1)*c]
		copy(g, dy[i*c:(i+1)*c])
		if relu {
			reluMaskGo(g, yo)
		}
		for _, o := range cells {
			o += i * s * c
			poolRouteGo(dx[o:o+c], x[o:o+c], yo, g)
		}
	}
}

// unfoldRunGo writes the im2col rows of n consecutive output pixels whose k×k patches (c
// channels, input rows of w pixels) lie inside the image: row i of dst is the patch whose
// top-left input pixel is pixel i of src.
func unfoldRunGo(dst, src []float32, n, w, c, k int) {
	kc, row := k*c, k*k*c
	for i := range n {
		for kh := range k {
			o := (kh*w + i) * c
			copy(dst[i*row+kh*kc:i*row+(kh+1)*kc], src[o:o+kc])
		}
	}
}

// addScaledGo sets dst += a*x (weight decay into the gradients).
func addScaledGo(dst, x []float32, a float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] += a * v
	}
}

// colSummer sums the rows of a gradient (the bias gradient) per example in float32, then across
// examples in float64, so that batch-128 sums of 70,000 rows keep float32 accuracy.
type colSummer struct {
	part []float32
	acc  []float64
}

func newColSummer(c int) colSummer {
	return colSummer{part: make([]float32, c), acc: make([]float64, c)}
}

// sum sets dst[j] = sum of column j of x, x holding n examples of rows rows each.
func (s *colSummer) sum(dst, x []float32, n, rows int) {
	c := len(s.part)
	clear(s.acc)
	for e := 0; e < n; e++ {
		clear(s.part)
		addRows(s.part, x[e*rows*c:(e+1)*rows*c])
		for j, v := range s.part {
			s.acc[j] += float64(v)
		}
	}
	for j, v := range s.acc {
		dst[j] = float32(v)
	}
}

// poolRouteGo passes the remaining gradient g of one pooled pixel to the window cell x (its
// gradient dx) in every channel where x holds the pooled maximum y, and clears g there, so each
// output's gradient lands on the first maximal cell of its window only (TF's tie rule).
func poolRouteGo(dx, x, y, g []float32) {
	x, y, g = x[:len(dx)], y[:len(dx)], g[:len(dx)]
	i := 0
	for ; i+4 <= len(dx); i += 4 {
		d, xv, yv, gv := dx[i:i+4:i+4], x[i:i+4:i+4], y[i:i+4:i+4], g[i:i+4:i+4]
		if xv[0] == yv[0] {
			d[0] += gv[0]
			gv[0] = 0
		}
		if xv[1] == yv[1] {
			d[1] += gv[1]
			gv[1] = 0
		}
		if xv[2] == yv[2] {
			d[2] += gv[2]
			gv[2] = 0
		}
		if xv[3] == yv[3] {
			d[3] += gv[3]
			gv[3] = 0
		}
	}
	for ; i < len(dx); i++ {
		if x[i] == y[i] {
			dx[i] += g[i]
			g[i] = 0
		}
	}
}
