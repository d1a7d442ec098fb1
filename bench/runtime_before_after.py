#!/usr/bin/env python3
"""Invoke latency of the seed models in two kws binaries, interleaved in one run.

    bench/runtime_before_after.py OLD/kws NEW/kws [--rounds 7] [--runs 1000] [--portable]

Writes the seed-shaped models (float / dynamic-range / int8, 85 % pruned, as `kws bench --write-seed-models`
makes them) once, then for every round runs `kws bench --json` on each model with the old and the new binary
in alternating order, so load changes on a shared machine hit both alike. Prints, per model, the median over
rounds of `invoke_us` (itself the median of --runs single-thread calls) and [min-max], the new/old ratio, and
checks that both binaries report the same arena size, MACs and weights. --portable sets KWS_FORCE_PORTABLE=1
(the plain C++ kernels).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def bench(binary, model, runs, env):
    out = subprocess.run([binary, "bench", "--model", model, "--json", "--runs", str(runs)], env=env,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--portable", action="store_true")
    a = ap.parse_args()
    env = dict(os.environ)
    if a.portable:
        env["KWS_FORCE_PORTABLE"] = "1"
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([a.new, "bench", "--write-seed-models", d], check=True, capture_output=True)
        models = ["float", "dynamic", "int8"]
        times = {(m, b): [] for m in models for b in ("old", "new")}
        facts = {}
        for r in range(a.rounds):
            for m in models:
                order = ("old", "new") if r % 2 == 0 else ("new", "old")
                for b in order:
                    j = bench(a.old if b == "old" else a.new, os.path.join(d, f"seed_{m}.tflite"), a.runs, env)
                    times[(m, b)].append(j["invoke_us"])
                    key = (j["arena_bytes"], j["macs"], j["params"], j["nonzero_params"], j["kind"])
                    if facts.setdefault((m, b), key) != key:
                        sys.exit(f"{m} {b}: report changed between rounds")
        print(f"{'model':8} {'old us':>22} {'new us':>22} {'new/old':>8}   arena, MACs, weights (old = new?)")
        for m in models:
            o, n = times[(m, "old")], times[(m, "new")]
            same = facts[(m, "old")] == facts[(m, "new")]
            print(f"{m:8} {statistics.median(o):8.2f} [{min(o):5.2f}-{max(o):5.2f}] "
                  f"{statistics.median(n):8.2f} [{min(n):5.2f}-{max(n):5.2f}] "
                  f"{statistics.median(n) / statistics.median(o):8.3f}   {facts[(m, 'new')][:4]} "
                  f"{'same' if same else 'DIFFERENT: old ' + str(facts[(m, 'old')])}")


if __name__ == "__main__":
    main()
