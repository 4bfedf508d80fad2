package app

import (
	"math"
	"strconv"
	"strings"
)

// Chart geometry, in SVG user units (the SVG scales to its box).
const (
	chartW      = 640
	chartH      = 240
	chartLeft   = 48 // room for the loss labels
	chartRight  = 12
	chartTop    = 10
	chartBottom = 26 // room for the step labels
	// chartMaxPoints bounds the points drawn per line; longer runs are sampled evenly.
	chartMaxPoints = 800
)

// chart is what the loss chart draws: two polylines (raw and smoothed) and axis ticks.
type chart struct {
	Raw, Smooth    string // SVG polyline points
	XTicks, YTicks []tick
}

// tick is one axis label at a position along its axis.
type tick struct {
	Pos   float64
	Label string
}

// Smooth is TensorBoard's smoothing: an exponential moving average with weight w, debiased
// so that the first points are not dragged towards zero.
func Smooth(xs []float32, w float64) []float64 {
	out := make([]float64, len(xs))
	var acc, norm float64
	for i, x := range xs {
		acc = acc*w + (1-w)*float64(x)
		norm = norm*w + (1 - w)
		out[i] = acc / norm
	}
	return out
}

// buildChart lays out losses (step first+i's loss at index i) against steps first..steps, so
// the line grows across the chart as the run advances; first is 0 unless the run was restored
// from a checkpoint. Non-finite losses are never in the list: the worker stops a run at the
// first one.
func buildChart(losses []float32, first, steps int, w float64) chart {
	var c chart
	if len(losses) == 0 {
		return c // the panel shows a sentence instead of empty axes
	}
	span := max(steps-first, len(losses), 2)
	lo, hi := lossRange(losses)
	x := func(i int) float64 {
		return chartLeft + float64(i)/float64(span-1)*(chartW-chartLeft-chartRight)
	}
	y := func(v float64) float64 {
		return chartTop + (hi-v)/(hi-lo)*(chartH-chartTop-chartBottom)
	}
	sm := Smooth(losses, w)
	stride := (len(losses) + chartMaxPoints - 1) / chartMaxPoints
	var raw, smooth strings.Builder
	for i := 0; i < len(losses); i += max(stride, 1) {
		point(&raw, x(i), y(float64(losses[i])))
		point(&smooth, x(i), y(sm[i]))
	}
	if n := len(losses); n > 0 && (n-1)%max(stride, 1) != 0 {
		point(&raw, x(n-1), y(float64(losses[n-1])))
		point(&smooth, x(n-1), y(sm[n-1]))
	}
	c.Raw, c.Smooth = raw.String(), smooth.String()
	ys, decimals := niceTicks(lo, hi, 5)
	for _, v := range ys {
		c.YTicks = append(c.YTicks, tick{Pos: y(v), Label: tickLabel(v, decimals)})
	}
	xs, _ := niceTicks(float64(first), float64(first+span-1), 6)
	for _, v := range xs {
		step := int(math.Round(v))
		c.XTicks = append(c.XTicks, tick{Pos: x(step - first), Label: strconv.Itoa(step)})
	}
	return c
}

// tickLabel writes a tick value exactly, or in short exponent form when it is large.
func tickLabel(v float64, decimals int) string {
	if math.Abs(v) >= 1e4 {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

func point(b *strings.Builder, x, y float64) {
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	b.WriteString(strconv.FormatFloat(x, 'f', 1, 64))
	b.WriteByte(',')
	b.WriteString(strconv.FormatFloat(y, 'f', 1, 64))
}

// lossRange is the y range: the losses' range with a little room, never empty.
func lossRange(losses []float32) (lo, hi float64) {
	if len(losses) == 0 {
		return 0, 1
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, l := range losses {
		lo, hi = math.Min(lo, float64(l)), math.Max(hi, float64(l))
	}
	pad := (hi - lo) * 0.05
	if pad == 0 {
		pad = 0.5
	}
	return math.Max(0, lo-pad), hi + pad
}

// niceTicks returns round values (1, 2 or 5 times a power of ten apart) inside [lo, hi],
// about n of them, and the number of decimals that writes them exactly.
func niceTicks(lo, hi float64, n int) ([]float64, int) {
	if !(hi > lo) || n < 2 {
		return nil, 0
	}
	raw := (hi - lo) / float64(n-1)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for k := math.Ceil(lo / step); k*step <= hi+step*1e-9; k++ {
		out = append(out, k*step)
	}
	return out, max(0, -int(math.Floor(math.Log10(step)+1e-9)))
}
