"""CIFAR-10's binary files and our preprocessing (nn/cifar), in numpy.

A record is 3,073 bytes: the label, then 1,024 R, 1,024 G and 1,024 B bytes (32x32, rows).
Images leave this module as float32 NHWC, as the models take them.

Evaluation (eval_images) is exactly ours: the central crop (24x24 for the tutorial, offset 4,4;
32 means none) and TensorFlow's per_image_standardization, (x - mean) / max(stddev, 1/sqrt(N)).

Training (Stream) applies the same augmentation as cifar10_input.distorted_inputs and ours:
a random crop, a left-right flip, brightness in [-63, 63), contrast in [0.2, 1.8), then the
standardization; it is stateless like ours: example k of the stream is image perm_e[k mod N]
of epoch e = k // N, distorted by a generator seeded with (seed, k) only, so a run resumes at a
position (examples consumed) and any number of processes see the same batches. The random
numbers are numpy's, not our Go generator's: the order and the draws are not the native ones.

A preset or checkpoint whose recipe names the input "flip-translate" (nn/cifar.FlipTranslate,
airbench's) uses the whole 32x32 image normalized per channel with CIFAR-10's constant means
and deviations, for evaluation and training alike; training translates each example by -2..2
pixels on each axis (reflect padding) and mirrors image i on alternate epochs, starting from
a coin of (seed, i), so every image is seen both ways every two epochs.
"""

import os

import numpy as np

SIDE, RECORD = 32, 3073
TRAIN_FILES = [f"data_batch_{i}.bin" for i in range(1, 6)]
TEST_FILE = "test_batch.bin"
DIR_NAME = "cifar-10-batches-bin"
MAX_BRIGHTNESS, MIN_CONTRAST, MAX_CONTRAST = 63.0, 0.2, 1.8
TAG_PERMUTATION, TAG_AUGMENT, TAG_FLIP = 1, 2, 3
TUTORIAL, FLIP_TRANSLATE = "", "flip-translate"  # nn/cifar.Prep
CHANNEL_MEAN = (0.4914, 0.4822, 0.4465)  # cifar.ChannelMean, R, G, B on the 0..1 scale
CHANNEL_STD = (0.2470, 0.2435, 0.2616)   # cifar.ChannelStd
MAX_SHIFT = 2
# FlipTranslate's value of each byte of each channel, computed in float64 and rounded once.
NORMALIZED = np.array([[(v / 255 - m) / d for v in range(256)] for m, d in zip(CHANNEL_MEAN, CHANNEL_STD)],
                      dtype=np.float64).astype(np.float32)


def check_prep(prep, side):
    """Refuses an input preparation this code does not know, or one that cannot make side x side."""
    if prep == TUTORIAL:
        return
    if prep != FLIP_TRANSLATE:
        raise ValueError(f"unknown input preparation {prep!r} (want {TUTORIAL!r} or {FLIP_TRANSLATE!r})")
    if side != SIDE:
        raise ValueError(f"{prep} makes {SIDE}x{SIDE} inputs, not {side}x{side}")


def find_dir(src):
    """The folder holding the .bin files: src itself or its cifar-10-batches-bin."""
    inner = os.path.join(src, DIR_NAME)
    return inner if os.path.isdir(inner) else src


def read_set(path):
    """(labels uint8 [N], pixels uint8 [N, 3, 32, 32]) of one .bin file, refusing a file that is
    not whole records with labels 0..9."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % RECORD:
        raise ValueError(f"{path}: {raw.size} bytes is not a whole number of {RECORD}-byte records")
    rec = raw.reshape(-1, RECORD)
    labels = rec[:, 0].copy()
    if labels.max() > 9:
        i = int(np.argmax(labels > 9))
        raise ValueError(f"{path}: record {i} has label {labels[i]}, want 0..9")
    return labels, rec[:, 1:].reshape(-1, 3, SIDE, SIDE)


def load(src, split):
    """The training set (the five data_batch files in order) or the test set of folder src."""
    d = find_dir(src)
    names = TRAIN_FILES if split == "train" else [TEST_FILE]
    missing = [n for n in names if not os.path.isfile(os.path.join(d, n))]
    if missing:
        raise FileNotFoundError(f"missing {', '.join(missing)} in {d}: pass --data with the folder of "
                                f"the CIFAR-10 binary files (or its parent)")
    parts = [read_set(os.path.join(d, n)) for n in names]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def standardize(x):
    """per_image_standardization of float images [N, ...] in float64, rounded to float32 once."""
    x = x.astype(np.float64)
    n = x[0].size
    axes = tuple(range(1, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    std = np.sqrt(((x - mean) ** 2).sum(axis=axes, keepdims=True) / n)
    adjusted = np.maximum(std, 1 / np.sqrt(n))
    return ((x - mean) * (1 / adjusted)).astype(np.float32)


def eval_images(pixels, crop, prep=TUTORIAL):
    """Evaluation inputs of uint8 images [N, 3, 32, 32] as NHWC float32: the tutorial's central
    crop, standardized, or FlipTranslate's normalized image."""
    check_prep(prep, crop)
    if prep == FLIP_TRANSLATE:
        return normalize(pixels)
    o = (SIDE - crop) // 2
    x = pixels[:, :, o:o + crop, o:o + crop].transpose(0, 2, 3, 1)
    return standardize(x)


