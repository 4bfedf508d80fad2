"""Unit tests of the PyTorch side against TensorFlow's reference numbers and the format's rules.

    cd interop/pytorch && /usr/bin/python3 -m unittest -v test_interop

The reference (shared/reference/tf-cifar10-fixture beside the repository, or
$CIFAR10_REFERENCE) holds TensorFlow's activations, gradients and one Adam step of the tutorial
model; without it those tests say SKIP and why. The Go tests (interop_test.go) run this file.
"""

import json
import math
import os
import struct
import tempfile
import unittest

import numpy as np
import torch
import torch.nn.functional as F

import checkpoint
import evaluate
import model
import optim

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.environ.get("CIFAR10_REFERENCE") or os.path.join(
    HERE, "..", "..", "..", "shared", "reference", "tf-cifar10-fixture")


def reference(name):
    with open(os.path.join(REFERENCE, "manifest.json")) as fh:
        shapes = {t["file"]: t["shape"] for t in json.load(fh)["tensors"]}
    dtype = "<i4" if name.endswith(".i32") else "<f4"
    return np.fromfile(os.path.join(REFERENCE, name), dtype=dtype).reshape(shapes.get(name, [-1]))


def reference_net():
    """The tutorial model with the reference's parameters, read as a checkpoint would be."""
    net = model.Net("cifar10")
    with torch.no_grad():
        for key, p, layout in net.tf_params():
            p.copy_(torch.from_numpy(checkpoint.LAYOUTS[layout][0](reference("params/" + key.replace("/", "_") + ".f32"))))
    return net


@unittest.skipUnless(os.path.isfile(os.path.join(REFERENCE, "manifest.json")),
                     f"SKIP: TensorFlow reference fixture not found at {REFERENCE} (set CIFAR10_REFERENCE)")
class AgainstTensorFlow(unittest.TestCase):
    def test_activations_and_logits(self):
        net = reference_net()
        x = torch.from_numpy(reference("input/images.f32"))
        acts, h = {}, x.permute(0, 3, 1, 2)
        for layer, spec in zip(net.layers, net.spec["layers"]):
            h = layer(h)
            acts[spec["name"]] = h
        for ours, theirs in (("conv1", "conv1"), ("pool1", "pool1"), ("norm1", "norm1"), ("conv2", "conv2"),
                             ("norm2", "norm2"), ("pool2", "pool2")):
            got = acts[ours][0].permute(1, 2, 0).detach().numpy()  # example 0, HWC
            np.testing.assert_allclose(got, reference(f"activations/{theirs}.f32").reshape(got.shape), atol=2e-5, err_msg=ours)
        z = net(x).detach().numpy()
        np.testing.assert_allclose(z, reference("forward/logits.f32").reshape(z.shape), atol=1e-5)

    def test_loss_gradients_and_one_tf1_adam_step(self):
        net = reference_net()
        x = torch.from_numpy(reference("input/images.f32"))
        y = torch.from_numpy(reference("input/labels.i32").astype(np.int64))
        loss = F.cross_entropy(net(x), y) + net.decay()
        self.assertAlmostEqual(float(loss), float(reference("forward/total_loss.f32")), places=5)
        loss.backward()
        for key, p, layout in net.tf_params():
            g = checkpoint.LAYOUTS[layout][1](p.grad).numpy()
            want = reference("grads/" + key.replace("/", "_") + ".f32").reshape(g.shape)
            np.testing.assert_allclose(g, want, atol=1e-5 * max(1, np.abs(want).max()), err_msg=key)
        # One step from m = v = 0 with TensorFlow's own gradients, so only Adam is compared.
        params = [p for _, p, _ in net.tf_params()]
        for (key, p, layout) in net.tf_params():
            p.grad = torch.from_numpy(np.array(checkpoint.LAYOUTS[layout][0](reference("grads/" + key.replace("/", "_") + ".f32"))))
        slots = [[torch.zeros_like(p), torch.zeros_like(p)] for p in params]
        opt = optim.new(net.spec["optimizer"], params, slots, 0)
        opt.step()
        for key, p, layout in net.tf_params():
            w = checkpoint.LAYOUTS[layout][1](p.detach()).numpy()
            want = reference("adam_tf1/" + key.replace("/", "_") + ".f32").reshape(w.shape)
            np.testing.assert_allclose(w, want, atol=2e-7, rtol=1e-6, err_msg=key)


