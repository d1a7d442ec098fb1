#!/usr/bin/python3
"""Any kws model (configs/zoo/*.toml) in PyTorch, for training-speed and accuracy comparisons with kws.

The network is built from the layer list kws stored in the run's checkpoint (RUN/model.ckpt: the
resolved, block-expanded graph with every layer's settings and inputs), so PyTorch trains the same
architecture: TF "same" padding (asymmetric), dilation, per-axis padding, BatchNorm with kws's
momentum/epsilon, SubSpectralNorm as BatchNorm2d(C*S) over frequency sub-bands, broadcasting adds,
frequency means, swish, spatial dropout, Glorot-uniform kernels and zero biases (as kws/Keras).
Tensors are NCHW with H = time and W = frequency (kws's NHWC layout transposed).
It reads the features kws computed (`kws train ... --export-features`: RUN/features.f32 + features.json)
and kws's split (RUN/split.json), and trains like the config: batch size, Adam (beta 0.9/0.999, eps
1e-7), the learning-rate schedule (polynomial or cosine over all steps), no augmentation, a validation
pass every epoch (kws's epoch time includes it too).

Usage:
  torch_zoo.py RUN_DIR [--epochs 3] [--threads 2] [--seed 1]
Prints one JSON object: seconds per epoch (training + validation), samples/s, final accuracies, and the
learning curve (`curve`: each epoch's training loss/accuracy and validation loss/accuracy, as kws's
metrics.json `epochs`).
"""
import argparse
import json
import math
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_checkpoint_header(path):
    with open(path, "rb") as f:
        b = f.read(20)
        assert b[:8] == b"KWSCKPT\0", path + ": not a kws checkpoint"
        (n,) = struct.unpack("<Q", b[12:20])
        return json.loads(f.read(n))


def load_features(d):
    meta = json.load(open(os.path.join(d, "features.json")))
    x = np.fromfile(os.path.join(d, "features.f32"), dtype="<f4").reshape(meta["n"], 1, meta["frames"], meta["bins"])
    y = np.array([it.get("class_index", it["label_index"]) for it in meta["items"]], dtype=np.int64)
    return torch.from_numpy(x.copy()), torch.from_numpy(y)


def pair(v):
    return (v, v) if isinstance(v, int) else (v[0], v[1])


def same_pad(size, k, s):
    out = (size + s - 1) // s
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def glorot(t, fan_in, fan_out):
    lim = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        t.uniform_(-lim, lim)


class Conv(nn.Module):
    """conv2d / depthwise_conv2d with TF padding per axis and dilation."""

    def __init__(self, cfg, cin, depthwise):
        super().__init__()
        self.k, self.s, self.d = pair(cfg["kernel"]), pair(cfg.get("strides", 1)), pair(cfg.get("dilation", 1))
        p = cfg.get("padding", "valid")
        self.same = (p == "same", p == "same") if isinstance(p, str) else (p[0] == "same", p[1] == "same")
        groups = cin if depthwise else 1
        cout = cin * cfg.get("depth_multiplier", 1) if depthwise else cfg["filters"]
        self.conv = nn.Conv2d(cin, cout, self.k, stride=self.s, dilation=self.d, groups=groups,
                              bias=cfg.get("use_bias", True))
        kk = self.k[0] * self.k[1]
        # Keras's (and kws's) fans: a depthwise kernel [kh, kw, cin, multiplier] counts fan_in = kh*kw*cin, so its
        # initial weights are ~sqrt(cin) smaller than PyTorch's own fan would give; with BatchNorm after it the
        # training is the same, but the moving variance starts far above the real one and takes several epochs
        # to come down, which shows in the first epochs' validation accuracy.
        glorot(self.conv.weight, kk * cin, kk * (cfg.get("depth_multiplier", 1) if depthwise else cout))
        if self.conv.bias is not None:
            nn.init.zeros_(self.conv.bias)
        self.cout = cout

    def forward(self, x):
        pads = []
        for axis in (1, 0):  # F.pad order: W then H
            if self.same[axis]:
                pads += list(same_pad(x.shape[2 + axis], (self.k[axis] - 1) * self.d[axis] + 1, self.s[axis]))
            else:
                pads += [0, 0]
        if any(pads):
            x = F.pad(x, pads)
        return self.conv(x)


