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

Nesterov (nn/nesterov.go, airbench's torch.optim.SGD(nesterov=True) with decoupled decay) is
written out, in float32, for a parameter of group learning rate lr (lr, times bias_lr for
batch normalization's beta and gamma) and schedule factor f:

    d     = g + (weight_decay / lr) * w
    accum = accum * momentum + d                       slot <name>/Momentum
    w    -= lr * f * (d + momentum * accum)

A configuration with a schedule or an average (nn/schedule.go, nn/average.go) is its base
optimizer driven by Scheduled: the update that follows t updates runs at lr times
Schedule.factor(t, steps), then the lookahead average (slot <name>/ExponentialMovingAverage)
starts, moves and sets the weights as nn's does. steps is the run's length in the file's
configuration, which a continued run keeps (past it, the factor stays at "end").

Every optimizer skips the parameters in its frozen set (ids; train.py puts the whitening bias
there once the recipe freezes it): no update, no decay, no momentum, no average, as nn skips
a parameter whose Use is no longer Trained; their slots stay as they are.
"""

import math

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
        self.cfg, self.frozen = dict(cfg), set()
        self.b1, self.b2, self.eps = np.float32(cfg["beta1"]), np.float32(cfg["beta2"]), np.float32(cfg["epsilon"])
        self.t = step
        self.pow1, self.pow2 = beta_powers(self.b1, self.b2, step)
        for p, (m, v) in zip(self.param_groups[0]["params"], slots, strict=True):
            self.state[p]["m"], self.state[p]["v"] = m.clone(), v.clone()

    def step(self, closure=None):
        self.update(1.0)

    @torch.no_grad()
    def update(self, factor):
        """One update at the learning rate times factor (the schedule's)."""
        lr = np.float32(self.param_groups[0]["lr"] * factor)
        alpha = float(np.float32(lr * np.sqrt(np.float32(1) - self.pow2, dtype=np.float32)
                                 / (np.float32(1) - self.pow1)))
        c1, c2, eps = float(1 - self.b1), float(1 - self.b2), float(self.eps)
        for p in self.param_groups[0]["params"]:
            if id(p) in self.frozen:
                continue
            g, s = p.grad, self.state[p]
            m, v = s["m"], s["v"]
            m.add_((g - m) * c1)
            v.add_((g * g - v) * c2)
            p.sub_(m * alpha / (v.sqrt() + eps))
        self.t += 1
        self.pow1, self.pow2 = np.float32(self.pow1 * self.b1), np.float32(self.pow2 * self.b2)

    def slots(self):
        return [[self.state[p]["m"], self.state[p]["v"]] for p in self.param_groups[0]["params"]]


class Momentum(torch.optim.Optimizer):
    """tf.train.MomentumOptimizer (torch.optim.SGD's momentum, written out so that frozen
    parameters are skipped), its accumulators given (torch layout)."""

    def __init__(self, params, cfg, slots, step):
        super().__init__(params, dict(lr=cfg["lr"]))
        self.cfg, self.t, self.frozen = dict(cfg), step, set()
        for p, (acc,) in zip(self.param_groups[0]["params"], slots, strict=True):
            self.state[p]["momentum_buffer"] = acc.clone()

    def step(self, closure=None):
        self.update(1.0)

    @torch.no_grad()
    def update(self, factor):
        lr, mom = float(np.float32(self.cfg["lr"] * factor)), float(np.float32(self.cfg["momentum"]))
        for p in self.param_groups[0]["params"]:
            if id(p) in self.frozen:
                continue
            acc = self.state[p]["momentum_buffer"]
            acc.copy_(acc * mom + p.grad)
            p.sub_(acc * lr)
        self.t += 1

    def slots(self):
        return [[self.state[p]["momentum_buffer"]] for p in self.param_groups[0]["params"]]


class Nesterov(torch.optim.Optimizer):
    """nn's Nesterov SGD with decoupled weight decay and bias_lr (see the module doc), its
    accumulators given (torch layout); norm lists (ids) batch normalization's parameters."""

    def __init__(self, params, cfg, slots, step, norm=()):
        super().__init__(params, dict(lr=cfg["lr"]))
        self.cfg, self.t, self.frozen, self.norm = dict(cfg), step, set(), set(norm)
        for p, (acc,) in zip(self.param_groups[0]["params"], slots, strict=True):
            self.state[p]["momentum_buffer"] = acc.clone()

    def group_lr(self, p):
        """The unscheduled learning rate of p's group: lr, times bias_lr for batch
        normalization's offsets and scales."""
        bias = self.cfg.get("bias_lr", 0)
        return self.cfg["lr"] * bias if id(p) in self.norm and bias else self.cfg["lr"]

    def step(self, closure=None):
        self.update(1.0)

    @torch.no_grad()
    def update(self, factor):
        mom = float(np.float32(self.cfg["momentum"]))
        for p in self.param_groups[0]["params"]:
            if id(p) in self.frozen:
                continue
            lr = self.group_lr(p)
            step = float(np.float32(lr * factor))
            decay = float(np.float32(self.cfg.get("weight_decay", 0) / lr))
            acc = self.state[p]["momentum_buffer"]
            d = p.grad + p * decay  # each operation rounded to float32 on its own, as nn's
            acc.copy_(acc * mom + d)
            p.sub_((d + acc * mom) * step)
        self.t += 1

    def slots(self):
        return [[self.state[p]["momentum_buffer"]] for p in self.param_groups[0]["params"]]


def schedule_factor(s, t, steps):
    """nn.Schedule.Factor: the factor of the update that follows t updates of a run of steps."""
    peak = int(s["peak"] * steps)
    if t >= steps:
        return s["end"]
    if t < peak:
        return s["start"] + (1 - s["start"]) * t / peak
    return 1 + (s["end"] - 1) * (t - peak) / (steps - peak)


class Scheduled:
    """A base optimizer driven by the configuration's schedule and lookahead average, as nn's
    scheduled wrapper: slots are the base's, then the averages."""

    def __init__(self, base, cfg, params, averages):
        self.base, self.cfg, self.params = base, cfg, params
        self.avg = [a.clone() for a in averages] if cfg.get("average") else None

    @property
    def t(self):
        return self.base.t

    @property
    def frozen(self):
        return self.base.frozen

    @frozen.setter
    def frozen(self, ids):
        self.base.frozen = ids

    def zero_grad(self, set_to_none=False):
        self.base.zero_grad(set_to_none=set_to_none)

    def step(self):
        t, steps = self.base.t, self.cfg["steps"]
        s = self.cfg.get("schedule")
        self.base.update(schedule_factor(s, t, steps) if s else 1.0)
        if self.avg is not None:
            self.average(t + 1)

    @torch.no_grad()
    def average(self, s):
        """What the average calls for after s updates (nn/average.go): start it, move it and
        set the weights to it, or after the run's last update set the weights to it."""
        a, steps = self.cfg["average"], self.cfg["steps"]
        start = math.ceil(a["start"] * steps)
        first = max(a["every"], (start + a["every"] - 1) // a["every"] * a["every"])
        if s < first:
            return
        if s == first:
            for p, avg in self.live():
                avg.copy_(p)
        elif s % a["every"] == 0:
            rho = math.pow(a["decay"], a["every"]) * math.pow(s / steps, a["pow"])
            w = float(np.float32(1 - rho))
            for p, avg in self.live():
                avg.add_((p - avg) * w)
                p.copy_(avg)
        elif s == steps:
            for p, avg in self.live():
                p.copy_(avg)

    def live(self):
        """(parameter, average) of the parameters not frozen."""
        return [(p, a) for p, a in zip(self.params, self.avg) if id(p) not in self.frozen]

    def slots(self):
        base = self.base.slots()
        return base if self.avg is None else [b + [a] for b, a in zip(base, self.avg)]


OPTIMIZERS = {"adam": TF1Adam, "momentum": Momentum, "nesterov": Nesterov}


def new(cfg, params, slots, step, norm=()):
    """The optimizer cfg (a checkpoint's) describes over params (the trained ones), in the
    saved state: slots[i] holds parameter i's slots as checkpoint.slot_suffixes lists them.
    norm (Nesterov's bias_lr group) is batch normalization's parameters."""
    extra = {"norm": [id(p) for p in norm]} if cfg["kind"] == "nesterov" else {}
    if not cfg.get("schedule") and not cfg.get("average"):
        return OPTIMIZERS[cfg["kind"]](params, cfg, slots, step, **extra)
    n = 1 if cfg.get("average") else 0
    base = OPTIMIZERS[cfg["kind"]](params, cfg, [s[:len(s) - n] for s in slots], step, **extra)
    return Scheduled(base, cfg, params, [s[-1] for s in slots] if n else [])
