#!/usr/bin/env python3
"""PyTorch timing of one training step of the seed recipe, to compare with bench/bench_layers (SeedStep).

    /usr/bin/python3 tools/torch/bench_seed_step.py [--baseline] [threads ...]
(--baseline: configs/baseline.toml, three conv3x3 128-filter layers)

Model (configs/seed.toml): conv3x3/s2 16 (TF SAME: pad 0 before, 1 after on 97/20 rows... computed below)
+ BN + ReLU, 3 x (conv3x3/s1 16 + BN + ReLU), global average pool, dense 2; batch 25 of 97x20x1;
softmax cross-entropy; torch.optim.Adam. Prints the median of 30 timed steps after 5 warm-up steps.
"""
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def same_pad(n, k, s):
    out = (n + s - 1) // s
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


class Seed(nn.Module):
    def __init__(self, filters=16, convs=4):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(1 if i == 0 else filters, filters, 3, stride=(2, 1, 2, 2)[i] if convs == 4 else (2 if i == 0 else 1),
                                              bias=False) for i in range(convs)])
        self.bns = nn.ModuleList([nn.BatchNorm2d(filters, eps=1e-3, momentum=0.01) for _ in range(convs)])
        self.fc = nn.Linear(filters, 2)

    def forward(self, x):
        for i, (c, b) in enumerate(zip(self.convs, self.bns)):
            s = c.stride[0]
            pt, pb = same_pad(x.shape[2], 3, s)
            pl, pr = same_pad(x.shape[3], 3, s)
            x = F.relu(b(c(F.pad(x, (pl, pr, pt, pb)))))
        return self.fc(x.mean(dim=(2, 3)))


def main():
    args = sys.argv[1:]
    baseline = "--baseline" in args
    threads = [int(a) for a in args if a != "--baseline"] or [1, 2]
    for t in threads:
        torch.set_num_threads(t)
        torch.manual_seed(0)
        m = Seed(128, 3) if baseline else Seed()
        opt = torch.optim.Adam(m.parameters(), lr=0.01, eps=1e-7)
        x = torch.randn(25, 1, 97, 20)
        y = torch.randint(0, 2, (25,))
        times = []
        for i in range(35):
            t0 = time.perf_counter()
            opt.zero_grad()
            F.cross_entropy(m(x), y).backward()
            opt.step()
            if i >= 5:
                times.append(time.perf_counter() - t0)
        print(f"torch {torch.__version__} {'baseline' if baseline else 'seed'} threads={t}: step median {statistics.median(times) * 1e3:.2f} ms, "
              f"min {min(times) * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
