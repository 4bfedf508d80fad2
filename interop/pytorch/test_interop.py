"""Unit tests of the PyTorch side against TensorFlow's reference numbers and the format's rules.

    cd interop/pytorch && /usr/bin/python3 -m unittest -v test_interop

The reference (shared/reference/tf-cifar10-fixture beside the repository, or
$CIFAR10_REFERENCE) holds TensorFlow's activations, gradients and one Adam step of the tutorial
model; without it those tests say SKIP and why. The Go tests (interop_test.go) run this file.
"""

import json
import os
import struct
import tempfile
import unittest

import numpy as np
import torch
import torch.nn.functional as F

import checkpoint
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
            self.assertEqual(n, sum(p.numel() for p in net.parameters()), name)

    def test_a_kind_without_a_class_is_named(self):
        fake = {"x": {"name": "x", "input": [24, 24, 3], "classes": 10, "optimizer": {},
                      "layers": [{"kind": "gelu", "name": "act1"}]}}
        orig, model.presets = model.presets, lambda: fake
        try:
            with self.assertRaisesRegex(model.UnsupportedKind, "preset x: layer act1 is of kind 'gelu', .*no class for yet"):
                model.Net("x")
        finally:
            model.presets = orig


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
