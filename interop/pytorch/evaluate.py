#!/usr/bin/python3
"""Precision@1 of a checkpoint on the CIFAR-10 test set, in PyTorch, with our evaluation
preprocessing; it counts the same correct images as `cifar10 eval` of the same file.

    /usr/bin/python3 interop/pytorch/evaluate.py --ckpt FILE --data DIR [--logits N --out F]

An image counts as correct as tf.nn.in_top_k(logits, labels, 1) (and `cifar10 eval`) decide:
no other class has a strictly larger logit. --logits N also writes the first N images' logits
as JSON lines (index, label, predicted, logits), the form of `cifar10 predict -json`.
"""

import argparse
import json
import sys

import torch

import checkpoint
import data


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ckpt", required=True, help="checkpoint file (ours: cifar10.ckpt-<step>.safetensors)")
    ap.add_argument("--data", required=True, help="folder of the CIFAR-10 binary files, or its parent")
    ap.add_argument("--preset", default=None, help="refuse a file of another preset")
    ap.add_argument("--batch", type=int, default=500, help="images per forward pass")
    ap.add_argument("--logits", type=int, default=0, help="write the logits of the first N test images")
    ap.add_argument("--out", default="-", help="where --logits writes (default stdout)")
    a = ap.parse_args(argv)
    try:
        net, _, run = checkpoint.load(a.ckpt, a.preset)
        labels, pixels = data.load(a.data, "test")
    except (ValueError, OSError) as e:
        sys.exit(f"evaluate.py: {e}")
    net.eval()
    crop = net.spec["input"][0]
    correct, logits_out = 0, []
    with torch.no_grad():
        for start in range(0, len(labels), a.batch):
            x = torch.from_numpy(data.eval_images(pixels[start:start + a.batch], crop))
            z = net(x)
            y = torch.from_numpy(labels[start:start + a.batch].astype("int64"))
            true = z.gather(1, y[:, None])
            ok = ~(z > true).any(dim=1) & torch.isfinite(z).all(dim=1)
            correct += int(ok.sum())
            for i in range(max(0, min(a.logits - start, len(y)))):
                logits_out.append({"index": start + i, "label": int(y[i]), "predicted": int(z[i].argmax()),
                                   "logits": [float(v) for v in z[i]]})
    if a.logits:
        out = sys.stdout if a.out == "-" else open(a.out, "w")
        for row in logits_out:
            print(json.dumps(row), file=out)
        if out is not sys.stdout:
            out.close()
    print(f"restored {a.ckpt} (preset {net.spec['name']}, step {run.step})", file=sys.stderr)
    print(f"precision: {correct / len(labels):.4f}")
    print(f"correct: {correct} of {len(labels)}")


if __name__ == "__main__":
    main()
