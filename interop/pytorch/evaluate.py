#!/usr/bin/python3
"""Precision@1 of a checkpoint on the CIFAR-10 test set, in PyTorch, with our evaluation
preprocessing; it counts the same correct images as `cifar10 eval` of the same file.

    /usr/bin/python3 interop/pytorch/evaluate.py --ckpt FILE --data DIR [--logits N --out F]

An image counts as correct as tf.nn.in_top_k(logits, labels, 1) (and `cifar10 eval`) decide:
no other class has a strictly larger logit. --logits N also writes the first N images' logits
as JSON lines (index, label, predicted, logits), the form of `cifar10 predict -json`.

The inputs are made as the checkpoint's recipe says (the tutorial's crop and standardization,
or FlipTranslate's normalized 32x32 image), and when the recipe (or --tta) asks for test-time
augmentation the precision of each level is printed after the plain one, as `cifar10 eval`
does: "flip" is the mean of the logits of the image and its mirror image, "flip+translate"
half that plus a quarter of each of the flip level's means shifted one pixel down-right and
up-left (reflect padding), airbench's weights. The "correct" line is the plain count.
"""

import argparse
import json
import sys

import torch

import checkpoint
import data

TTA_NAMES = ("plain", "flip", "flip+translate")  # nn.TTA's levels
# The views of the flip+translate level, in nn's order: (dy, dx, flip); output pixel (y, x)
# shows input pixel (y+dy, x+dx).
VIEWS = ((0, 0, False), (0, 0, True), (-1, -1, False), (-1, -1, True), (1, 1, False), (1, 1, True))


def shift_flip(x, dy, dx, flip):
    """NHWC images shifted by (dy, dx) with reflect padding after a left-right mirror, as nn's
    shiftFlip."""
    h, w = x.shape[1], x.shape[2]
    rows = torch.from_numpy(data.reflect(torch.arange(h).numpy() + dy))
    cols = torch.arange(w - 1, -1, -1) if flip else torch.arange(w)
    cols = torch.from_numpy(data.reflect(cols.numpy() + dx))
    return x.index_select(1, rows).index_select(2, cols)


def level_logits(net, x, level):
    """The logits of every level up to level, [plain, flip, flip+translate][:level+1], each
    combined in float32 as nn combines them."""
    z = [net(x if i == 0 else shift_flip(x, *v)) for i, v in enumerate(VIEWS[:[1, 2, 6][level]])]
    out = [z[0]]
    if level >= 1:
        out.append(0.5 * z[0] + 0.5 * z[1])
    if level >= 2:
        ul = 0.5 * z[2] + 0.5 * z[3]
        dr = 0.5 * z[4] + 0.5 * z[5]
        out.append(0.5 * out[1] + 0.5 * (0.5 * ul + 0.5 * dr))
    return out


def in_top1(z, y):
    """tf.nn.in_top_k(z, y, 1): no logit larger than the label's, all finite."""
    true = z.gather(1, y[:, None])
    return ~(z > true).any(dim=1) & torch.isfinite(z).all(dim=1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ckpt", required=True, help="checkpoint file (ours: cifar10.ckpt-<step>.safetensors)")
    ap.add_argument("--data", required=True, help="folder of the CIFAR-10 binary files, or its parent")
    ap.add_argument("--preset", default=None, help="refuse a file of another preset")
    ap.add_argument("--batch", type=int, default=500, help="images per forward pass")
    ap.add_argument("--logits", type=int, default=0, help="write the logits of the first N test images")
    ap.add_argument("--out", default="-", help="where --logits writes (default stdout)")
    ap.add_argument("--tta", type=int, default=-1, choices=(-1, 0, 1, 2),
                    help="test-time augmentation: 0 none, 1 flip, 2 flip and translate (default: the recipe's)")
    a = ap.parse_args(argv)
    try:
        net, _, run = checkpoint.load(a.ckpt, a.preset)
        labels, pixels = data.load(a.data, "test")
        crop, prep = net.spec["input"][0], net.recipe.get("input", data.TUTORIAL)
        data.check_prep(prep, crop)
    except (ValueError, OSError) as e:
        sys.exit(f"evaluate.py: {e}")
    level = a.tta if a.tta >= 0 else net.recipe.get("tta", 0)
    if level not in (0, 1, 2):
        sys.exit(f"evaluate.py: {a.ckpt}: recipe tta {level}, want 0, 1 or 2")
    net.eval()
    correct, logits_out = [0] * (level + 1), []
    with torch.no_grad():
        for start in range(0, len(labels), a.batch):
            x = torch.from_numpy(data.eval_images(pixels[start:start + a.batch], crop, prep))
            zs = level_logits(net, x, level)
            z = zs[0]
            y = torch.from_numpy(labels[start:start + a.batch].astype("int64"))
            for l, zl in enumerate(zs):
                correct[l] += int(in_top1(zl, y).sum())
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
    print(f"precision: {correct[0] / len(labels):.4f}")
    for l in range(1, level + 1):
        print(f"precision with {TTA_NAMES[l]}: {correct[l] / len(labels):.4f}")
    print(f"correct: {correct[0]} of {len(labels)}")


if __name__ == "__main__":
    main()
