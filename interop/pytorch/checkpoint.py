"""Our checkpoint files (safetensors, TensorFlow names and layouts) <-> PyTorch.

A file written by `cifar10 train`, the page or `train.py` holds, under TensorFlow 1's names:

    conv1/weights ... softmax_linear/biases   F32, conv weights HWIO, dense weights [in, out]
                                              (and the whitening weights, batch normalization's
                                              beta, gamma, moving_mean, moving_variance)
    <param>/Adam, <param>/Adam_1              Adam's m and v (or <param>/Momentum: momentum,
                                              Nesterov), for the trained parameters only
    <param>/ExponentialMovingAverage          the weights' lookahead average, if the optimizer has one
    global_step                               I64 scalar: updates applied
    data/seed, data/batch, data/examples      I64 scalars: the data position

and the metadata format ("cifar10-go/1"), preset, recipe (JSON of nn.Recipe: inputs, label
smoothing, test-time augmentation, when the whitening bias freezes; absent for the tutorial's), optimizer (JSON, with its
schedule, average and the run's length), step, seed, batch, examples, time, loss and precision
(see nn/checkpoint/doc.go). A weights-only file (just the
parameters) is valid too.

PyTorch keeps the same numbers in other layouts. Every conversion is one entry of LAYOUTS,
used both ways and for a parameter's optimizer slots alike (the slots have its shape):

    conv weights  TF HWIO [kh, kw, in, out]  <->  torch OIHW [out, in, kh, kw]
    dense weights TF [in, out] (y = x W + b) <->  torch nn.Linear [out, in] (y = x W^T + b)
    biases        [out]                      ==   [out]

The dense layer after a convolution flattens its input in (h, w, c) order, TensorFlow's
reshape of an NHWC tensor; model.py flattens its NCHW activations in that order too
(permute to NHWC first), so the dense weights need no reordering of their rows.

The reader uses the `safetensors` package when it is installed, and otherwise the small strict
reader below, which refuses whatever the format does not allow (as nn/safetensors does).
"""

import datetime
import json
import math
import os
import struct
import tempfile

import numpy as np
import torch

FORMAT = "cifar10-go/1"
FORMAT_FAMILY = "cifar10-go/"
STEP, SEED, BATCH, EXAMPLES = "global_step", "data/seed", "data/batch", "data/examples"
# TensorFlow's Adam accumulators beta1^t, beta2^t: they follow from global_step, so a file
# converted from TensorFlow may hold them and they are ignored, as Go's decoder does.
TF_ADAM_POWERS = ("beta1_power", "beta2_power")
MAX_HEADER = 100 << 20  # bytes; the limit of the reference implementation

# Layouts: name -> (to_torch, to_tf), each a function of a numpy array / a torch tensor.
LAYOUTS = {
    "hwio": (lambda a: np.ascontiguousarray(a.transpose(3, 2, 0, 1)),
             lambda t: t.permute(2, 3, 1, 0)),
    "in_out": (lambda a: np.ascontiguousarray(a.T), lambda t: t.t()),
    "same": (lambda a: a, lambda t: t),
}

DTYPES = {"F64": ("<f8", 8), "F32": ("<f4", 4), "F16": ("<f2", 2), "I64": ("<i8", 8),
          "I32": ("<i4", 4), "I16": ("<i2", 2), "I8": ("i1", 1), "U8": ("u1", 1),
          "U16": ("<u2", 2), "U32": ("<u4", 4), "U64": ("<u8", 8), "BOOL": ("?", 1),
          "BF16": (None, 2)}


class CheckpointError(ValueError):
    """A file that is not a checkpoint this code can use; the message says what and where."""


# ---- safetensors ---------------------------------------------------------------------------

