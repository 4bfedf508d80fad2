package nn

import (
	"math"

	"cifar10/nn/shard"
)

// KindBatchNorm is batch normalization over the examples of each shard, per channel.
const KindBatchNorm LayerKind = "batchnorm"

func init() {
	registerKind(KindBatchNorm, kind{
		outShape: func(l LayerSpec, in [3]int) ([3]int, error) {
			if !(l.Momentum > 0 && l.Momentum <= 1) || !(l.Epsilon > 0) {
				return [3]int{}, l.errorf("momentum %g must be in (0, 1] and epsilon %g positive", l.Momentum, l.Epsilon)
			}
			return in, nil
		},
		params: batchNormParams,
		init: func(l LayerSpec, ps []*Param, _ *initRand) {
			for _, p := range ps {
				switch p.Name {
				case l.Name + "/gamma", l.Name + "/moving_variance":
					fill(p.Data(), 1)
				case l.Name + "/beta":
					fill(p.Data(), float32(l.BiasInit))
				}
			}
		},
		build: func(l LayerSpec, c layerConfig) layer {
			return newBatchNorm(l, c)
		},
	})
}

// batchNormParams lists TensorFlow's names: gamma (only with Scale), beta, and the running
// statistics moving_mean and moving_variance, which are Statistics, never trained.
func batchNormParams(l LayerSpec, in [3]int) []paramShape {
	c := []int{in[2]}
	var ps []paramShape
	if l.Scale {
		ps = append(ps, paramShape{name: l.Name + "/gamma", shape: c, norm: true})
	}
	return append(ps,
		paramShape{name: l.Name + "/beta", shape: c, norm: true},
		paramShape{name: l.Name + "/moving_mean", shape: c, use: Statistic},
		paramShape{name: l.Name + "/moving_variance", shape: c, use: Statistic})
}

// batchNorm normalizes each channel to zero mean and unit variance, then scales by gamma (1
// without Scale) and adds beta.
//
// Training passes normalize by the statistics of a group of examples: the groups are the
// shards of nn/shard (shard.Bounds of the call's examples), so a worker given one shard
// normalizes over exactly that shard and a trainer given the whole batch over the same
// groups — "ghost" batch normalization whose result does not depend on how many workers
// share the batch. Within a group the mean and the (biased) variance are summed in float64 in
// a fixed order, two passes; each group is one part of the parallel loop.
//
// Evaluation passes normalize by the running statistics. Those follow the batches without
// crossing workers on their own: the backward pass writes each group's mean and unbiased
// variance, times its examples times the pass's gradient scale (1/batch), into the gradient
// slots of moving_mean and moving_variance. The shard tree sums those slots with every
// gradient, in its fixed order, so after the sum they hold the mean over the batch's shards
// of their statistics, the same bits for any number of workers; Trainer.Apply then folds them
// in: running = (1-momentum)·running + momentum·sum.
//
// The output is y = a·x + b per channel, with a and b of the group; the backward pass is
// dx = A·dy + B·x + C, its coefficients from the group's sums of dy and dy·x̂ (x̂ the
// normalized input), also in float64.
type batchNorm struct {
	r              *runner
	pass           *pass
	gamma, beta    *Param // gamma nil without Scale
	mean, variance *Param // running statistics
	momentum, eps  float64
	pix, c         int
	groupOf        []int       // the group of each example of the last call
	bounds         [][2]int    // each group's examples [lo, hi)
	gMean, gVar    [][]float64 // per group: mean and biased variance of each channel
	a, b           [][]float32 // per group: y = a·x + b (evaluation: group 0)
	sdy, sdyx      [][]float64 // per group: sums of dy and dy·x̂ of each channel
	k              [][]float32 // per group: A, B, C of each channel, back to back
	groups         int
	x, y, dy, dx   []float32
	fnStats        func(part, lo, hi int)
	fnApply        func(part, lo, hi int)
	fnSums         func(part, lo, hi int)
	fnDx           func(part, lo, hi int)
}

