#!/usr/bin/python3
"""Parity of `kws features --json` with the NumPy reference (reference.py).

For one parameter set, runs kws on a fixed handful of Speech Commands clips
(if the data is present) and on synthetic WAVs written here (sine, chirp,
digital silence, full-scale white noise, 8 kHz stereo), prints the max abs
difference per case and exits 1 if any exceeds the tolerance.

  parity.py --kws build/kws --set mel20 [--data ../shared/data/speech_commands]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402

SETS = {
    # name: (frame_s, step_s, fft, mel, lo, hi, mfcc)
    "mel20": (0.032, 0.010, 512, 20, 20.0, 6000.0, 0),       # the seed recipe
    "mel40": (0.030, 0.020, 512, 40, 20.0, 4000.0, 0),       # MLPerf Tiny / micro_speech framing
    "mfcc10": (0.030, 0.020, 512, 40, 20.0, 4000.0, 10),     # MLPerf Tiny KWS input (49x10)
    "mfcc13": (0.032, 0.010, 512, 20, 20.0, 6000.0, 13),
}

# A fixed handful across labels: (label folder, index in the sorted listing).
REAL = [("yes", 0), ("no", 3), ("up", 7), ("stop", 11), ("left", 2), ("_unknown_", 5), ("_silence_", 0),
        ("_silence_", 9)]


def synth(dirname):
    sr = 16000
    t = np.arange(sr) / sr
    rng = np.random.default_rng(1234)
    out = []

    def add(name, x, rate=sr, channels=1):
        p = os.path.join(dirname, name)
        reference.write_wav(p, x, rate, channels)
        out.append((name, p, rate))

    add("sine_1k.wav", 0.5 * np.sin(2 * np.pi * 1000 * t))
    add("chirp.wav", 0.8 * np.sin(2 * np.pi * (50 * t + (7000 - 50) / 2 * t * t)))
    add("silence.wav", np.zeros(sr))
    add("noise_fullscale.wav", rng.integers(-32768, 32768, sr) / 32768.0)
    add("short_0.4s.wav", 0.3 * np.sin(2 * np.pi * 440 * t[: int(0.4 * sr)]))
    t8 = np.arange(8000) / 8000
    st = np.stack([0.6 * np.sin(2 * np.pi * 300 * t8), 0.3 * rng.standard_normal(8000).clip(-1, 1)], axis=1)
    add("stereo_8k.wav", st, rate=8000, channels=2)
    return out


def run_kws(kws, path, sr, p):
    frame_s, step_s, fft, mel, lo, hi, mfcc = p
    cmd = [kws, "features", path, "--json", "--sample-rate", str(sr), "--frame-length-s", repr(frame_s),
           "--frame-step-s", repr(step_s), "--fft-length", str(fft), "--num-mel-bins", str(mel),
           "--lower-hz", repr(lo), "--upper-hz", repr(hi), "--log-offset", "1e-6", "--mfcc", str(mfcc)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(" ".join(cmd) + " failed: " + r.stderr)
    j = json.loads(r.stdout)
    a = np.array(j["data"], dtype=np.float64)
    assert a.shape == (j["frames"], j["bins"]), (a.shape, j["frames"], j["bins"])
    return a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kws", required=True)
    ap.add_argument("--set", required=True, choices=sorted(SETS))
    ap.add_argument("--data", default="")
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args()
    p = SETS[args.set]
    frame_s, step_s, fft, mel, lo, hi, mfcc = p

    cases = []
    if args.data and os.path.isdir(args.data):
        for label, i in REAL:
            files = sorted(f for f in os.listdir(os.path.join(args.data, label)) if f.endswith(".wav"))
            if files:
                f = files[min(i, len(files) - 1)]
                cases.append((label + "/" + f, os.path.join(args.data, label, f), 16000))
    else:
        print("note: no Speech Commands data at '%s'; synthetic clips only" % args.data)

    worst = 0.0
    failed = []
    with tempfile.TemporaryDirectory(prefix="kws_parity_") as tmp:
        cases += synth(tmp)
        for name, path, rate in cases:
            x, file_rate = reference.read_wav(path)
            assert file_rate == rate
            # 8 kHz input: compare at 8 kHz (the reference has no resampler); the
            # upper edge is capped at the 4 kHz Nyquist.
            hi_c = min(hi, rate / 2.0)
            pp = (frame_s, step_s, fft, mel, lo, hi_c, mfcc)
            got = run_kws(args.kws, path, rate, pp)
            want = reference.features(x, rate, frame_s, step_s, fft, mel, lo, hi_c, 1e-6, mfcc, 1.0)
            if got.shape != want.shape:
                print("%-45s shape %s, reference %s  FAIL" % (name, got.shape, want.shape))
                failed.append(name)
                continue
            d = float(np.max(np.abs(got - want)))
            worst = max(worst, d)
            ok = d <= args.tol
            print("%-45s %dx%d  max|diff| %.3g  %s" % (name, got.shape[0], got.shape[1], d, "ok" if ok else "FAIL"))
            if not ok:
                failed.append(name)
    print("set %s: %d cases, worst max|diff| %.3g (tolerance %g)" % (args.set, len(cases), worst, args.tol))
    if failed:
        print("FAILED: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
