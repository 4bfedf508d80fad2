"""The optimizers of our checkpoints in PyTorch, with their slots restored from the file.

TF1Adam is tf.train.AdamOptimizer as TensorFlow 1's ApplyAdam kernel (and nn/adam.go) compute
it, in float32:

    lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
    m   += (g - m) * (1 - beta1)                       slot <name>/Adam
    v   += (g^2 - v) * (1 - beta2)                     slot <name>/Adam_1
    w   -= m * lr_t / (sqrt(v) + epsilon)

epsilon is added to the uncorrected sqrt(v): torch.optim.Adam adds it to the corrected one, so
it is not the same optimizer (they differ wherever |g| is below about 1e-4). beta^t is
TensorFlow's float32 product beta*beta*...*beta, replayed from global_step.

Momentum (the cs231n preset's) is tf.train.MomentumOptimizer, accum = accum*momentum + g;
w -= lr*accum, which is torch.optim.SGD with momentum (dampening 0, not Nesterov): its
momentum_buffer is our <name>/Momentum.
"""

import numpy as np
import torch


def beta_powers(b1, b2, t):
    """beta1^(t+1), beta2^(t+1) as TensorFlow's float32 variables hold them after t updates."""
    b1, b2 = np.float32(b1), np.float32(b2)
    p1, p2 = b1, b2
    for _ in range(t):
        n1, n2 = np.float32(p1 * b1), np.float32(p2 * b2)
        if n1 == p1 and n2 == p2:
            break  # a float32 fixed point: later steps change nothing
        p1, p2 = n1, n2
    return p1, p2


class TF1Adam(torch.optim.Optimizer):
    """TensorFlow 1's Adam on a list of parameters, its slots m and v given (torch layout)."""

    def __init__(self, params, cfg, slots, step):
        super().__init__(params, dict(lr=cfg["lr"]))
        self.cfg = dict(cfg)
        self.b1, self.b2, self.eps = np.float32(cfg["beta1"]), np.float32(cfg["beta2"]), np.float32(cfg["epsilon"])
        self.t = step
        self.pow1, self.pow2 = beta_powers(self.b1, self.b2, step)
        for p, (m, v) in zip(self.param_groups[0]["params"], slots):
            self.state[p]["m"], self.state[p]["v"] = m.clone(), v.clone()

    @torch.no_grad()
    def step(self, closure=None):
        lr = np.float32(self.param_groups[0]["lr"])
        alpha = float(np.float32(lr * np.sqrt(np.float32(1) - self.pow2, dtype=np.float32)
                                 / (np.float32(1) - self.pow1)))
        c1, c2, eps = float(1 - self.b1), float(1 - self.b2), float(self.eps)
        for p in self.param_groups[0]["params"]:
            g, s = p.grad, self.state[p]
            m, v = s["m"], s["v"]
            m.add_((g - m) * c1)
            v.add_((g * g - v) * c2)
            p.sub_(m * alpha / (v.sqrt() + eps))
        self.t += 1
        self.pow1, self.pow2 = np.float32(self.pow1 * self.b1), np.float32(self.pow2 * self.b2)

    def slots(self):
        return [[self.state[p]["m"], self.state[p]["v"]] for p in self.param_groups[0]["params"]]


class Momentum(torch.optim.SGD):
    """tf.train.MomentumOptimizer as torch.optim.SGD, its accumulators given (torch layout)."""

    def __init__(self, params, cfg, slots, step):
        super().__init__(params, lr=cfg["lr"], momentum=cfg["momentum"])
        self.cfg, self.t = dict(cfg), step
        for p, (acc,) in zip(self.param_groups[0]["params"], slots):
            self.state[p]["momentum_buffer"] = acc.clone()

    def step(self, closure=None):
        super().step(closure)
        self.t += 1

    def slots(self):
        return [[self.state[p]["momentum_buffer"]] for p in self.param_groups[0]["params"]]


OPTIMIZERS = {"adam": TF1Adam, "momentum": Momentum}


def new(cfg, params, slots, step):
    """The optimizer cfg (a checkpoint's) describes over params, in the saved state."""
    return OPTIMIZERS[cfg["kind"]](params, cfg, slots, step)
