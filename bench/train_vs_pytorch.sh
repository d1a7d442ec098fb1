#!/bin/bash
# Seed recipe (configs/seed.toml): kws vs PyTorch (bench/torch_seed.py) on the shared pool's yes/no clips.
#   (a) one 80-epoch training run each, 2 threads, same features and same speaker-disjoint
#       train/validation split: training-loop wall time and samples/s;
#   (b) 5-fold speaker-disjoint cross-validation x 3 seeds each, on the same folds (kws exports
#       cv.json with every item's fold and each fold's validation carve-out): held-out accuracy.
# Both read the features kws computed (--export-features), so only the training differs.
#
#   bench/train_vs_pytorch.sh            # both parts
#   PART=a bench/train_vs_pytorch.sh     # timing only;  PART=b: cross-validation only
#   EPOCHS=20 FOLDS=3 SEEDS=1 bench/train_vs_pytorch.sh   # quicker
#   REPS=5 PART=a bench/train_vs_pytorch.sh   # (a) 5 times, kws and PyTorch alternating: medians, spread
# Env: KWS (binary, default build/kws), DATA (default ../shared/data/speech_commands), OUT (work
# folder, default a temp dir), THREADS (default 2). Takes minutes: run it on a quiet machine.
# PyTorch uses GNU OpenMP (kws has its own thread pool and is built without OpenMP): on a loaded
# machine (more runnable threads than cores) OpenMP's spinning barriers make 2-thread PyTorch runs up
# to 10x slower; OMP_WAIT_POLICY=passive avoids that (the script passes the environment through; the
# load average is printed).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
KWS=${KWS:-$here/build/kws}
DATA=${DATA:-$here/../shared/data/speech_commands}
OUT=${OUT:-$(mktemp -d /tmp/kws_vs_torch.XXXXXX)}
THREADS=${THREADS:-2}
EPOCHS=${EPOCHS:-80}
FOLDS=${FOLDS:-5}
SEEDS=${SEEDS:-3}
PART=${PART:-ab}
REPS=${REPS:-1}
PY=/usr/bin/python3
mkdir -p "$OUT"
echo "work folder: $OUT  (threads $THREADS, epochs $EPOCHS, OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset})" >&2
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
trap 'echo "load after: $(cut -d" " -f1-3 /proc/loadavg)" >&2' EXIT

jget() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {'d': d}))" "$@"; }

if [[ $PART == *a* ]]; then
  echo "== (a) one training run of the seed recipe, $REPS time(s), kws and PyTorch alternating ==" >&2
  # Peak RSS of each process from /usr/bin/time (kB), when it is installed.
  TIMEV=(); [[ -x /usr/bin/time ]] && TIMEV=(/usr/bin/time -f "%M")
  for r in $(seq 1 "$REPS"); do
    feat=(); [[ $r == 1 ]] && feat=(--export-features)  # rep 1 writes the features PyTorch reads
    "${TIMEV[@]}" "$KWS" -q -j "$THREADS" train --config "$here/configs/seed.toml" --data "$DATA" --out "$OUT/seed_$r" \
      --set train.epochs="$EPOCHS" --no-export "${feat[@]}" --json > "$OUT/kws_seed_$r.json" 2> "$OUT/kws_rss_$r.txt"
    "${TIMEV[@]}" $PY "$here/bench/torch_seed.py" holdout "$OUT/seed_1" "$OUT/seed_1/split.json" --epochs "$EPOCHS" \
      --threads "$THREADS" > "$OUT/torch_seed_$r.json" 2> "$OUT/torch_rss_$r.txt"
    echo "rep $r: kws $(jget "$OUT/seed_$r/metrics.json" "round(d['train_seconds'], 2)") s, pytorch $(jget "$OUT/torch_seed_$r.json" "round(d['seconds'], 2)") s, load $(cut -d' ' -f1 /proc/loadavg)" >&2
  done
  $PY - "$OUT" "$REPS" "$EPOCHS" <<'PYEOF'
import json, statistics, sys
out, reps, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def rss(path):
    try:
        lines = [l for l in open(path).read().split() if l.isdigit()]
        return int(lines[-1]) / 1024 if lines else float("nan")
    except OSError:
        return float("nan")
k = [json.load(open(f"{out}/seed_{r}/metrics.json")) for r in range(1, reps + 1)]
t = [json.load(open(f"{out}/torch_seed_{r}.json")) for r in range(1, reps + 1)]
ks, ts = [d["train_seconds"] for d in k], [d["seconds"] for d in t]
n = k[0]["train_items"]
flop = 3 * 2 * 1.578e6 * n * epochs  # forward + backward (x3) of the 1.58 M-MAC network
print("%-8s %10s %10s %10s %12s %10s %12s %10s" % ("", "median s", "min s", "max s", "samples/s", "GFLOP/s", "val acc %", "RSS MB"))
for name, xs, d, who in (("kws", ks, k, "kws"), ("pytorch", ts, t, "torch")):
    med = statistics.median(xs)
    acc = d[0]["best_val_accuracy"]
    print("%-8s %10.2f %10.2f %10.2f %12.0f %10.1f %12.2f %10.0f" % (name, med, min(xs), max(xs), n * epochs / med,
          flop / med / 1e9, 100 * acc, max(rss(f"{out}/{who}_rss_{r}.txt") for r in range(1, reps + 1))))
ratios = [b / a for a, b in zip(ks, ts)]
print("kws speed-up: %.2fx (ratio of medians); per rep %s" % (statistics.median(ts) / statistics.median(ks),
      " ".join("%.2f" % x for x in ratios)))
PYEOF
fi

if [[ $PART == *b* ]]; then
  echo "== (b) ${FOLDS}-fold speaker-disjoint CV x $SEEDS seeds ==" >&2
  "$KWS" -q -j "$THREADS" train --config "$here/configs/seed.toml" --data "$DATA" --out "$OUT/cv" \
    --set train.epochs="$EPOCHS" --cv "$FOLDS" --seeds "$SEEDS" --export-features --json > "$OUT/kws_cv.json"
  $PY "$here/bench/torch_seed.py" cv "$OUT/cv" "$OUT/cv/cv.json" --epochs "$EPOCHS" --threads "$THREADS" \
    --seeds "$SEEDS" > "$OUT/torch_cv.json"
  for who in kws torch; do
    jget "$OUT/${who}_cv.json" "'%-8s mean %.2f%%  std %.2f  min %.2f%%  max %.2f%%  (n=%d)' % ('$who', 100*d['accuracy']['mean'], 100*d['accuracy']['std'], 100*d['accuracy']['min'], 100*d['accuracy']['max'], d['accuracy']['n'])"
  done
fi