def read_safetensors(path):
    """Returns (metadata dict, {name: numpy array}) of a safetensors file."""
    try:
        import safetensors  # noqa: F401  (optional: Debian's python3-torch does not bring it)
    except ImportError:
        return read_strict(path)
    from safetensors import safe_open
    try:
        with safe_open(path, framework="numpy") as f:
            return dict(f.metadata() or {}), {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # the package's own errors are of several types
        raise CheckpointError(f"{path}: not a safetensors file: {e}") from e


def read_strict(path):
    """The format's rules, checked one by one: the 8-byte little-endian header length, a JSON
    object without duplicate keys, string metadata, entries of exactly dtype, shape and
    data_offsets whose sizes agree, and tensors that tile the data section with no hole,
    overlap or trailing byte."""
    with open(path, "rb") as fh:
        data = fh.read()
    return parse_strict(data, path)


def parse_strict(data, where="file"):
    """read_strict on bytes; where names the file in errors."""
    def bad(msg):
        return CheckpointError(f"{where}: not a safetensors file: {msg}")
    if len(data) < 8:
        raise bad(f"{len(data)} bytes, too short for the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER or n > len(data) - 8:
        raise bad(f"header length {n} (file bytes 0..8) is over the limit or the file's size")
    try:
        text = data[8:8 + n].decode("utf-8")
        header = json.loads(text, object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as e:
        raise bad(f"header (file bytes 8..{8 + n}) is not valid UTF-8 JSON: {e}") from None
    if not isinstance(header, dict):
        raise bad("header is not a JSON object")
    meta = header.pop("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise bad("__metadata__ is not an object of strings")
    body = memoryview(data)[8 + n:]
    spans, tensors = [], {}
    for name, e in header.items():
        if not isinstance(e, dict) or set(e) != {"dtype", "shape", "data_offsets"}:
            raise bad(f"tensor {name!r} needs exactly dtype, shape and data_offsets")
        dtype, shape, offs = e["dtype"], e["shape"], e["data_offsets"]
        if dtype not in DTYPES or DTYPES[dtype][0] is None:
            raise bad(f"tensor {name!r} has dtype {dtype!r}, which this reader does not know")
        if not isinstance(shape, list) or not all(_natural(d) for d in shape):
            raise bad(f"tensor {name!r} has shape {shape!r}, not a list of sizes")
        if not isinstance(offs, list) or len(offs) != 2 or not all(_natural(o) for o in offs):
            raise bad(f"tensor {name!r} has data_offsets {offs!r}, not [begin, end]")
        size = math.prod(shape) * DTYPES[dtype][1]
        if offs[1] - offs[0] != size or offs[1] > len(body):
            raise bad(f"tensor {name!r}: shape {shape} of {dtype} is {size} bytes but data_offsets "
                      f"{offs} span {offs[1] - offs[0]} (data section {len(body)} bytes)")
        spans.append((offs[0], offs[1], name))
        tensors[name] = np.frombuffer(body[offs[0]:offs[1]], dtype=DTYPES[dtype][0]).reshape(shape)
    pos = 0
    for begin, end, name in sorted(spans):
        if begin != pos:
            raise bad(f"data bytes {min(pos, begin)}..{max(pos, begin)} before tensor {name!r} "
                      + ("overlap another tensor" if begin < pos else "belong to no tensor"))
        pos = end
    if pos != len(body):
        raise bad(f"data bytes {pos}..{len(body)} at the end belong to no tensor")
    return meta, tensors


def _no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError(f"duplicate key {k!r}")
        d[k] = v
    return d


def _natural(x):
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def write_safetensors(path, meta, tensors):
    """Writes {name: numpy array} (F32 or I64) with string metadata as Go's writer does: header
    metadata first and tensors by name, data 8-byte elements first (every tensor aligned to its
    element size), the header padded with spaces to a multiple of 8. The file is written to a
    temporary name and renamed, so a crash never leaves half a checkpoint under the real name."""
    kinds = {np.dtype("<f4"): "F32", np.dtype("<i8"): "I64"}
    arrays = {}
    for name, a in tensors.items():
        a = np.array(a, order="C")  # a copy: keeps a scalar's shape [], which ascontiguousarray would not
        if a.dtype not in kinds:
            raise CheckpointError(f"cannot write tensor {name}: dtype {a.dtype} (want float32 or int64)")
        arrays[name] = a
    order = sorted(arrays, key=lambda k: (-arrays[k].dtype.itemsize, k))
    entries, pos = {}, 0
    for name in order:
        a = arrays[name]
        entries[name] = {"dtype": kinds[a.dtype], "shape": list(a.shape),
                         "data_offsets": [pos, pos + a.nbytes]}
        pos += a.nbytes
    header = {"__metadata__": dict(sorted(meta.items()))} if meta else {}
    header.update((k, entries[k]) for k in sorted(entries))
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".safetensors")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(struct.pack("<Q", len(text)) + text)
            for name in order:
                fh.write(arrays[name].tobytes())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


# ---- checkpoints ---------------------------------------------------------------------------

class Run:
    """What lives outside the model: optimizer configuration (dict as nn.OptimizerConfig's JSON,
    None for a weights-only file), global step, seed, batch (0: not recorded), examples consumed,
    and the last loss (None when unknown)."""

    def __init__(self, optimizer=None, step=0, seed=0, batch=0, examples=0, loss=None):
        self.optimizer, self.step, self.seed = optimizer, step, seed
        self.batch, self.examples, self.loss = batch, examples, loss

    def slot_suffixes(self):
        return slot_suffixes(self.optimizer)

    def resumable(self):
        return self.optimizer is not None and self.batch > 0


def load(path, preset=None):
    """Reads a checkpoint file. Returns (net, slots, run): the model with the saved weights, the
    optimizer slots as {param name: [torch tensors in torch layout]} ({} for weights only), and
    the Run. preset, when given, must be the file's."""
    import model as models  # here, so the safetensors half needs no model code
    meta, tensors = read_safetensors(path)
    fmt = meta.get("format", "")
    ours = fmt == FORMAT
    if not ours and fmt.startswith(FORMAT_FAMILY):
        raise CheckpointError(f"{path}: metadata format {fmt!r} is not {FORMAT}, which this code reads")
    name = meta.get("preset") if ours else None
    if name and preset and name != preset:
        raise CheckpointError(f"{path}: the file is a checkpoint of preset {name}, not {preset}")
    name = name or preset or models.detect_preset(tensors)
    net = models.Net(name)
    if ours and "recipe" in meta:
        try:
            net.recipe = json.loads(meta["recipe"])
        except ValueError as e:
            raise CheckpointError(f"{path}: metadata recipe {meta['recipe']!r} is not JSON: {e}") from None
        unknown = set(net.recipe) - set(RECIPE_FIELDS) if isinstance(net.recipe, dict) else {"(not an object)"}
        if unknown:
            raise CheckpointError(f"{path}: metadata recipe has {sorted(unknown)[0]!r}, which is not a recipe field")
    used = set()

    def take(key, shape):
        if key not in tensors:
            raise CheckpointError(f"{path}: tensor {key} is missing (preset {name} needs it)")
        a = tensors[key]
        if a.dtype != np.dtype("<f4") or list(a.shape) != list(shape):
            raise CheckpointError(f"{path}: tensor {key} is {a.dtype} {list(a.shape)}, preset {name} needs float32 {list(shape)}")
        if not np.isfinite(a).all():
            raise CheckpointError(f"{path}: tensor {key} holds NaN or infinite values")
        used.add(key)
        return a

    for key, param, layout in net.tf_params():
        to_torch = LAYOUTS[layout][0]
        with torch.no_grad():
            param.copy_(torch.from_numpy(np.array(to_torch(take(key, tf_shape(param, layout))))))
    run = Run()
    cfg = json.loads(meta["optimizer"]) if ours and "optimizer" in meta else None
    if cfg is None and not ours:
        cfg = _foreign_optimizer(net, tensors)
    slots = {}
    if cfg is not None and cfg.get("kind") not in SLOT_SUFFIXES:
        raise CheckpointError(f"{path}: optimizer kind {cfg.get('kind')!r}, which interop/pytorch/optim.py has no class for yet")
    if cfg is not None:
        run.optimizer = cfg
        for key, param, layout in net.trained():
            to_torch = LAYOUTS[layout][0]
            slots[key] = [torch.from_numpy(np.array(to_torch(take(f"{key}/{s}", tf_shape(param, layout)))))
                          for s in slot_suffixes(cfg)]
    for field, key in (("step", STEP), ("seed", SEED), ("batch", BATCH), ("examples", EXAMPLES)):
        if key in tensors:
            a = tensors[key]
            if a.dtype != np.dtype("<i8") or a.shape != ():
                raise CheckpointError(f"{path}: tensor {key} is {a.dtype} {list(a.shape)}, want an int64 scalar")
            setattr(run, field, int(a))
            used.add(key)
    run.seed %= 1 << 64  # the tensor holds the uint64's bits
    if ours and "loss" in meta:
        run.loss = float(meta["loss"])
    extra = set(tensors) - used - set(TF_ADAM_POWERS)
    if extra:
        raise CheckpointError(f"{path}: unexpected tensor {sorted(extra)[0]!r}: neither a parameter of preset {name}, an optimizer slot nor training state")
    return net, slots, run


SLOT_SUFFIXES = {"adam": ("Adam", "Adam_1"), "momentum": ("Momentum",), "nesterov": ("Momentum",)}
AVERAGE_SLOT = "ExponentialMovingAverage"
DEFAULT_OPTIMIZERS = {"adam": {"kind": "adam", "lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
                      "momentum": {"kind": "momentum", "lr": 0.01, "momentum": 0.9}}
# nn.Recipe's JSON fields, in its order (how Go writes them).
RECIPE_FIELDS = ("batch", "epochs", "label_smoothing", "input", "tta", "freeze_whiten")


def slot_suffixes(cfg):
    """The slots an optimizer configuration keeps per trained parameter: its kind's, then the
    weights' average when it has one."""
    return SLOT_SUFFIXES[cfg["kind"]] + ((AVERAGE_SLOT,) if cfg.get("average") else ())


def _foreign_optimizer(net, tensors):
    """The optimizer whose slots a file without our metadata holds: its preset's configuration
    if its slots are those (Nesterov and momentum share TensorFlow's), else that kind's
    defaults; None for weights only."""
    first = net.trained()[0][0]
    own = net.spec["optimizer"]
    for kind, suffixes in SLOT_SUFFIXES.items():
        if f"{first}/{suffixes[0]}" in tensors:
            return dict(own) if SLOT_SUFFIXES[own["kind"]] == suffixes else dict(DEFAULT_OPTIMIZERS[kind])
    return None


def recipe_json(recipe):
    """nn.Recipe's JSON as Go writes it: its fields in order, zero values left out."""
    return json.dumps({k: recipe[k] for k in RECIPE_FIELDS if recipe.get(k)}, separators=(",", ":"))


def tf_shape(param, layout):
    """The TensorFlow shape of a torch parameter stored in layout."""
    return list(LAYOUTS[layout][1](param.detach()).shape)


def save(path, net, slots=None, run=None):
    """Writes net (and, with run.optimizer, its slots, step and data position) as a checkpoint
    that `cifar10 eval`, `cifar10 train -resume` and the page read. slots is {param name: [torch
    tensors]} as load returns them; run a Run. Non-finite values are refused, so a diverged run
    never overwrites a good checkpoint."""
    meta = {"format": FORMAT, "preset": net.spec["name"]}
    if net.recipe or net.spec.get("recipe"):  # as Go: the tutorial's zero recipe is left out
        meta["recipe"] = recipe_json(net.recipe)
    tensors = {}
    trained = {key for key, _, _ in net.trained()}
    for key, param, layout in net.tf_params():
        to_tf = LAYOUTS[layout][1]
        tensors[key] = to_tf(param.detach().cpu()).contiguous().numpy().astype("<f4")
        if run is not None and run.optimizer is not None and key in trained:
            for suffix, slot in zip(slot_suffixes(run.optimizer), slots[key], strict=True):
                tensors[f"{key}/{suffix}"] = to_tf(slot.detach().cpu()).contiguous().numpy().astype("<f4")
    for key, a in tensors.items():
        if not np.isfinite(a).all():
            raise CheckpointError(f"cannot save {key}: it holds NaN or infinite values (training diverged?)")
    if run is not None and run.optimizer is not None:
        if run.batch < 1 or run.examples < 0:
            raise CheckpointError(f"cannot save a data position with batch {run.batch} and {run.examples} examples")
        meta.update(optimizer=json.dumps(run.optimizer, separators=(",", ":")), step=str(run.step),
                    seed=str(run.seed), batch=str(run.batch), examples=str(run.examples))
        seed_bits = run.seed - (1 << 64) if run.seed >= 1 << 63 else run.seed
        for key, v in ((STEP, run.step), (SEED, seed_bits), (BATCH, run.batch), (EXAMPLES, run.examples)):
            tensors[key] = np.array(v, dtype="<i8")
    if run is not None and run.loss is not None:
        if not math.isfinite(run.loss):
            raise CheckpointError(f"cannot save a loss of {run.loss} (training diverged?)")
        meta["loss"] = repr(float(run.loss))
    meta["time"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    write_safetensors(path, meta, tensors)


def file_name(step):
    """The name TensorFlow's Saver (and ours) gives the checkpoint of a step."""
    return f"cifar10.ckpt-{step}.safetensors"