class Layers(unittest.TestCase):
    def test_lrn_is_torch_local_response_norm_with_alpha_times_window(self):
        x = torch.randn(2, 64, 5, 5, generator=torch.Generator().manual_seed(1)) * 30
        for r in (4, 5):
            l = model.LRN({"radius": r, "bias": 1.0, "alpha": 0.001 / 9, "beta": 0.75}, [5, 5, 64])
            want = F.local_response_norm(x, 2 * r + 1, alpha=0.001 / 9 * (2 * r + 1), beta=0.75, k=1.0)
            torch.testing.assert_close(l(x), want, rtol=1e-5, atol=1e-6)

    def test_same_pooling_pads_after(self):
        p = model.MaxPool({"size": 3, "stride": 2}, [4, 4, 1])
        x = -torch.arange(16.0).reshape(1, 1, 4, 4)  # largest at the top left
        # windows start at 0 and 2 (no padding before); the last one reads one padded cell
        self.assertEqual(p(x).flatten().tolist(), [0.0, -2.0, -8.0, -10.0])
        self.assertEqual(p.out_shape, [2, 2, 1])

    def test_every_preset_builds_or_names_its_missing_kind(self):
        for name in model.presets():
            try:
                net = model.Net(name)
            except model.UnsupportedKind as e:
                self.assertIn(name, str(e))
                continue
            n = sum(p.numel() for _, p, _ in net.tf_params())
            self.assertEqual(n, sum(p.numel() for p in net.parameters()) + sum(b.numel() for b in net.buffers()), name)
            trained = sum(p.numel() for _, p, _ in net.trained())
            self.assertEqual(trained, sum(p.numel() for p in net.parameters()), name)

    def test_a_kind_without_a_class_is_named(self):
        fake = {"x": {"name": "x", "input": [24, 24, 3], "classes": 10, "optimizer": {},
                      "layers": [{"kind": "dropout", "name": "drop1"}]}}
        orig, model.presets = model.presets, lambda: fake
        try:
            with self.assertRaisesRegex(model.UnsupportedKind, "preset x: layer drop1 is of kind 'dropout', .*no class for yet"):
                model.Net("x")
        finally:
            model.presets = orig

    def test_batchnorm_evaluation_is_torch_batch_norm(self):
        g = torch.Generator().manual_seed(2)
        bn = model.BatchNorm({"name": "bn", "momentum": 0.4, "epsilon": 1e-5, "scale": True}, [4, 4, 6])
        with torch.no_grad():
            for t in (bn.gamma, bn.beta, bn.moving_mean):
                t.copy_(torch.randn(6, generator=g))
            bn.moving_variance.copy_(torch.rand(6, generator=g) + 0.1)
        bn.eval()
        x = torch.randn(3, 6, 4, 4, generator=g)
        want = F.batch_norm(x, bn.moving_mean, bn.moving_variance, bn.gamma, bn.beta, False, 0.0, 1e-5)
        torch.testing.assert_close(bn(x), want, rtol=1e-5, atol=1e-6)

    def test_batchnorm_training_groups_and_fold(self):
        # 48 examples: nn cuts them into 3 groups of 16, each normalized on its own, and the
        # running statistics move by 0.4 towards the groups' mean of mean and unbiased variance.
        g = torch.Generator().manual_seed(3)
        bn = model.BatchNorm({"name": "bn", "momentum": 0.4, "epsilon": 1e-5}, [2, 2, 5])
        x = torch.randn(48, 5, 2, 2, generator=g) * 3 + 1
        y = bn(x)
        for a in range(0, 48, 16):
            torch.testing.assert_close(y[a:a + 16], F.batch_norm(x[a:a + 16], None, None, None, bn.beta, True, 0.0, 1e-5))
        bn.fold()
        xs = x.double().reshape(3, 16, 5, 4)
        mean = xs.mean(dim=(1, 3)).mean(dim=0)
        var = xs.permute(0, 2, 1, 3).reshape(3, 5, 64).var(dim=2, unbiased=True).mean(dim=0)
        torch.testing.assert_close(bn.moving_mean, (0.4 * mean).float())
        torch.testing.assert_close(bn.moving_variance, (0.6 + 0.4 * var).float())
        # The second process of two sharing the batch of 48 has examples 24..47: half of
        # group 1 and group 2.
        self.assertEqual(model.local_groups(48, 24, 48), [(0, 8), (8, 24)])
        self.assertEqual(model.cut_groups(48, 2), 1)
        self.assertEqual(model.cut_groups(64, 2), 0)

    def test_whiten_gelu_and_global_max_pool(self):
        g = torch.Generator().manual_seed(4)
        w = model.Whiten({"name": "whiten", "size": 2}, [5, 5, 3])
        self.assertEqual(w.out_shape, [4, 4, 24])
        self.assertEqual([type(t) for _, t, _ in w.tf_params()], [torch.Tensor, torch.nn.Parameter])
        x = torch.randn(2, 3, 5, 5, generator=g)
        self.assertEqual(model.GlobalMaxPool({}, [5, 5, 3])(x).flatten().tolist(), x.amax(dim=(2, 3)).flatten().tolist())
        z = torch.tensor([-3.0, -0.5, 0.0, 0.7, 2.0], dtype=torch.float64)
        want = z * 0.5 * (1 + torch.erf(z / math.sqrt(2)))
        torch.testing.assert_close(model.GELU({}, [1, 1, 5])(z.float()).double(), want, rtol=1e-6, atol=1e-6)


