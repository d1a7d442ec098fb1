#!/usr/bin/python3
"""The seed recipe (configs/seed.toml) in PyTorch, for accuracy and speed comparisons with kws.

Reads the exact features kws computed (`kws train ... --export-features` writes RUN_DIR/features.f32
and features.json) and kws's splits (RUN_DIR/split.json for a holdout run, RUN_DIR/cv.json for
cross-validation), then trains the same network the same way:

  four Conv2D(16, 3x3, no bias, TF "same" padding, strides 2,1,2,2) + BatchNorm(momentum 0.99,
  eps 1e-3) + ReLU; global average pooling; Dense(classes) (Glorot-uniform init, zero bias, as Keras);
  softmax cross-entropy; batch 25; Adam(beta 0.9/0.999, eps 1e-7); learning rate 0.01 -> 1e-5
  polynomial (power 1) over all steps; TFMOT magnitude pruning PolynomialDecay 0.2 -> 0.85 (power 3,
  frequency 100, begin 0, end = last step) on conv/dense kernels; validation every epoch; the saved
  model is the best epoch among those at the final sparsity (with end = last step: the last epoch),
  exactly kws's rule.

Usage:
  torch_seed.py holdout FEATURE_DIR SPLIT_JSON [--epochs 80] [--threads 2] [--seed 1]
  torch_seed.py cv FEATURE_DIR CV_JSON [--epochs 80] [--threads 2] [--seeds 3] [--seed 1]
Prints one JSON object on stdout.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load_features(d):
    meta = json.load(open(os.path.join(d, "features.json")))
    x = np.fromfile(os.path.join(d, "features.f32"), dtype="<f4").reshape(meta["n"], 1, meta["frames"], meta["bins"])
    y = np.array([it["label_index"] for it in meta["items"]], dtype=np.int64)
    return torch.from_numpy(x.copy()), torch.from_numpy(y), meta["labels"]


def same_pad(size, k, s):
    out = (size + s - 1) // s
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class TfConv(nn.Module):
    """Conv2d with TensorFlow SAME padding (asymmetric: the extra row/column goes after)."""

    def __init__(self, cin, cout, k, s):
        super().__init__()
        self.k, self.s = k, s
        self.conv = nn.Conv2d(cin, cout, k, stride=s, bias=False)
        nn.init.xavier_uniform_(self.conv.weight)

    def forward(self, x):
        t, b = same_pad(x.shape[2], self.k, self.s)
        l, r = same_pad(x.shape[3], self.k, self.s)
        if t or b or l or r:
            x = F.pad(x, (l, r, t, b))
        return self.conv(x)


class SeedNet(nn.Module):
    def __init__(self, classes, filters=16, strides=(2, 1, 2, 2)):
        super().__init__()
        layers, cin = [], 1
        for s in strides:
            layers += [TfConv(cin, filters, 3, s), nn.BatchNorm2d(filters, eps=1e-3, momentum=0.01), nn.ReLU()]
            cin = filters
        self.body = nn.Sequential(*layers)
        self.dense = nn.Linear(filters, classes)
        nn.init.xavier_uniform_(self.dense.weight)
        nn.init.zeros_(self.dense.bias)

    def forward(self, x):
        return self.dense(self.body(x).mean(dim=(2, 3)))


def prunable(model):
    return [m.conv.weight for m in model.modules() if isinstance(m, TfConv)] + [model.dense.weight]


def sparsity_at(step, begin, end, initial=0.2, final=0.85, power=3.0):
    p = min(max((step - begin) / max(end - begin, 1), 0.0), 1.0)
    return final + (initial - final) * (1 - p) ** power


def update_masks(params, masks, s):
    for i, w in enumerate(params):
        n = w.numel()
        k = max(1, int(math.floor(n * (1 - s) + 0.5)))
        flat = w.detach().abs().flatten()
        keep = torch.zeros(n, dtype=torch.bool)
        keep[torch.topk(flat, k, sorted=False).indices] = True
        masks[i] = keep.view_as(w).float()
        with torch.no_grad():
            w.mul_(masks[i])


def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        logits = model(x)
        loss = F.cross_entropy(logits, y).item()
        acc = (logits.argmax(1) == y).float().mean().item()
    model.train()
    return loss, acc


def train(x, y, classes, train_idx, val_idx, epochs, seed, batch=25, prune=True):
    torch.manual_seed(seed)
    model = SeedNet(classes)
    opt = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.9, 0.999), eps=1e-7)
    xt, yt = x[train_idx], y[train_idx]
    xv, yv = x[val_idx], y[val_idx]
    n = len(train_idx)
    steps_per_epoch = (n + batch - 1) // batch
    total = steps_per_epoch * epochs
    params = prunable(model)
    masks = [None] * len(params)
    gen = torch.Generator().manual_seed(seed)
    step = 0
    best = None
    t0 = time.perf_counter()
    for epoch in range(epochs):
        order = torch.randperm(n, generator=gen)
        for b in range(0, n, batch):
            idx = order[b:b + batch]
            if prune and step <= total and step % 100 == 0:
                update_masks(params, masks, sparsity_at(step, 0, total))
            lr = (0.01 - 1e-5) * (1 - min(step, total) / total) ** 1.0 + 1e-5
            for g in opt.param_groups:
                g["lr"] = lr
            loss = F.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if prune and masks[0] is not None:
                with torch.no_grad():
                    for w, m in zip(params, masks):
                        w.mul_(m)
            step += 1
        vl, va = evaluate(model, xv, yv) if len(val_idx) else (0.0, 0.0)
        # kws's rule: with pruning, only epochs past the pruning end (or the last epoch) qualify.
        qualifies = (not prune) or step > total or epoch + 1 == epochs
        if qualifies and (best is None or va > best[0] or (va == best[0] and vl < best[1])):
            best = (va, vl, {k: v.clone() for k, v in model.state_dict().items()}, epoch + 1)
    seconds = time.perf_counter() - t0
    model.load_state_dict(best[2])
    return model, {"seconds": seconds, "best_epoch": best[3], "best_val_accuracy": best[0],
                   "samples_per_second": n * epochs / seconds}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["holdout", "cv"])
    ap.add_argument("features")
    ap.add_argument("split")
    ap.add_argument("--epochs", type=int, default=80)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seeds", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    x, y, labels = load_features(a.features)
    sp = json.load(open(a.split))
    out = {"torch": torch.__version__, "threads": a.threads, "epochs": a.epochs}
    if a.mode == "holdout":
        model, info = train(x, y, len(labels), sp["train"], sp["val"], a.epochs, a.seed)
        out.update(info)
    else:
        runs = []
        for r in range(a.seeds):
            for f in sp["fold_splits"]:
                model, info = train(x, y, len(labels), f["train"], f["val"], a.epochs, a.seed + r)
                _, acc = evaluate(model, x[f["test"]], y[f["test"]])
                info.update({"fold": f["fold"], "repeat": r, "test_accuracy": acc, "test_n": len(f["test"])})
                print(f"torch fold {f['fold']} seed {a.seed + r}: {100 * acc:.2f}% ({info['seconds']:.1f}s)",
                      file=sys.stderr)
                runs.append(info)
        accs = np.array([r["test_accuracy"] for r in runs])
        out["runs"] = runs
        out["accuracy"] = {"mean": float(accs.mean()), "std": float(accs.std(ddof=1)) if len(accs) > 1 else 0.0,
                           "min": float(accs.min()), "max": float(accs.max()), "n": int(len(accs))}
        out["seconds"] = float(sum(r["seconds"] for r in runs))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
