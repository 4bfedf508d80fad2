#!/usr/bin/python3
"""Continues a run from our checkpoint in PyTorch, on one process or many (torchrun), and
writes checkpoints in our format that `cifar10 eval`, `cifar10 train -resume` and the page
(upload, then Resume) read.

    torchrun --nproc_per_node=N interop/pytorch/train.py --ckpt FILE --data DIR --steps S --out DIR

--steps is the step count the run trains to in total, as `cifar10 train -steps` and the page's
Max steps (a file at step 1000 with --steps 1500 trains 500 steps). The recipe is the file's:
its preset, its optimizer with the slots and step restored (TensorFlow 1's Adam, momentum, or
Nesterov with its schedule and lookahead average), its batch size and seed, the same kind of
augmentation and label smoothing, the whitening bias frozen from the recipe's step, and the
data position (examples consumed) carried on. Each
step's batch (the file's batch size) is split evenly over the processes,
DistributedDataParallel averages their gradients (gloo on CPU, nccl on GPUs), and every
process applies the same update. Rank 0 logs and saves.

Batch normalization normalizes over nn's groups (the batch's shards of 16 or more examples,
nn/shard), each process over the groups of its share; a group cut between two processes (a
share that is not whole shards) is normalized in parts, which a line at the start says. The
running statistics are summed over the processes and folded after each update, as nn does,
so every process keeps the same ones.
"""

import argparse
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F

import checkpoint
import data
import model as models
import optim


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ckpt", required=True, help="checkpoint to continue (ours, or weights only)")
    ap.add_argument("--data", required=True, help="folder of the CIFAR-10 binary files, or its parent")
    ap.add_argument("--steps", type=int, required=True, help="train until this many steps are done in total")
    ap.add_argument("--out", required=True, help="folder for cifar10.ckpt-<step>.safetensors")
    ap.add_argument("--save-every", type=int, default=1000, help="also save every this many steps")
    ap.add_argument("--log-every", type=int, default=10, help="log every this many steps")
    ap.add_argument("--lr", type=float, default=0, help="replace the file's learning rate (0 keeps it)")
    ap.add_argument("--batch", type=int, default=0, help="batch of a weights-only file (a run's file has its own; default the recipe's, else 128)")
    ap.add_argument("--seed", type=int, default=1, help="seed of a weights-only file (a run's file has its own)")
    a = ap.parse_args(argv)

    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    device = torch.device("cpu")
    if world > 1:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
            torch.cuda.set_device(device)
        dist.init_process_group(backend)

    def fail(msg):
        sys.exit(f"train.py: {msg}")

    try:
        net, slots, run = checkpoint.load(a.ckpt)
        labels, pixels = data.load(a.data, "train")
    except (ValueError, OSError) as e:
        fail(e)
    fresh = run.optimizer is None
    if not run.resumable():  # no data position (another tool's file): the stream from its start
        run.seed, run.batch, run.examples = a.seed, a.batch or net.recipe.get("batch") or 128, 0
    if fresh:  # weights only: a fresh optimizer of the preset's kind at step 0, as a new run's
        run.optimizer, run.step = dict(net.spec["optimizer"]), 0
        if run.optimizer.get("schedule") or run.optimizer.get("average"):
            run.optimizer["steps"] = a.steps  # the run's length
        own = net.recipe.get("batch", 0)
        if own and run.batch != own:  # the preset's rates are for its recipe's batch: scaled linearly
            for k in ("lr", "weight_decay"):
                if k in run.optimizer:
                    run.optimizer[k] *= run.batch / own
        slots = {k: [torch.zeros_like(p) for _ in run.slot_suffixes()] for k, p, _ in net.trained()}
    if a.lr > 0:
        run.optimizer["lr"] = a.lr
    if a.steps <= run.step:
        fail(f"the checkpoint is already at step {run.step}; give --steps above it (the total to train to)")
    if run.batch % world:
        fail(f"the batch of {run.batch} does not split evenly over {world} processes")
    local = run.batch // world
    try:
        stream = data.Stream(labels, pixels, run.seed, net.spec["input"][0], net.recipe.get("input", data.TUTORIAL))
    except ValueError as e:
        fail(f"{a.ckpt}: {e}")
    smoothing = net.recipe.get("label_smoothing", 0.0)

    net.to(device)
    net.set_groups(run.batch, rank * local, (rank + 1) * local)
    trained = net.trained()
    opt = optim.new(run.optimizer, [p for _, p, _ in trained], [[s.to(device) for s in slots[k]] for k, _, _ in trained],
                    run.step, net.norm_params())
    freeze = freeze_step(net, run.optimizer, a.steps)
    # Buffers (running statistics) are not broadcast: every process folds the same sums.
    model = torch.nn.parallel.DistributedDataParallel(net, broadcast_buffers=False) if world > 1 else net
    reduce = (lambda t: dist.all_reduce(t)) if world > 1 else None
    os.makedirs(a.out, exist_ok=True)
    if rank == 0:
        print(f"restored {a.ckpt} (preset {net.spec['name']}, step {run.step}, batch {run.batch} = "
              f"{world} x {local}, {run.optimizer['kind']} lr {run.optimizer['lr']:g})", flush=True)
        cut = models.cut_groups(run.batch, world)
        if cut and any(isinstance(l, models.BatchNorm) for l in net.layers):
            print(f"note: the batch of {run.batch} has {models.shard_count(run.batch)} normalization groups, "
                  f"{cut} of them cut between processes: batch normalization differs from one process's", flush=True)

    while run.step < a.steps:
        t0 = time.time()
        x, y = stream.batch(run.examples + rank * local, local)
        x, y = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
        if 0 <= freeze <= run.step:  # the whitening bias stops training (its gradient is unused)
            opt.frozen = {id(net.whitening_bias())}
        xent = F.cross_entropy(model(x), y, label_smoothing=smoothing)
        loss = xent + net.decay()
        opt.zero_grad(set_to_none=False)
        loss.backward()  # DDP averages the gradients: the mean over the whole batch
        opt.step()
        net.fold(reduce)  # batch normalization's running statistics, after the update as nn
        run.step, run.examples = run.step + 1, run.examples + run.batch
        logged = xent.detach().clone()
        if world > 1:
            dist.all_reduce(logged)
            logged /= world
        run.loss = float(logged + net.decay().detach())
        if rank == 0 and ((run.step - 1) % a.log_every == 0 or run.step == a.steps):
            dt = time.time() - t0
            print(f"Step {run.step - 1}, loss = {run.loss:.2f} ({run.batch / dt:.1f} examples/sec; {dt:.3f} sec/batch)", flush=True)
        if rank == 0 and (run.step % a.save_every == 0 or run.step == a.steps):
            path = os.path.join(a.out, checkpoint.file_name(run.step))
            checkpoint.save(path, net, {k: ss for (k, _, _), ss in zip(trained, opt.slots(), strict=True)}, run)
            print(f"saved {path}", flush=True)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


def freeze_step(net, cfg, steps):
    """The update from which the recipe freezes the whitening bias (nn.Recipe.FreezeStep of the
    run's length: the optimizer's steps, else the steps trained to), or -1 for never."""
    f = net.recipe.get("freeze_whiten", 0)
    if not f or net.whitening_bias() is None:
        return -1
    return int(f * (cfg.get("steps") or steps))


if __name__ == "__main__":
    main()
