//go:build goexperiment.simd && (amd64 || wasm)

package nn

// geluForward is geluForwardGo four lanes at a time (see kernels_simd.go for the rules).
func geluForward(x, y []float32) {
	if !useSIMD {
		geluForwardGo(x, y)
		return
	}
	y = y[:len(x)]
	k := &geluK
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := load(x[i:])
		h := v.Mul(k.half)
		h.Add(h.Mul(k.erf(v.Mul(k.invSqrt2)))).Store(y[i:])
	}
	geluForwardGo(x[i:], y[i:])
}

// geluBackward is geluBackwardGo four lanes at a time.
func geluBackward(x, dy, dx []float32) {
	if !useSIMD {
		geluBackwardGo(x, dy, dx)
		return
	}
	dy, dx = dy[:len(x)], dx[:len(x)]
	k := &geluK
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := load(x[i:])
		cdf := k.half.Add(k.half.Mul(k.erf(v.Mul(k.invSqrt2))))
		xc := v.Max(k.negPhi).Min(k.phi)
		load(dy[i:]).Mul(cdf.Add(xc.Mul(k.invSqrt2Pi).Mul(k.expNeg(xc)))).Store(dx[i:])
	}
	geluBackwardGo(x[i:], dy[i:], dx[i:])
}

// geluK holds the kernels' constants, broadcast once (when the CPU has the SIMD kernels).
var geluK geluConsts

func init() {
	if useSIMD {
		geluK = makeGELUConsts()
	}
}

// geluConsts holds the GELU kernels' constants as vectors.
type geluConsts struct {
	half, one, negOne, invSqrt2, invSqrt2Pi vec
	erfHi, erfLo, phi, negPhi, scale        vec
	num                                     [7]vec
	den                                     [5]vec
	taylor                                  [7]vec // 1/7!, 1/6!, ..., 1/2, 1
}

func makeGELUConsts() geluConsts {
	k := geluConsts{half: bcast(0.5), one: bcast(1), negOne: bcast(-1), invSqrt2: bcast(invSqrt2f),
		invSqrt2Pi: bcast(invSqrt2Pif), erfHi: bcast(erfClamp), erfLo: bcast(-erfClamp),
		phi: bcast(phiClamp), negPhi: bcast(-phiClamp), scale: bcast(-1.0 / 128)}
	for i, c := range erfNum {
		k.num[i] = bcast(c)
	}
	for i, c := range erfDen {
		k.den[i] = bcast(c)
	}
	for i, c := range [7]float32{1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 1.0 / 2, 1} {
		k.taylor[i] = bcast(c)
	}
	return k
}

// erf is erf32 on four lanes.
func (k *geluConsts) erf(z vec) vec {
	z = z.Max(k.erfLo).Min(k.erfHi)
	z2 := z.Mul(z)
	p := k.num[0]
	for _, c := range k.num[1:] {
		p = p.Mul(z2).Add(c)
	}
	q := k.den[0]
	for _, c := range k.den[1:] {
		q = q.Mul(z2).Add(c)
	}
	return z.Mul(p).Div(q).Max(k.negOne).Min(k.one)
}

// expNeg is expNeg32 on four lanes.
func (k *geluConsts) expNeg(x vec) vec {
	u := x.Mul(x).Mul(k.scale)
	e := k.taylor[0]
	for _, c := range k.taylor[1:] {
		e = e.Mul(u).Add(c)
	}
	e = e.Mul(u).Add(k.one)
	for range 6 {
		e = e.Mul(e)
	}
	return e
}
