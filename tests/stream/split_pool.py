#!/usr/bin/env python3
"""Speaker- and noise-disjoint split of a Speech Commands folder for honest stream evaluation.

  split_pool.py SRC OUT [--tune 15] [--eval 25] [--noise 0.6,0.75]

Every speaker goes to exactly one of OUT/train, OUT/tune, OUT/eval, by
sha1("kws-stream:" + speaker) % 100 (< eval -> eval, < eval + tune -> tune, else train),
so the split is stable and independent of which other speakers are present.
Word clips (.wav or .flac) are symlinked (WORD/<speaker>_nohash_<n>.wav, _unknown_/WORD_<speaker>_nohash_<n>.wav).
Each _background_noise_ file is cut by time: train gets [0, a), tune [a, b), eval [b, 1)
of every file (written as 16-bit WAV), so no noise sample is shared between the parts.
The _silence_ folder (1 s slices of those same noise files) is left out: kws train then
synthesises _silence_ from the part's own noise. Standard library only.
"""
import argparse
import hashlib
import os
import wave


def speaker_of(name):
    base = os.path.basename(name)
    if "_nohash_" not in base:
        return None
    head = base.split("_nohash_")[0]
    return head


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--tune", type=int, default=15)
    ap.add_argument("--eval", type=int, default=25)
    ap.add_argument("--noise", default="0.6,0.75")
    a = ap.parse_args()
    cut = [float(v) for v in a.noise.split(",")]
    parts = {"train": (0.0, cut[0]), "tune": (cut[0], cut[1]), "eval": (cut[1], 1.0)}
    counts = {p: 0 for p in parts}
    speakers = {p: set() for p in parts}
    for p in parts:
        os.makedirs(os.path.join(a.out, p), exist_ok=True)
    for label in sorted(os.listdir(a.src)):
        d = os.path.join(a.src, label)
        if not os.path.isdir(d) or label in ("_background_noise_", "_silence_"):
            continue
        for f in sorted(os.listdir(d)):
            if not f.endswith((".wav", ".flac")):
                continue
            spk = speaker_of(f)
            if spk is None:
                continue
            if label == "_unknown_":
                spk = spk.split("_", 1)[1] if "_" in spk else spk  # WORD_<speaker>
            h = int(hashlib.sha1(("kws-stream:" + spk).encode()).hexdigest(), 16) % 100
            part = "eval" if h < a.eval else ("tune" if h < a.eval + a.tune else "train")
            od = os.path.join(a.out, part, label)
            os.makedirs(od, exist_ok=True)
            dst = os.path.join(od, f)
            if not os.path.lexists(dst):
                os.symlink(os.path.abspath(os.path.join(d, f)), dst)
            counts[part] += 1
            speakers[part].add(spk)
    nd = os.path.join(a.src, "_background_noise_")
    for f in sorted(os.listdir(nd)) if os.path.isdir(nd) else []:  # v0.01 has no noise folder
        if not f.endswith(".wav"):
            continue
        with wave.open(os.path.join(nd, f)) as w:
            params = w.getparams()
            frames = w.readframes(w.getnframes())
        width = params.sampwidth * params.nchannels
        n = len(frames) // width
        for p, (lo, hi) in parts.items():
            od = os.path.join(a.out, p, "_background_noise_")
            os.makedirs(od, exist_ok=True)
            with wave.open(os.path.join(od, f), "wb") as w:
                w.setparams(params)
                w.writeframes(frames[int(lo * n) * width:int(hi * n) * width])
    for p in parts:
        print(f"{p}: {counts[p]} clips, {len(speakers[p])} speakers, noise {parts[p][0]:.2f}-{parts[p][1]:.2f} of each file")
    assert not (speakers["train"] & speakers["eval"]) and not (speakers["tune"] & speakers["eval"])


if __name__ == "__main__":
    main()
