#!/usr/bin/python3
"""Measures `kws listen --model okay_nabu.json` (issue 21): detections on "okay nabu" spoken by kws's
synthetic voices, false alarms on an hour of the dataset's background noise, real-time factor.

  tools/eval_wake_word.py [--manifest ../shared/reference/micro_wake_word/okay_nabu.json]
                          [--noise ../shared/data/speech_commands/_background_noise_] [--out DIR]
                          [--hours 1] [--snr-db 10]

Voices: every espeak-ng accent x variant kws's synthesizer uses (src/synth/tts.cc: EspeakAccents,
EspeakVariants, at their default rate and pitch), the flite voices and the festival voices, each
saying "okay nabu" once (resampled to 16 kHz by sox without dither, peak-normalized to -6 dBFS). Two streams, one
utterance per voice every 4 s:
  quiet: over white noise at -60 dBFS;
  noisy: over the background-noise files (in turn) at --snr-db below the utterance's RMS.
Each stream runs through one `kws listen --scores --json` (stdin, raw s16le). A detection belongs to
the utterance whose span [start, end + 1 s) holds it; any other detection is counted as extra. Per
voice: detections and the largest sliding-window mean inside the span (from --scores).
Noise: the background-noise files, each at its own level, concatenated and looped to --hours, piped
through kws listen (stdin, raw s16le): detections and the summary's real-time factor.

Writes DIR/voices.csv (per voice and stream) and DIR/summary.json and prints a summary.
Needs espeak-ng, flite, festival, sox (setup.sh installs them) and numpy.
"""
import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import wave

import numpy as np

