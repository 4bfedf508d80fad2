package gemm

// packB copies columns [j0, j0+cols) × rows [p0, p0+kc) of op(B) into one column panel of nr
// columns: dst[p*nr + j] = op(B)[p0+p][j0+j], columns past the end zero.
func packB(dst []float32, nr int, trans bool, b []float32, ldb, j0, cols, p0, kc int) {
	if !trans && cols == nr {
		packRows(dst, nr, b[p0*ldb+j0:], ldb, kc)
		return
	}
	if trans && cols == nr {
		packCols(dst, nr, b[j0*ldb+p0:], ldb, kc)
		return
	}
	packSlow(dst, nr, cols, !trans, b, ldb, j0, p0, kc)
}

// packCols transposes w rows of kc contiguous elements (row stride ld) into a panel of width w:
// dst[p*w + r] = src[r*ld + p].
func packCols(dst []float32, w int, src []float32, ld, kc int) {
	d := dst[:w*kc]
	for r := 0; r < w; r++ {
		row := src[r*ld : r*ld+kc : r*ld+kc]
		for p, v := range row {
			d[p*w+r] = v
		}
	}
}

// packRows copies kc rows of width w (row stride ld) one after the other: the case where
// the panel's w elements are already contiguous in memory.
func packRows(dst []float32, w int, src []float32, ld, kc int) {
	for p := 0; p < kc; p++ {
		copy(dst[p*w:p*w+w:p*w+w], src[p*ld:p*ld+w:p*ld+w])
	}
}

// packSlow is the general gather: dst[p*w + r] = x[r][p] for r < h, zero for h <= r < w,
// where x[r][p] is src[(i0+r)*ld + p0+p], or src[(p0+p)*ld + i0+r] when trans.
func packSlow(dst []float32, w, h int, trans bool, src []float32, ld, i0, p0, kc int) {
	for p := 0; p < kc; p++ {
		d := dst[p*w : p*w+w : p*w+w]
		for r := range d {
			switch {
			case r >= h:
				d[r] = 0
			case trans:
				d[r] = src[(p0+p)*ld+i0+r]
			default:
				d[r] = src[(i0+r)*ld+p0+p]
			}
		}
	}
}
