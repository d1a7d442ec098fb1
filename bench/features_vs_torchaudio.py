#!/usr/bin/python3
"""kws log-mel vs torchaudio MelSpectrogram, same settings, same run.

Settings: 16 kHz 1 s clip, frame 512, hop 160, n_fft 512, hann (periodic),
20 mel bands 20-6000 Hz (HTK mel, no norm), magnitude (power=1), log(x+1e-6),
no centre padding (97 frames). torch.set_num_threads(1).

Times are the best of many short batches, both as wall time and as this
process's CPU time (the machine is shared: the minimum is the least disturbed
estimate, and CPU time excludes time spent descheduled). kws numbers come from
bench_features (Google Benchmark, 30 repetitions of >= 20 ms, min).
"""
import json
import subprocess
import sys
import time


def kws_times(bench, reps):
    r = subprocess.run([bench, "--benchmark_filter=BM_(LogMelClip|MfccClip|FftClip|FftwMeasureClip|LibFloatFftClip)$",
                        "--benchmark_repetitions=%d" % reps, "--benchmark_min_time=0.02",
                        "--benchmark_format=json"],
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
    bench = sys.argv[1] if len(sys.argv) > 1 else "build/bench_features"
    reps = 30
    # Interleave to share the machine's noise: kws, torch, kws, torch.
    k1 = kws_times(bench, reps)
    t1 = torchaudio_time()
    k2 = kws_times(bench, reps)
    t2 = torchaudio_time()
    k = {n: min(k1[n], k2[n]) if not n.endswith(":label") else k1[n] for n in k1}
    ta, ta_cpu = min(t1[0], t2[0]), min(t1[1], t2[1])
    print("per 1 s clip (97 frames), 1 thread, best of many batches:   wall us    cpu us")
    for name, label in (("BM_LogMelClip", "kws log-mel (97x20)"), ("BM_MfccClip", "kws MFCC (49x10, 40 mel)"),
                        ("BM_FftClip", "kws FFT alone (97 frames)"),
                        ("BM_FftwMeasureClip", "FFTW double, FFTW_MEASURE plan (97 frames)"),
                        ("BM_LibFloatFftClip", "float32 kiss_fftr (97 frames)")):
        if name not in k:  # BM_FftwMeasureClip exists in the FFTW build only
            continue
        print("  %-45s %9.1f %9.1f   %s" % (label, k[name], k[name + ":cpu"], k[name + ":label"]))
    print("  %-45s %9.1f %9.1f" % ("torchaudio MelSpectrogram + log", ta, ta_cpu))
    print("torchaudio / kws log-mel: %.2fx (wall), %.2fx (cpu)   goal >= 5x"
          % (ta / k["BM_LogMelClip"], ta_cpu / k["BM_LogMelClip:cpu"]))
    print("kws log-mel / its FFT:    %.2fx (wall), %.2fx (cpu)   goal <= 2x"
          % (k["BM_LogMelClip"] / k["BM_FftClip"], k["BM_LogMelClip:cpu"] / k["BM_FftClip:cpu"]))


if __name__ == "__main__":
    main()