RATE = 16000
# src/synth/tts.cc (kws's synthetic voices)
ESPEAK_ACCENTS = ["en-us", "en", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
ESPEAK_VARIANTS = [
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
    "klatt", "klatt2", "klatt3", "klatt4", "klatt6", "Alex", "Andy", "Lee", "Mike", "Gene", "Gene2",
    "Jacky", "Mario", "Michael", "antonio", "aunty", "belinda", "linda", "steph", "steph2", "grandma",
    "grandpa", "gustave", "john", "norbert", "pedro", "quincy", "rob", "robert", "ed", "edward", "adam",
    "benjamin", "david", "marcelo", "max", "boris", "Andrea", "travis", "Nguyen", "iven3"]
FLITE_VOICES = ["kal16", "awb", "rms", "slt"]
FESTIVAL_VOICES = ["kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts"]
PHRASE = "okay nabu"
GAP_S = 4.0  # from one utterance's start to the next


def read_wav(path):
    with wave.open(path, "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1 and w.getframerate() == RATE, path
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768.0


def to_16k(src, dst):
    subprocess.run(["sox", "-D", src, "-r", str(RATE), "-b", "16", "-c", "1", dst], check=True)


def synthesize(tmp):
    """[(engine, voice, samples)] for every voice that produced audio."""
    out = []
    for accent in ESPEAK_ACCENTS:
        for variant in ESPEAK_VARIANTS:
            raw, wav = os.path.join(tmp, "raw.wav"), os.path.join(tmp, "u.wav")
            subprocess.run(["espeak-ng", "-v", f"{accent}+{variant}", "-w", raw, PHRASE], check=True,
                           stderr=subprocess.DEVNULL)
            to_16k(raw, wav)
            out.append(("espeak-ng", f"{accent}+{variant}", read_wav(wav)))
    for voice in FLITE_VOICES:
        raw, wav = os.path.join(tmp, "raw.wav"), os.path.join(tmp, "u.wav")
        subprocess.run(["flite", "-voice", voice, "-t", PHRASE, "-o", raw], check=True)
        to_16k(raw, wav)
        out.append(("flite", voice, read_wav(wav)))
    for voice in FESTIVAL_VOICES:
        raw, wav = os.path.join(tmp, "raw.wav"), os.path.join(tmp, "u.wav")
        script = os.path.join(tmp, "say.scm")
        with open(script, "w") as f:
            f.write(f'(voice_{voice})\n(utt.save.wave (utt.synth (Utterance Text "{PHRASE}")) "{raw}" \'riff)\n')
        subprocess.run(["festival", "-b", script], check=True)
        to_16k(raw, wav)
        out.append(("festival", voice, read_wav(wav)))
    return out


def trim(x, level=0.01):
    loud = np.nonzero(np.abs(x) > level * np.max(np.abs(x)))[0]
    return x[loud[0]:loud[-1] + 1] if len(loud) else x


def noise_files(folder):
    return [read_wav(os.path.join(folder, f)) for f in sorted(os.listdir(folder)) if f.endswith(".wav")]


def build_stream(utterances, noises, snr_db, rng):
    """Stream with utterance k starting at 1 s + k * GAP_S; returns (samples, spans in seconds)."""
    total = int((1.0 + GAP_S * len(utterances) + 1.0) * RATE)
    x = np.zeros(total)
    spans = []
    for k, u in enumerate(utterances):
        u = trim(u)
        u = u * (0.5 / np.max(np.abs(u)))  # peak -6 dBFS
        start = int((1.0 + GAP_S * k) * RATE)
        x[start:start + len(u)] += u
        seg = slice(start - RATE // 2, start + int(GAP_S * RATE) - RATE // 2)
        if noises is not None:  # background noise for this utterance's 4 s, scaled to the SNR
            n = noises[k % len(noises)]
            at = int(rng.integers(0, len(n) - (seg.stop - seg.start)))
            piece = n[at:at + seg.stop - seg.start]
            gain = np.sqrt(np.mean(u ** 2)) / (np.sqrt(np.mean(piece ** 2)) + 1e-12) / 10 ** (snr_db / 20)
            x[seg] += gain * piece
        spans.append((start / RATE, (start + len(u)) / RATE))
    if noises is None:
        x += 0.001 * (rng.random(total) * 2 - 1)
    return x, spans


def pcm(x):
    return (np.clip(np.round(x * 32768.0), -32768, 32767)).astype("<i2").tobytes()


def listen(kws, manifest, chunks, scores):
    """Pipes the byte chunks into kws listen's stdin; returns (detections, summary, [(t, mean)])."""
    args = [kws, "listen", "--model", manifest, "--json"] + (["--scores"] if scores else [])
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err_file:
        p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=out, stderr=err_file)
        for c in chunks:
            p.stdin.write(c)
        p.stdin.close()
        if p.wait() != 0:
            err_file.seek(0)
            sys.exit(f"kws listen failed: {err_file.read().decode()}")
        out.seek(0)
        err_file.seek(0)
        stdout, stderr = out.read().decode(), err_file.read().decode()
    detections = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    err = stderr.splitlines()
    summary = json.loads(err[-1])
    means = []
    for line in err:
        m = re.match(r"\s*([0-9.]+) p=([0-9.]+) mean=([0-9.]+)$", line)
        if m:
            means.append((float(m.group(1)), float(m.group(3))))
    return detections, summary, means


def score_voices(voices, spans, detections, means):
    rows, extra = [], 0
    owner = []
    for d in detections:
        k = next((i for i, (a, b) in enumerate(spans) if a < d["t"] <= b + 1.0), None)
        owner.append(k)
        if k is None:
            extra += 1
    t = np.array([m[0] for m in means])
    v = np.array([m[1] for m in means])
    for i, ((engine, voice, _), (a, b)) in enumerate(zip(voices, spans)):
        mine = [d for d, k in zip(detections, owner) if k == i]
        inside = (t > a) & (t <= b + 1.0)
        rows.append({"engine": engine, "voice": voice, "start_s": round(a, 3), "end_s": round(b, 3),
                     "detections": len(mine), "score": mine[0]["score"] if mine else None,
                     "max_mean": float(v[inside].max()) if inside.any() else 0.0})
    return rows, extra


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--manifest", default=os.path.join(here, "../../shared/reference/micro_wake_word/okay_nabu.json"))
    ap.add_argument("--noise", default=os.path.join(here, "../../shared/data/speech_commands/_background_noise_"))
    ap.add_argument("--kws", default=os.path.join(here, "../build/kws"))
    ap.add_argument("--out", default="wake_word_eval")
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--snr-db", type=float, default=10.0)
    a = ap.parse_args()
    for prog in ("espeak-ng", "flite", "festival", "sox"):
        if not shutil.which(prog):
            sys.exit(f"{prog} not found (setup.sh installs it)")
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(21)
    noises = noise_files(a.noise)
    with tempfile.TemporaryDirectory() as tmp:
        voices = synthesize(tmp)
    result = {"manifest": a.manifest, "voices": len(voices), "snr_db": a.snr_db}
    all_rows = []
    for name, bank in (("quiet", None), ("noisy", noises)):
        x, spans = build_stream([v[2] for v in voices], bank, a.snr_db, rng)
        detections, summary, means = listen(a.kws, a.manifest, [pcm(x)], scores=True)
        rows, extra = score_voices(voices, spans, detections, means)
        for r in rows:
            r["stream"] = name
        all_rows += rows
        fired = [r for r in rows if r["detections"] >= 1]
        result[name] = {"utterances": len(rows), "detected": len(fired),
                        "twice": sum(r["detections"] >= 2 for r in rows), "extra_detections": extra,
                        "audio_seconds": summary["audio_seconds"], "real_time_factor": summary["real_time_factor"],
                        "per_engine": {e: [sum(r["detections"] >= 1 for r in rows if r["engine"] == e),
                                           sum(r["engine"] == e for r in rows)]
                                       for e in ("espeak-ng", "flite", "festival")},
                        "per_accent": {acc: [sum(r["detections"] >= 1 for r in rows
                                                 if r["voice"].split("+")[0] == acc and r["engine"] == "espeak-ng"),
                                             len(ESPEAK_VARIANTS)] for acc in ESPEAK_ACCENTS},
                        "scores": {"min": min((r["score"] for r in fired), default=None),
                                   "median": float(np.median([r["score"] for r in fired])) if fired else None},
                        "missed": [[r["engine"], r["voice"], round(r["max_mean"], 3)]
                                   for r in rows if r["detections"] == 0]}
    # An hour of background noise, looped, through stdin.
    loop = pcm(np.concatenate(noises))
    n = int(a.hours * 3600 * RATE) * 2  # bytes

    def looped():
        left = n
        while left > 0:
            yield loop[:left]
            left -= min(left, len(loop))

    detections, summary, _ = listen(a.kws, a.manifest, looped(), scores=False)
    result["noise"] = {"hours": a.hours, "files": len(noises), "loop_seconds": len(loop) / 2 / RATE,
                       "audio_seconds": summary["audio_seconds"],
                       "detections": len(detections), "at": [d["t"] for d in detections],
                       "real_time_factor": summary["real_time_factor"],
                       "processing_seconds": summary["processing_seconds"]}
    with open(os.path.join(a.out, "voices.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(all_rows[0].keys()))
        w.writeheader()
        w.writerows(all_rows)
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