def normalize(pixels, dy=0, dx=0, flip=False):
    """FlipTranslate's input of uint8 images [N, 3, 32, 32] (or one [3, 32, 32]), NHWC: output
    pixel (y, x) shows pixel (y+dy, x+dx), reflected at the borders without repeating the edge,
    mirrored left-right after the shift when flip, normalized per channel."""
    rows = reflect(np.arange(SIDE) + dy)
    cols = np.arange(SIDE)[::-1] if flip else np.arange(SIDE)
    cols = reflect(cols + dx)
    x = pixels[..., rows, :][..., cols]
    x = np.moveaxis(x, -3, -1)  # CHW -> HWC
    return NORMALIZED[np.arange(3), x]


def reflect(v):
    """Coordinates up to 31 beyond either border, mirrored back inside: -1 -> 1, 32 -> 30."""
    return np.where(v < 0, -v, np.where(v >= SIDE, 2 * (SIDE - 1) - v, v))


class Stream:
    """The training stream over (labels, pixels) for a seed, crop and input preparation; see
    the module doc."""

    def __init__(self, labels, pixels, seed, crop, prep=TUTORIAL):
        check_prep(prep, crop)
        self.labels, self.pixels, self.seed, self.crop, self.prep = labels, pixels, seed, crop, prep
        self.epoch, self.perm = -1, None

    def index(self, k):
        n = len(self.labels)
        if k // n != self.epoch:
            self.epoch = k // n
            rng = np.random.Generator(np.random.PCG64([self.seed, TAG_PERMUTATION, self.epoch]))
            self.perm = rng.permutation(n)
        return int(self.perm[k % n])

    def batch(self, k0, count):
        """Examples k0 .. k0+count-1: (float32 NHWC images, int64 labels)."""
        c = self.crop
        out = np.empty((count, c, c, 3), dtype=np.float32)
        labels = np.empty(count, dtype=np.int64)
        for j in range(count):
            i = self.index(k0 + j)
            if self.prep == FLIP_TRANSLATE:
                out[j] = self.translate(self.pixels[i], k0 + j, i)
            else:
                out[j] = self.distort(self.pixels[i], k0 + j)
            labels[j] = self.labels[i]
        return (out if self.prep == FLIP_TRANSLATE else standardize(out)), labels

    def translate(self, img, k, i):
        """FlipTranslate's example k, of image i: shifted, mirrored on alternate epochs."""
        coin = np.random.Generator(np.random.PCG64([self.seed, TAG_FLIP, i])).random() < 0.5
        dy, dx = np.random.Generator(np.random.PCG64([self.seed, TAG_AUGMENT, k])).integers(-MAX_SHIFT, MAX_SHIFT + 1, size=2)
        flip = coin != ((k // len(self.labels)) % 2 == 1)
        return normalize(img, int(dy), int(dx), flip)

    def distort(self, img, k):
        """Crop, flip, brightness and contrast of one image (CHW uint8) for example k."""
        rng = np.random.Generator(np.random.PCG64([self.seed, TAG_AUGMENT, k]))
        room = SIDE - self.crop + 1
        oy, ox = rng.integers(0, room, size=2)
        flip = rng.random() < 0.5
        delta = np.float32(rng.uniform(-MAX_BRIGHTNESS, MAX_BRIGHTNESS))
        factor = np.float32(rng.uniform(MIN_CONTRAST, MAX_CONTRAST))
        x = img[:, oy:oy + self.crop, ox:ox + self.crop].transpose(1, 2, 0).astype(np.float32)
        if flip:
            x = x[:, ::-1]
        x = x + delta
        mean = x.astype(np.float64).mean(axis=(0, 1)).astype(np.float32)
        return (x - mean) * factor + mean
