#!/usr/bin/python3
"""Would a float32 FFT pass the log-mel/MFCC parity? (issue 2: the measurement
behind keeping the FFT in double, see src/features/fft.h.)

Computes the features with FFTW's single-precision r2c (libfftw3f through
ctypes, FFTW_ESTIMATE, window applied in float32) on the parity cases of
tests/features/parity.py, in two variants: everything after the FFT in
float32 ("f32"), and magnitude + mel sums in float64 ("f64 mel": the cheap
fix), and prints the worst max |diff| against the float64 NumPy reference
(tests/features/reference.py) per parameter set. Tolerance of the parity
tests: 1e-4.

  bench/features_float32_parity.py [--data ../shared/data/speech_commands]
"""
import argparse
import ctypes
import ctypes.util
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "features"))
import parity  # noqa: E402
import reference  # noqa: E402

lib = ctypes.CDLL(ctypes.util.find_library("fftw3f") or "libfftw3f.so.3")
lib.fftwf_plan_dft_r2c_1d.restype = ctypes.c_void_p
lib.fftwf_plan_dft_r2c_1d.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint]
lib.fftwf_execute_dft_r2c.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
FFTW_ESTIMATE = 1 << 6


def rfft32(frames, n):
    inb = np.zeros(n, np.float32)
    outb = np.zeros(n // 2 + 1, np.complex64)
    plan = lib.fftwf_plan_dft_r2c_1d(n, inb.ctypes.data, outb.ctypes.data, FFTW_ESTIMATE)
    res = np.empty((len(frames), n // 2 + 1), np.complex64)
    for i, fr in enumerate(frames):
        inb[:] = 0
        inb[:len(fr)] = fr
        lib.fftwf_execute_dft_r2c(plan, inb.ctypes.data, outb.ctypes.data)
        res[i] = outb
    return res


def features32(x, sr, p, f64_mel):
    frame_s, step_s, fft, mel, lo, hi, mfcc = p
    x = np.asarray(x, np.float64)[:sr]
    x = np.concatenate([x, np.zeros(sr - len(x))])
    L, step = int(round(frame_s * sr)), int(round(step_s * sr))
    n = 1 + (len(x) - L) // step
    idx = np.arange(n)[:, None] * step + np.arange(L)[None, :]
    spec = rfft32(x[idx].astype(np.float32) * reference.hann(L).astype(np.float32), fft)
    W = reference.mel_matrix(mel, fft // 2 + 1, sr, lo, hi)
    if f64_mel:
        m = np.abs(spec.astype(np.complex128)) @ W
    else:
        m = np.abs(spec) @ W.astype(np.float32)
    lm = np.log(m.astype(np.float64) + 1e-6)
    if mfcc == 0:
        return lm
    k = np.arange(mfcc)[:, None]
    nn = np.arange(mel)[None, :]
    return lm @ (np.sqrt(2.0 / mel) * np.cos(np.pi * k * (2 * nn + 1) / (2.0 * mel))).T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(HERE, "..", "..", "shared", "data", "speech_commands"))
    args = ap.parse_args()
    for name in sorted(parity.SETS):
        p = parity.SETS[name]
        cases = []
        if os.path.isdir(args.data):
            for label, i in parity.REAL:
                files = sorted(f for f in os.listdir(os.path.join(args.data, label)) if f.endswith(".wav"))
                if files:
                    f = files[min(i, len(files) - 1)]
                    cases.append((label + "/" + f, os.path.join(args.data, label, f)))
        with tempfile.TemporaryDirectory() as tmp:
            cases += [(c[0], c[1]) for c in parity.synth(tmp)]
            for f64_mel in (False, True):
                rows = []
                for case, path in cases:
                    x, rate = reference.read_wav(path)
                    hi = min(p[5], rate / 2.0)
                    want = reference.features(x, rate, p[0], p[1], p[2], p[3], p[4], hi, 1e-6, p[6], 1.0)
                    got = features32(x, rate, p[:5] + (hi,) + p[6:], f64_mel)
                    rows.append((float(np.max(np.abs(got - want))), case))
                rows.sort(reverse=True)
                print("%-7s %-8s fail %2d/%d  worst: %s" % (name, "f64 mel" if f64_mel else "f32", sum(d > 1e-4 for d, _ in rows),
                                                   len(rows), ", ".join("%s %.2g" % (c, d) for d, c in rows[:4])))


if __name__ == "__main__":
    main()
