package nn

// TTA is a level of test-time augmentation: the model also sees transformed copies of each
// test image and its prediction is the weighted mean of their logits (airbench's tta_level).
type TTA int

// TTA levels. Each includes the ones before it, and an evaluation at a level reports every
// level up to it (EvaluateViews), so the plain figure always comes with the augmented one.
const (
	TTANone          TTA = iota // the image alone
	TTAFlip                     // 1/2 the image + 1/2 its mirror image
	TTAFlipTranslate            // 1/2 the flip level + 1/4 each of the flip level shifted one pixel up-left and down-right
)

// String names the level for logs and reports.
func (l TTA) String() string {
	switch l {
	case TTANone:
		return "plain"
	case TTAFlip:
		return "flip"
	case TTAFlipTranslate:
		return "flip+translate"
	}
	return "tta?"
}

// views holds an evaluation's augmented copies of a batch and the logits of each, allocated
// once per evaluation.
type views struct {
	h, w, c int
	image   []float32   // one transformed batch
	logits  [][]float32 // per view: batch x classes
	level   [][]float32 // per level: the combined logits
}

func newViews(level TTA, in [3]int, batch, classes int) *views {
	v := &views{h: in[0], w: in[1], c: in[2]}
	if level > TTANone {
		v.image = make([]float32, batch*in[0]*in[1]*in[2])
	}
	for range 6 {
		v.logits = append(v.logits, make([]float32, batch*classes))
	}
	for range level + 1 {
		v.level = append(v.level, make([]float32, batch*classes))
	}
	return v
}

// The views of the flip+translate level, in the order their logits are kept.
var viewShifts = [...]struct {
	dy, dx int
	flip   bool
}{
	{0, 0, false}, {0, 0, true}, // the image and its mirror (TTAFlip)
	{-1, -1, false}, {-1, -1, true}, // shifted down-right by one: pixel (y, x) shows (y-1, x-1)
	{1, 1, false}, {1, 1, true}, // shifted up-left by one
}

// logits runs t on every view of images (n examples) that level needs, and combines them into
// v.level[0..level]: the plain logits, 1/2 plain + 1/2 mirrored, then 1/2 of that + 1/4 of
// each shifted pair (airbench's weights).
func (v *views) run(t *Trainer, images []float32, n int, level TTA) {
	classes := t.model.spec.Classes
	count := []int{1, 2, 6}[level]
	size := v.h * v.w * v.c
	for i, s := range viewShifts[:count] {
		x := images
		if i > 0 {
			x = v.image[:n*size]
			for e := range n {
				shiftFlip(x[e*size:(e+1)*size], images[e*size:(e+1)*size], v.h, v.w, v.c, s.dy, s.dx, s.flip)
			}
		}
		copy(v.logits[i], t.Logits(x))
	}
	m := n * classes
	copy(v.level[0][:m], v.logits[0][:m])
	if level >= TTAFlip {
		mean2(v.level[1][:m], v.logits[0], v.logits[1])
	}
	if level >= TTAFlipTranslate {
		out := v.level[2][:m]
		for i := range out {
			ul := float32(0.5*v.logits[2][i]) + float32(0.5*v.logits[3][i])
			dr := float32(0.5*v.logits[4][i]) + float32(0.5*v.logits[5][i])
			shifted := float32(0.5*ul) + float32(0.5*dr)
			out[i] = float32(0.5*v.level[1][i]) + float32(0.5*shifted)
		}
	}
}

// mean2 sets dst to (a + b)/2 as airbench writes it, 0.5a + 0.5b, rounded the same everywhere.
func mean2(dst, a, b []float32) {
	for i := range dst {
		dst[i] = float32(0.5*a[i]) + float32(0.5*b[i])
	}
}

// shiftFlip writes src (h x w x c, HWC) shifted by (dy, dx) into dst: pixel (y, x) of dst is
// pixel (y+dy, x+dx) of src, reflected at the borders without repeating the edge (torch's
// reflect padding), then mirrored left-right when flip is set.
func shiftFlip(dst, src []float32, h, w, c, dy, dx int, flip bool) {
	for y := range h {
		sy := reflectIndex(y+dy, h)
		for x := range w {
			sx := x
			if flip {
				sx = w - 1 - x
			}
			sx = reflectIndex(sx+dx, w)
			copy(dst[(y*w+x)*c:(y*w+x+1)*c], src[(sy*w+sx)*c:(sy*w+sx+1)*c])
		}
	}
}

// reflectIndex maps v, at most n-1 beyond either end of 0..n-1, back inside by mirroring about
// the edge: -1 -> 1, n -> n-2.
func reflectIndex(v, n int) int {
	switch {
	case v < 0:
		return -v
	case v >= n:
		return 2*(n-1) - v
	}
	return v
}