class Recipe(unittest.TestCase):
    CFG = {"kind": "nesterov", "lr": 0.1, "momentum": 0.85, "weight_decay": 0.002, "bias_lr": 64, "steps": 20,
           "schedule": {"start": 0.2, "peak": 0.23, "end": 0.07},
           "average": {"start": 0.3, "every": 5, "decay": 0.95, "pow": 3}}

    def test_schedule_is_nn_triangle(self):
        s, steps = self.CFG["schedule"], 100
        got = [optim.schedule_factor(s, t, steps) for t in (0, 10, 23, 50, 99, 100, 150)]
        want = [0.2, 0.2 + 0.8 * 10 / 23, 1.0, 1 - 0.93 * 27 / 77, 1 - 0.93 * 76 / 77, 0.07, 0.07]
        for a, b in zip(got, want):
            self.assertAlmostEqual(a, b, places=12)

    def test_nesterov_decoupled_decay_bias_lr_and_average(self):
        """Twenty updates against the formulas of nn/nesterov.go and nn/average.go in float64."""
        g = torch.Generator().manual_seed(5)
        w, b = torch.randn(3, 4, generator=g), torch.randn(4, generator=g)
        params = [torch.nn.Parameter(w.clone()), torch.nn.Parameter(b.clone())]
        cfg = self.CFG
        opt = optim.new(cfg, params, [[torch.zeros_like(p), torch.zeros_like(p)] for p in params], 0, norm=params[1:])
        ref = [w.double(), b.double()]
        acc = [torch.zeros_like(r) for r in ref]
        avg = [torch.zeros_like(r) for r in ref]
        for t in range(cfg["steps"]):
            grads = [torch.randn(p.shape, generator=g) for p in params]
            for p, gr in zip(params, grads):
                p.grad = gr.clone()
            opt.step()
            f = optim.schedule_factor(cfg["schedule"], t, cfg["steps"])
            for i, gr in enumerate(grads):
                lr = cfg["lr"] * (cfg["bias_lr"] if ref[i].dim() == 1 else 1)
                d = gr.double() + cfg["weight_decay"] / lr * ref[i]
                acc[i] = acc[i] * cfg["momentum"] + d
                ref[i] = ref[i] - lr * f * (d + cfg["momentum"] * acc[i])
            s = t + 1  # first average: the first multiple of 5 at or after 30% of 20 steps = 10
            if s == 10:
                avg = [r.clone() for r in ref]
            elif s > 10 and s % 5 == 0:
                rho = 0.95 ** 5 * (s / 20) ** 3
                avg = [a + (r - a) * (1 - rho) for a, r in zip(avg, ref)]
                ref = [a.clone() for a in avg]
        for p, r in zip(params, ref):
            torch.testing.assert_close(p.detach().double(), r, rtol=1e-4, atol=1e-5)
        for (m, a), ra, r in zip(opt.slots(), avg, acc):
            torch.testing.assert_close(a.double(), ra, rtol=1e-4, atol=1e-5)
            torch.testing.assert_close(m.double(), r, rtol=1e-4, atol=1e-4)

    def test_frozen_parameters_stay(self):
        """A parameter frozen (the whitening bias, by the recipe) keeps its value and its slots
        under every optimizer and the average, while the others move."""
        cfgs = [self.CFG, {"kind": "momentum", "lr": 0.1, "momentum": 0.9},
                {"kind": "adam", "lr": 0.1, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "steps": 12,
                 "average": {"start": 0.0, "every": 2, "decay": 0.9, "pow": 1}}]
        for cfg in cfgs:
            params = [torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(2))]
            n = len(checkpoint.slot_suffixes(cfg))
            opt = optim.new(cfg, params, [[torch.full_like(p, 0.5) for _ in range(n)] for p in params], 0)
            opt.frozen = {id(params[1])}
            for _ in range(12):
                for p in params:
                    p.grad = torch.ones_like(p)
                opt.step()
            self.assertTrue(torch.equal(params[1].detach(), torch.ones(2)), cfg["kind"])
            self.assertTrue(all(torch.equal(s, torch.full((2,), 0.5)) for s in opt.slots()[1]), cfg["kind"])
            self.assertFalse(torch.equal(params[0].detach(), torch.ones(3)), cfg["kind"])

    def test_tta_views_are_nn_shift_flip(self):
        x = torch.arange(2 * 4 * 5 * 1, dtype=torch.float32).reshape(2, 4, 5, 1)
        got = evaluate.shift_flip(x, -1, -1, True)
        for y in range(4):
            for c in range(5):
                sy = abs(y - 1)                      # reflect(y-1)
                sx = 4 - c - 1                       # mirrored, then shifted by -1
                sx = -sx if sx < 0 else sx
                self.assertEqual(got[1, y, c, 0].item(), x[1, sy, sx, 0].item())

    def test_flip_translate_inputs(self):
        import data
        p = np.random.default_rng(6).integers(0, 256, size=(2, 3, 32, 32), dtype=np.uint8)
        want = ((p.transpose(0, 2, 3, 1) / 255 - np.array(data.CHANNEL_MEAN)) / np.array(data.CHANNEL_STD)).astype(np.float32)
        np.testing.assert_array_equal(data.eval_images(p, 32, data.FLIP_TRANSLATE), want)
        s = data.Stream(np.zeros(2, np.uint8), p, 7, 32, data.FLIP_TRANSLATE)

        def flipped(x, img):  # the flip of the one shift that made x from image img
            found = {f for dy in range(-2, 3) for dx in range(-2, 3) for f in (False, True)
                     if np.array_equal(x, data.normalize(p[img], dy, dx, f))}
            self.assertEqual(len(found), 1)
            return found.pop()

        # Each image is mirrored in exactly one of two consecutive epochs (2 images an epoch).
        x, _ = s.batch(0, 6)
        for img in range(2):
            seen = [flipped(x[k], img) for k in range(6) if s.index(k) == img]
            self.assertEqual(seen, [seen[0], not seen[0], seen[0]])
        with self.assertRaisesRegex(ValueError, "makes 32x32 inputs, not 24x24"):
            data.check_prep(data.FLIP_TRANSLATE, 24)


