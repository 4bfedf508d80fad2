package nn

import (
	"fmt"
	"math"
)

// softmaxXent is sparse softmax cross-entropy on the logits (tf.nn.sparse_softmax_cross_entropy_
// with_logits), with optional label smoothing. The loss of example i is -sum_j t_j log softmax(z)_j
// with the target t = (1-eps)*onehot(label) + eps/C (eps = 0: log(sum_j exp(z_j)) - z_label),
// computed in float64 after subtracting the largest logit; its gradient is softmax(z) - t, scaled.
// eps is Recipe.LabelSmoothing, PyTorch's CrossEntropyLoss(label_smoothing) and airbench's 0.2.
type softmaxXent struct {
	classes int
	eps     float64   // label smoothing
	prob    []float32 // softmax of the last forward, batch x classes
	exp     []float64 // scratch: exp(z - max) of one example
}

func newSoftmaxXent(classes, batch int, smoothing float64) *softmaxXent {
	return &softmaxXent{classes: classes, eps: smoothing, prob: make([]float32, batch*classes), exp: make([]float64, classes)}
}

// forward returns the sum over the n examples of their cross-entropy and keeps the softmax.
func (l *softmaxXent) forward(logits []float32, labels []uint8) float64 {
	c := l.classes
	total := 0.0
	for i, lab := range labels {
		if int(lab) >= c {
			panic(fmt.Sprintf("nn: label %d of example %d is not below the %d classes", lab, i, c))
		}
		z := logits[i*c : (i+1)*c]
		p := l.prob[i*c : (i+1)*c]
		m := z[0]
		for _, v := range z[1:] {
			m = max(m, v)
		}
		sum := 0.0
		for j, v := range z {
			l.exp[j] = math.Exp(float64(v) - float64(m))
			sum += l.exp[j]
		}
		for j, e := range l.exp {
			p[j] = float32(e / sum)
		}
		total += math.Log(sum) - l.target(z, m, lab)
	}
	return total
}

// target is sum_j t_j (z_j - m), the part of an example's loss its target picks out of the
// shifted logits; without smoothing exactly z_label - m, as before smoothing existed.
func (l *softmaxXent) target(z []float32, m float32, lab uint8) float64 {
	picked := float64(z[lab]) - float64(m)
	if l.eps == 0 {
		return picked
	}
	spread := 0.0
	for _, v := range z {
		spread += float64(v) - float64(m)
	}
	return (1-l.eps)*picked + l.eps/float64(l.classes)*spread
}

// backward sets dz = scale * (softmax - target) for each example of the last forward. Without
// smoothing off is 0 and on is 1, so the bits are those of scale * (softmax - onehot).
func (l *softmaxXent) backward(dz []float32, labels []uint8, scale float32) {
	c := l.classes
	off := float32(l.eps / float64(c))
	on := float32(1 - l.eps + l.eps/float64(c))
	for i, lab := range labels {
		p := l.prob[i*c : (i+1)*c]
		d := dz[i*c : (i+1)*c]
		for j, v := range p {
			d[j] = (v - off) * scale
		}
		d[lab] = (p[lab] - on) * scale
	}
}