func newBatchNorm(l LayerSpec, c layerConfig) *batchNorm {
	bn := &batchNorm{r: c.r, pass: c.pass, momentum: l.Momentum, eps: l.Epsilon, pix: c.in[0] * c.in[1], c: c.in[2]}
	ps := c.params
	if l.Scale {
		bn.gamma, ps = ps[0], ps[1:]
	}
	bn.beta, bn.mean, bn.variance = ps[0], ps[1], ps[2]
	most := shard.Count(c.batch)
	bn.groupOf = make([]int, c.batch)
	bn.bounds = make([][2]int, most)
	per64 := func() [][]float64 {
		s := make([][]float64, most)
		for i := range s {
			s[i] = make([]float64, bn.c)
		}
		return s
	}
	per32 := func(k int) [][]float32 {
		s := make([][]float32, most)
		for i := range s {
			s[i] = make([]float32, k*bn.c)
		}
		return s
	}
	bn.gMean, bn.gVar, bn.sdy, bn.sdyx = per64(), per64(), per64(), per64()
	bn.a, bn.b, bn.k = per32(1), per32(1), per32(3)
	bn.fnStats, bn.fnApply, bn.fnSums, bn.fnDx = bn.statsRange, bn.applyRange, bn.sumsRange, bn.dxRange
	return bn
}

// group splits n examples into the shards of nn/shard.
func (bn *batchNorm) group(n int) {
	bn.groups = shard.Count(n)
	for g := range bn.groups {
		lo, hi := shard.Bounds(n, bn.groups, g)
		bn.bounds[g] = [2]int{lo, hi}
		for e := lo; e < hi; e++ {
			bn.groupOf[e] = g
		}
	}
}

// scaleOf is gamma[j], 1 without Scale.
func (bn *batchNorm) scaleOf(j int) float64 {
	if bn.gamma == nil {
		return 1
	}
	return float64(bn.gamma.Data()[j])
}

func (bn *batchNorm) forward(x, y []float32, n int) {
	bn.x, bn.y = x, y
	if bn.pass.train {
		bn.group(n)
		bn.r.parallel(bn.groups, bn.fnStats)
	} else {
		bn.groups = 1
		clear(bn.groupOf[:n])
		rm, rv, beta := bn.mean.Data(), bn.variance.Data(), bn.beta.Data()
		for j := range bn.c {
			a := bn.scaleOf(j) / math.Sqrt(float64(rv[j])+bn.eps)
			bn.a[0][j], bn.b[0][j] = float32(a), float32(float64(beta[j])-float64(rm[j])*a)
		}
	}
	bn.r.parallel(n, bn.fnApply)
}

// statsRange computes the statistics and the output coefficients of groups lo..hi-1.
func (bn *batchNorm) statsRange(_, lo, hi int) {
	beta := bn.beta.Data()
	for g := lo; g < hi; g++ {
		m, v := bn.gMean[g], bn.gVar[g]
		x := bn.x[bn.bounds[g][0]*bn.pix*bn.c : bn.bounds[g][1]*bn.pix*bn.c]
		channelMeanVar(x, m, v)
		for j := range bn.c {
			a := bn.scaleOf(j) / math.Sqrt(v[j]+bn.eps)
			bn.a[g][j], bn.b[g][j] = float32(a), float32(float64(beta[j])-m[j]*a)
		}
	}
}

// channelMeanVar sets the mean and the biased variance of each channel of the pixels x
// (len(m) channels), summed in float64 in pixel order, two passes.
func channelMeanVar(x []float32, m, v []float64) {
	c := len(m)
	clear(m)
	clear(v)
	for o := 0; o+c <= len(x); o += c {
		for j, t := range x[o : o+c] {
			m[j] += float64(t)
		}
	}
	count := float64(len(x) / c)
	for j := range m {
		m[j] /= count
	}
	for o := 0; o+c <= len(x); o += c {
		for j, t := range x[o : o+c] {
			d := float64(t) - m[j]
			v[j] += d * d
		}
	}
	for j := range v {
		v[j] /= count
	}
}

func (bn *batchNorm) applyRange(_, lo, hi int) {
	size := bn.pix * bn.c
	for e := lo; e < hi; e++ {
		g := bn.groupOf[e]
		scaleShift(bn.y[e*size:(e+1)*size], bn.x[e*size:(e+1)*size], bn.a[g], bn.b[g])
	}
}

// scaleShift sets y = a·x + b per channel over pixels of len(a) channels.
func scaleShift(y, x, a, b []float32) {
	c := len(a)
	y = y[:len(x)]
	for o := 0; o+c <= len(x); o += c {
		yy, xx := y[o:o+c], x[o:o+c]
		for j, t := range xx {
			yy[j] = a[j]*t + b[j]
		}
	}
}

