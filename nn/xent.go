package nn

import (
	"fmt"
	"math"
)

// softmaxXent is sparse softmax cross-entropy on the logits (tf.nn.sparse_softmax_cross_entropy_
// with_logits). The loss of example i is log(sum_j exp(z_j)) - z_label, computed in float64 after
// subtracting the largest logit; its gradient is softmax(z) - onehot(label), scaled.
type softmaxXent struct {
	classes int
	prob    []float32 // softmax of the last forward, batch x classes
	exp     []float64 // scratch: exp(z - max) of one example
}

func newSoftmaxXent(classes, batch int) *softmaxXent {
	return &softmaxXent{classes: classes, prob: make([]float32, batch*classes), exp: make([]float64, classes)}
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
		total += math.Log(sum) - (float64(z[lab]) - float64(m))
	}
	return total
}

// backward sets dz = scale * (softmax - onehot) for each example of the last forward.
func (l *softmaxXent) backward(dz []float32, labels []uint8, scale float32) {
	c := l.classes
	for i, lab := range labels {
		p := l.prob[i*c : (i+1)*c]
		d := dz[i*c : (i+1)*c]
		for j, v := range p {
			d[j] = v * scale
		}
		d[lab] = (p[lab] - 1) * scale
	}
}