class Format(unittest.TestCase):
    def roundtrip_file(self, folder):
        net = model.Net("cifar10")
        with torch.no_grad():
            for i, p in enumerate(net.parameters()):
                p.copy_(torch.randn(p.shape, generator=torch.Generator().manual_seed(i)))
        slots = {k: [torch.full_like(p, 0.5), torch.full_like(p, 2.0)] for k, p, _ in net.tf_params()}
        run = checkpoint.Run(optimizer=dict(net.spec["optimizer"]), step=7, seed=(1 << 64) - 3, batch=8, examples=56, loss=1.5)
        path = os.path.join(folder, checkpoint.file_name(7))
        checkpoint.save(path, net, slots, run)
        return net, path

    def test_save_load_roundtrip_with_the_strict_reader(self):
        with tempfile.TemporaryDirectory() as d:
            net, path = self.roundtrip_file(d)
            meta, tensors = checkpoint.read_strict(path)
            self.assertEqual(meta["format"], checkpoint.FORMAT)
            self.assertEqual(tensors["conv1/weights"].shape, (5, 5, 3, 64))
            self.assertEqual(tensors["local3/weights"].shape, (2304, 384))
            got, slots, run = checkpoint.load(path)
            for (_, a, _), (_, b, _) in zip(net.tf_params(), got.tf_params()):
                self.assertTrue(torch.equal(a, b))
            self.assertEqual((run.step, run.seed, run.batch, run.examples, run.loss), (7, (1 << 64) - 3, 8, 56, 1.5))
            self.assertTrue(torch.equal(slots["conv1/weights"][1], torch.full((64, 3, 5, 5), 2.0)))

    def test_strict_reader_refuses_damaged_files(self):
        with tempfile.TemporaryDirectory() as d:
            _, path = self.roundtrip_file(d)
            with open(path, "rb") as fh:
                good = fh.read()
            (n,) = struct.unpack("<Q", good[:8])
            header = good[8:8 + n]
            cases = {
                "truncated": good[:-1],
                "trailing byte": good + b"\0",
                "short": good[:5],
                "header length too large": struct.pack("<Q", len(good)) + good[8:],
                "duplicate key": struct.pack("<Q", n) + header.replace(b'"__metadata__":{', b'"__metadata__":{"format":"x",', 1)[:n] + good[8 + n:],
                "unknown dtype": struct.pack("<Q", n) + header.replace(b'"F32"', b'"F99"', 1) + good[8 + n:],
            }
            for what, data in cases.items():
                with self.subTest(what):
                    with self.assertRaises(checkpoint.CheckpointError):
                        checkpoint.parse_strict(data)

    def test_load_refuses_nan_and_another_preset(self):
        with tempfile.TemporaryDirectory() as d:
            net, path = self.roundtrip_file(d)
            with self.assertRaisesRegex(checkpoint.CheckpointError, "preset cifar10, not cs231n"):
                checkpoint.load(path, "cs231n")
            with torch.no_grad():
                net.layers[0].bias[3] = float("nan")
            with self.assertRaisesRegex(checkpoint.CheckpointError, "conv1/biases.*NaN"):
                checkpoint.save(os.path.join(d, "nan.safetensors"), net)
            self.assertFalse(os.path.exists(os.path.join(d, "nan.safetensors")))


if __name__ == "__main__":
    unittest.main()
