#!/usr/bin/python3
"""NumPy reference for kws features, written from the tf.signal formulas
(tensorflow/python/ops/signal/), independent of the C++ code. float64 throughout.

  frames = 1 + floor((N - L) / step)            (no end padding)
  hann (periodic): 0.5 - 0.5 cos(2 pi n / L)    (L even; odd L: symmetric, L - 1)
  |rfft(frame * window, fft_length)|
  mel(f) = 1127 ln(1 + f / 700); bin freqs = linspace(0, sr/2, bins); DC row 0;
  triangles linear in mel, peak 1, no normalisation
  log(mel + log_offset)
  MFCC: sqrt(2/N) * sum_n x_n cos(pi k (2n + 1) / (2N)), first K
"""
import wave

import numpy as np


def read_wav(path):
    """16-bit PCM WAV -> (mono float64 in [-1, 1), rate). Channels averaged."""
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(path + ": reference reads 16-bit PCM only")
        ch, rate, n = w.getnchannels(), w.getframerate(), w.getnframes()
        x = np.frombuffer(w.readframes(n), dtype="<i2").astype(np.float64) / 32768.0
    return x.reshape(-1, ch).mean(axis=1), rate


def write_wav(path, x, rate, channels=1):
    """x: float array [n] or [n, channels] in [-1, 1] -> 16-bit PCM WAV."""
    v = np.clip(np.round(np.asarray(x, dtype=np.float64) * 32768.0), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(v.tobytes())


def hann(L):
    if L == 1:
        return np.ones(1)
    d = L if L % 2 == 0 else L - 1
    n = np.arange(L)
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * n / d)


def hz_to_mel(f):
    return 1127.0 * np.log(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_matrix(num_mel, num_bins, sr, lo, hi):
    freqs = np.linspace(0.0, sr / 2.0, num_bins)
    m = hz_to_mel(freqs)[1:, None]                     # skip DC
    edges = np.linspace(hz_to_mel(lo), hz_to_mel(hi), num_mel + 2)
    left, center, right = edges[:-2], edges[1:-1], edges[2:]
    up = (m - left) / (center - left)
    down = (right - m) / (right - center)
    w = np.maximum(0.0, np.minimum(up, down))
    return np.vstack([np.zeros((1, num_mel)), w])      # [num_bins, num_mel]


def features(x, sr, frame_s=0.032, step_s=0.010, fft_length=512, num_mel=20, lo=20.0, hi=6000.0,
             log_offset=1e-6, mfcc=0, clip_s=1.0):
    W = int(round(clip_s * sr))
    x = np.asarray(x, dtype=np.float64)[:W]
    x = np.concatenate([x, np.zeros(W - len(x))])
    L, step = int(round(frame_s * sr)), int(round(step_s * sr))
    if fft_length == 0:
        fft_length = 1 << int(np.ceil(np.log2(L)))
    n = 1 + (len(x) - L) // step
    idx = np.arange(n)[:, None] * step + np.arange(L)[None, :]
    spec = np.abs(np.fft.rfft(x[idx] * hann(L), n=fft_length, axis=1))
    logmel = np.log(spec @ mel_matrix(num_mel, fft_length // 2 + 1, sr, lo, hi) + log_offset)
    if mfcc == 0:
        return logmel
    N = num_mel
    k = np.arange(mfcc)[:, None]
    nn = np.arange(N)[None, :]
    dct = np.sqrt(2.0 / N) * np.cos(np.pi * k * (2 * nn + 1) / (2.0 * N))   # [K, N]
    return logmel @ dct.T