func (bn *batchNorm) backward(x, y, dy, dx []float32, n int) {
	bn.x, bn.dy, bn.dx = x, dy, dx
	bn.r.parallel(bn.groups, bn.fnSums)
	// The parameters' gradients and the statistics: every group's part, in group order.
	scale := float64(bn.pass.scale)
	dbeta, dmean, dvar := bn.beta.GradData(), bn.mean.GradData(), bn.variance.GradData()
	var dgamma []float32
	if bn.gamma != nil {
		dgamma = bn.gamma.GradData()
	}
	for j := range bn.c {
		var sb, sg, sm, sv float64
		for g := range bn.groups {
			sb += bn.sdy[g][j]
			sg += bn.sdyx[g][j]
			count := float64(bn.bounds[g][1] - bn.bounds[g][0])
			p := count * float64(bn.pix)
			sm += bn.gMean[g][j] * count * scale
			sv += bn.gVar[g][j] * p / max(p-1, 1) * count * scale // unbiased, as PyTorch keeps it
		}
		dbeta[j], dmean[j], dvar[j] = float32(sb), float32(sm), float32(sv)
		if dgamma != nil {
			dgamma[j] = float32(sg)
		}
	}
	if dx != nil {
		bn.r.parallel(n, bn.fnDx)
	}
}

// sumsRange sums dy and dy·x̂ over each of the groups lo..hi-1 and makes its input-gradient
// coefficients: with s = gamma/σ and P values per channel in the group,
// dx = s·(dy - Σdy/P - x̂·Σdy·x̂/P) = A·dy + B·x + C, A = s, B = -s·Σdy·x̂/(σP),
// C = -s·Σdy/P - B·mean.
func (bn *batchNorm) sumsRange(_, lo, hi int) {
	c := bn.c
	for g := lo; g < hi; g++ {
		a0, a1 := bn.bounds[g][0]*bn.pix*c, bn.bounds[g][1]*bn.pix*c
		x, dy := bn.x[a0:a1], bn.dy[a0:a1]
		m, sdy, sdyx := bn.gMean[g], bn.sdy[g], bn.sdyx[g]
		clear(sdy)
		clear(sdyx)
		for o := 0; o+c <= len(x); o += c {
			xx, gg := x[o:o+c], dy[o:o+c]
			for j, d := range gg {
				t := float64(d)
				sdy[j] += t
				sdyx[j] += t * (float64(xx[j]) - m[j])
			}
		}
		p := float64(len(x) / c)
		k := bn.k[g]
		for j := range c {
			inv := 1 / math.Sqrt(bn.gVar[g][j]+bn.eps)
			sdyx[j] *= inv // Σ dy·x̂
			s := bn.scaleOf(j) * inv
			b := -s * sdyx[j] * inv / p
			k[j], k[c+j], k[2*c+j] = float32(s), float32(b), float32(-s*sdy[j]/p-b*m[j])
		}
	}
}

func (bn *batchNorm) dxRange(_, lo, hi int) {
	size, c := bn.pix*bn.c, bn.c
	for e := lo; e < hi; e++ {
		k := bn.k[bn.groupOf[e]]
		bnInputGrad(bn.dx[e*size:(e+1)*size], bn.dy[e*size:(e+1)*size], bn.x[e*size:(e+1)*size], k[:c], k[c:2*c], k[2*c:])
	}
}

// bnInputGrad sets dx = A·dy + B·x + C per channel over pixels of len(a) channels.
func bnInputGrad(dx, dy, x, a, b, c []float32) {
	n := len(a)
	dy, dx = dy[:len(x)], dx[:len(x)]
	for o := 0; o+n <= len(x); o += n {
		d, g, xx := dx[o:o+n], dy[o:o+n], x[o:o+n]
		for j, t := range xx {
			d[j] = a[j]*g[j] + b[j]*t + c[j]
		}
	}
}

// fold merges the batch statistics summed into the gradient slots of the running statistics
// (see batchNorm) into them: running = (1-momentum)·running + momentum·batch, in float32.
func (bn *batchNorm) fold() {
	m := float32(bn.momentum)
	for _, p := range []*Param{bn.mean, bn.variance} {
		v, g := p.Data(), p.GradData()
		for i, s := range g {
			v[i] = (1-m)*v[i] + m*s
		}
	}
}
