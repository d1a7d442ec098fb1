#!/usr/bin/python3
"""kws log-mel vs torchaudio MelSpectrogram, same settings, same run.

Settings: 16 kHz 1 s clip, frame 512, hop 160, n_fft 512, hann (periodic),
20 mel bands 20-6000 Hz (HTK mel, no norm), magnitude (power=1), log(x+1e-6),
no centre padding (97 frames). torch.set_num_threads(1).

Times are the best of several batches (wall clock): the machine is shared,
so the minimum is the least disturbed estimate. kws numbers come from
bench_features (Google Benchmark, min over repetitions).
"""
import json
import subprocess
import sys
import time


def kws_times(bench, reps):
    r = subprocess.run([bench, "--benchmark_filter=BM_(LogMelClip|MfccClip|FftClip|LibFloatFftClip)$",
                        "--benchmark_repetitions=%d" % reps, "--benchmark_format=json"],
                       capture_output=True, text=True, check=True)
    out = {}
    for b in json.loads(r.stdout)["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        name = b["run_name"]
        t = b["real_time"] * {"us": 1.0, "ns": 1e-3, "ms": 1e3}[b["time_unit"]]
        out[name] = min(out.get(name, 1e18), t)
        out[name + ":label"] = b.get("label", "")
    return out


def torchaudio_time(batches=40, per=20):
    import torch
    import torchaudio
    torch.set_num_threads(1)
    x = torch.randn(16000) * 0.3
    mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=16000, n_fft=512, win_length=512, hop_length=160, f_min=20.0, f_max=6000.0, n_mels=20,
        power=1.0, center=False, norm=None, mel_scale="htk")
    with torch.inference_mode():
        for _ in range(100):
            y = torch.log(mel(x) + 1e-6)
        best = 1e18
        for _ in range(batches):
            t0 = time.perf_counter()
            for _ in range(per):
                y = torch.log(mel(x) + 1e-6)
            best = min(best, (time.perf_counter() - t0) / per)
    assert tuple(y.shape) == (20, 97), y.shape
    return best * 1e6


def main():
    bench = sys.argv[1] if len(sys.argv) > 1 else "build/bench_features"
    reps = 5
    # Interleave to share the machine's noise: kws, torch, kws, torch.
    k1 = kws_times(bench, reps)
    t1 = torchaudio_time()
    k2 = kws_times(bench, reps)
    t2 = torchaudio_time()
    k = {n: min(k1[n], k2[n]) if not n.endswith(":label") else k1[n] for n in k1}
    ta = min(t1, t2)
    logmel, fft = k["BM_LogMelClip"], k["BM_FftClip"]
    print("per 1 s clip (97 frames), best wall time, 1 thread:")
    print("  kws log-mel (97x20)          %8.1f us" % logmel)
    print("  kws MFCC (49x10, 40 mel)     %8.1f us" % k["BM_MfccClip"])
    print("  kws FFT alone (97 frames)    %8.1f us   [%s]" % (fft, k["BM_FftClip:label"]))
    print("  float32 library FFT (97)     %8.1f us   [%s]" % (k["BM_LibFloatFftClip"], k["BM_LibFloatFftClip:label"]))
    print("  torchaudio MelSpectrogram+log%8.1f us" % ta)
    print("ratio torchaudio / kws log-mel: %.2fx faster (goal >= 5x)" % (ta / logmel))
    print("kws log-mel / its FFT:          %.2fx (goal <= 2x)" % (logmel / fft))


if __name__ == "__main__":
    main()
