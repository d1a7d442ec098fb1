#!/usr/bin/python3
"""kws log-mel vs torchaudio MelSpectrogram, same settings, same run (issue 2).

Settings: 16 kHz 1 s clip, frame 512, hop 160, n_fft 512, hann (periodic),
20 mel bands 20-6000 Hz (HTK mel, no norm), magnitude (power=1), log(x+1e-6),
no centre padding (97 frames). torch.set_num_threads(1); kws single thread.

The machine is shared, so kws and torchaudio are measured alternately in
ROUNDS rounds (kws, torch, kws, torch, ...). In each round a time is the best of
many short batches of about the same length (torchaudio: 40 batches of 20
calls, ~6 ms; kws: 40 Google Benchmark repetitions of >= 6 ms), as wall time
and as the process's CPU time (CPU time excludes time spent descheduled: on a
loaded machine it is the fairer of the two). Printed: every round's ratio, then the
best time of each side over all rounds and their ratio. Goals: torchaudio / kws
log-mel >= 5, kws log-mel / its own FFT <= 2. Finally the whole shared Speech
Commands pool on 2 threads (BM_Pool2Threads).

  bench/features_vs_torchaudio.sh [BUILD_DIR] [--rounds N] [--no-pool]
"""
import argparse
import json
import os
import subprocess
import time

CASES = "BM_(LogMelClip|MfccClip|FftClip|FftLibClip|FftR2cClip|FftwMeasureClip|LibFloatFftClip)$"


def kws_times(bench, reps, flt=CASES, min_time="0.006"):
    r = subprocess.run([bench, "--benchmark_filter=" + flt, "--benchmark_repetitions=%d" % reps,
                        "--benchmark_min_time=" + min_time, "--benchmark_format=json"],
                       capture_output=True, text=True, check=True)
    out = {}
    for b in json.loads(r.stdout)["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        name = b["run_name"]
        scale = {"us": 1.0, "ns": 1e-3, "ms": 1e3}[b["time_unit"]]
        out[name] = min(out.get(name, 1e18), b["real_time"] * scale)
        out[name + ":cpu"] = min(out.get(name + ":cpu", 1e18), b["cpu_time"] * scale)
        out[name + ":label"] = b.get("label", "")
        for k in ("us_per_clip", "clips"):
            if k in b:
                out[name + ":" + k] = min(out.get(name + ":" + k, 1e18), b[k])
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
        best, best_cpu = 1e18, 1e18
        for _ in range(batches):
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(per):
                y = torch.log(mel(x) + 1e-6)
            best = min(best, (time.perf_counter() - t0) / per)
            best_cpu = min(best_cpu, (time.process_time() - c0) / per)
    assert tuple(y.shape) == (20, 97), y.shape
    return best * 1e6, best_cpu * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bench", nargs="?", default="build/bench_features")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=40, help="Google Benchmark repetitions (>= 6 ms each) per round")
    ap.add_argument("--no-pool", action="store_true")
    args = ap.parse_args()

    with open("/proc/loadavg") as f:
        print("load average before: " + " ".join(f.read().split()[:3]) + " (on %d cores)" % os.cpu_count())
    rounds = []
    print("round   kws log-mel us   torchaudio us   ratio (wall)   ratio (cpu)   kws FFT us   log-mel/FFT")
    for i in range(args.rounds):
        k = kws_times(args.bench, args.reps)
        t = torchaudio_time()
        rounds.append((k, t))
        print("%5d %16.1f %15.1f %13.2fx %12.2fx %12.1f %12.2fx"
              % (i + 1, k["BM_LogMelClip"], t[0], t[0] / k["BM_LogMelClip"], t[1] / k["BM_LogMelClip:cpu"],
                 k["BM_FftClip"], k["BM_LogMelClip"] / k["BM_FftClip"]))
    first = rounds[0][0]
    k = {n: (min(r[0][n] for r in rounds) if not n.endswith(":label") else first[n]) for n in first}
    ta, ta_cpu = min(r[1][0] for r in rounds), min(r[1][1] for r in rounds)
    ratios = [r[1][0] / r[0]["BM_LogMelClip"] for r in rounds]
    cpu_ratios = [r[1][1] / r[0]["BM_LogMelClip:cpu"] for r in rounds]
    fft_ratios = [r[0]["BM_LogMelClip"] / r[0]["BM_FftClip"] for r in rounds]

    print()
    print("per 1 s clip (97 frames), 1 thread, best over %d rounds:   wall us    cpu us" % args.rounds)
    for name, label in (("BM_LogMelClip", "kws log-mel (97x20)"), ("BM_MfccClip", "kws MFCC (49x10, 40 mel)"),
                        ("BM_FftClip", "kws FFT alone (97 complete rfft(512))"),
                        ("BM_FftLibClip", "  of which the library complex FFT(256)"),
                        ("BM_FftR2cClip", "FFTW r2c(512) ESTIMATE with copies (before)"),
                        ("BM_FftwMeasureClip", "FFTW r2c(512), FFTW_MEASURE plan"),
                        ("BM_LibFloatFftClip", "float32 kiss_fftr (97 frames)")):
        if name not in k:  # BM_FftwMeasureClip exists in the FFTW build only
            continue
        print("  %-48s %9.1f %9.1f   %s" % (label, k[name], k[name + ":cpu"], k[name + ":label"]))
    print("  %-48s %9.1f %9.1f" % ("torchaudio MelSpectrogram + log", ta, ta_cpu))
    print("torchaudio / kws log-mel: %.2fx (wall), %.2fx (cpu)   goal >= 5x;  per round %.2f-%.2fx wall, %.2f-%.2fx cpu"
          % (ta / k["BM_LogMelClip"], ta_cpu / k["BM_LogMelClip:cpu"], min(ratios), max(ratios), min(cpu_ratios),
             max(cpu_ratios)))
    print("kws log-mel / its FFT:    %.2fx (wall), %.2fx (cpu)   goal <= 2x;  per round %.2f-%.2fx"
          % (k["BM_LogMelClip"] / k["BM_FftClip"], k["BM_LogMelClip:cpu"] / k["BM_FftClip:cpu"], min(fft_ratios),
             max(fft_ratios)))
    print("kws log-mel / library FFT call alone: %.2fx (wall)" % (k["BM_LogMelClip"] / k["BM_FftLibClip"]))

    if not args.no_pool:
        p = kws_times(args.bench, 1, "BM_Pool2Threads", "0")
        name = next((n for n in p if n.startswith("BM_Pool2Threads") and n + ":cpu" in p), None)
        if name and name + ":clips" in p:
            clips = p[name + ":clips"]
            print("whole shared pool, 2 threads: %d clips in %.0f ms = %.1f us/clip wall; process CPU %.1f us/clip "
                  "(both threads; best of 3, clips preloaded)"
                  % (clips, p[name] / 1e3, p[name] / clips, p[name + ":cpu"] / clips))
        else:
            print("whole shared pool: not measured (no Speech Commands pool under KWS_SHARED_DATA)")


if __name__ == "__main__":
    main()