class SubSpectralNorm(nn.Module):
    def __init__(self, c, bands, momentum, eps):
        super().__init__()
        self.bands = bands
        self.bn = nn.BatchNorm2d(c * bands, momentum=1 - momentum, eps=eps)

    def forward(self, x):  # bands along W (frequency)
        n, c, h, w = x.shape
        y = x.transpose(2, 3).reshape(n, c * self.bands, w // self.bands, h)
        return self.bn(y).reshape(n, c, w, h).transpose(2, 3)


class Graph(nn.Module):
    def __init__(self, layers, in_shape):
        super().__init__()
        self.layers = [l for l in layers if l["type"] != "softmax"]
        self.mods = nn.ModuleList()
        self.inputs = []
        names = {}
        shapes = []  # (C, H, W) of each layer's output
        for i, l in enumerate(self.layers):
            ins = l.get("inputs")
            ins = [i - 1] if ins is None else [(-1 if n == "input" else names[n]) for n in ins]
            self.inputs.append(ins)
            s = [shapes[j] if j >= 0 else in_shape for j in ins]
            mod, out = self.make(l, s)
            self.mods.append(mod)
            shapes.append(out)
            names[l["name"]] = i

    def make(self, l, s):
        t, (c, h, w) = l["type"], s[0]
        if t in ("conv2d", "depthwise_conv2d"):
            m = Conv(l, c, t == "depthwise_conv2d")
            x = m(torch.zeros(1, c, h, w))
            return m, tuple(x.shape[1:])
        if t == "batchnorm":
            return nn.BatchNorm2d(c, momentum=1 - l["momentum"], eps=l["epsilon"]), (c, h, w)
        if t == "subspectral_norm":
            return SubSpectralNorm(c, l["sub_bands"], l["momentum"], l["epsilon"]), (c, h, w)
        if t == "dense":
            m = nn.Linear(c * h * w, l["units"], bias=l.get("use_bias", True))
            glorot(m.weight, c * h * w, l["units"])
            if m.bias is not None:
                nn.init.zeros_(m.bias)
            return m, (l["units"], 1, 1)
        if t == "dropout":
            return (nn.Dropout2d(l["rate"]) if l.get("spatial") else nn.Dropout(l["rate"])), (c, h, w)
        if t == "add":
            return nn.Identity(), tuple(max(v) for v in zip(*s))
        if t == "concat":
            return nn.Identity(), (sum(v[0] for v in s), h, w)
        if t == "mean":
            return nn.Identity(), (c, h, 1) if l["axis"] == "w" else (c, 1, w)
        if t == "global_average_pool":
            return nn.Identity(), (c, 1, 1)
        if t == "reshape":
            dims = list(l["shape"])
            if -1 in dims:
                known = -1 * dims[0] * dims[1] * dims[2]
                dims[dims.index(-1)] = c * h * w // known
            l["shape"] = dims
            return nn.Identity(), (dims[2], dims[0], dims[1])
        if t in ("relu", "swish", "hard_swish"):
            return {"relu": nn.ReLU(), "swish": nn.SiLU(), "hard_swish": nn.Hardswish()}[t], (c, h, w)
        raise ValueError("layer type " + t + " not in the PyTorch port")

    def forward(self, x):
        outs = []
        for l, m, ins in zip(self.layers, self.mods, self.inputs):
            xs = [outs[j] if j >= 0 else x for j in ins]
            t, v = l["type"], xs[0]
            if t == "add":
                v = xs[0]
                for other in xs[1:]:
                    v = v + other
            elif t == "concat":
                v = torch.cat(xs, dim=1)
            elif t == "mean":
                v = v.mean(dim=3 if l["axis"] == "w" else 2, keepdim=True)
            elif t == "global_average_pool":
                v = v.mean(dim=(2, 3), keepdim=True)
            elif t == "reshape":  # kws reshapes NHWC memory: go through NHWC
                hh, ww, cc = l["shape"]
                v = v.permute(0, 2, 3, 1).reshape(v.shape[0], hh, ww, cc).permute(0, 3, 1, 2)
            elif t == "dense":
                v = m(v.permute(0, 2, 3, 1).reshape(v.shape[0], -1)).reshape(v.shape[0], -1, 1, 1)
            else:
                v = m(v)
            outs.append(v)
        return outs[-1].reshape(x.shape[0], -1)


def lr_at(cfg, step, total):
    lr = cfg["train"]["learning_rate"]
    s = min(step, total)
    if lr["schedule"] == "cosine":
        return lr["initial"] * ((1 - lr["end"] / lr["initial"]) * 0.5 * (1 + math.cos(math.pi * s / total)) +
                                lr["end"] / lr["initial"])
    if lr["schedule"] == "polynomial":
        return (lr["initial"] - lr["end"]) * (1 - s / total) ** lr["power"] + lr["end"]
    return lr["initial"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    h = read_checkpoint_header(os.path.join(a.run, "model.ckpt"))
    cfg = h["config"]
    x, y = load_features(a.run)
    split = json.load(open(os.path.join(a.run, "split.json")))
    hh, ww, cc = h["input_shape"]
    model = Graph(h["layers"], (cc, hh, ww))
    batch = cfg["train"]["batch_size"]
    opt = torch.optim.Adam(model.parameters(), lr=cfg["train"]["learning_rate"]["initial"], betas=(0.9, 0.999), eps=1e-7)
    xt, yt = x[split["train"]], y[split["train"]]
    xv, yv = x[split["val"]], y[split["val"]]
    n = len(xt)
    total = ((n + batch - 1) // batch) * a.epochs
    step, secs, curve, gen = 0, [], [], torch.Generator().manual_seed(a.seed)
    for epoch in range(a.epochs):
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(n, generator=gen)
        correct, loss_sum = 0, 0.0
        for b in range(0, n, batch):
            idx = order[b:b + batch]
            for g in opt.param_groups:
                g["lr"] = lr_at(cfg, step, total)
            logits = model(xt[idx])
            loss = F.cross_entropy(logits, yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            correct += int((logits.argmax(1) == yt[idx]).sum())
            loss_sum += float(loss) * len(idx)
            step += 1
        model.eval()
        with torch.no_grad():
            lv = torch.cat([model(xv[i:i + 256]) for i in range(0, len(xv), 256)]) if len(xv) else None
            val_acc = float((lv.argmax(1) == yv).float().mean()) if len(xv) else 0.0
            val_loss = float(F.cross_entropy(lv, yv)) if len(xv) else 0.0
        secs.append(time.perf_counter() - t0)
        curve.append({"epoch": epoch + 1, "train_loss": loss_sum / n, "train_accuracy": correct / n,
                      "val_loss": val_loss, "val_accuracy": val_acc})
    print(json.dumps({"torch": torch.__version__, "threads": a.threads, "epochs": a.epochs, "train_items": n,
                      "seconds_per_epoch": secs, "median_seconds": float(np.median(secs)),
                      "samples_per_second": n / float(np.median(secs)), "train_accuracy": correct / n,
                      "val_accuracy": val_acc, "curve": curve,
                      "params": sum(p.numel() for p in model.parameters())}, indent=1))


if __name__ == "__main__":
    main()
