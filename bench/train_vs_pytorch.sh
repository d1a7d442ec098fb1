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
# Env: KWS (binary, default build/kws), DATA (default ../shared/data/speech_commands), OUT (work
# folder, default a temp dir), THREADS (default 2). Takes minutes: run it on a quiet machine.
# Both kws and PyTorch use GNU OpenMP: on a loaded machine (more runnable threads than cores) its
# spinning barriers make 2-thread runs of either up to 10x slower; OMP_WAIT_POLICY=passive avoids that
# (the script passes the environment through to both; the load average is printed).
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
PY=/usr/bin/python3
mkdir -p "$OUT"
echo "work folder: $OUT  (threads $THREADS, epochs $EPOCHS, OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset})" >&2
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
trap 'echo "load after: $(cut -d" " -f1-3 /proc/loadavg)" >&2' EXIT

jget() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {'d': d}))" "$@"; }

if [[ $PART == *a* ]]; then
  echo "== (a) one training run of the seed recipe ==" >&2
  "$KWS" -q -j "$THREADS" train --config "$here/configs/seed.toml" --data "$DATA" --out "$OUT/seed" \
    --set train.epochs="$EPOCHS" --export-features --json > "$OUT/kws_seed.json"
  $PY "$here/bench/torch_seed.py" holdout "$OUT/seed" "$OUT/seed/split.json" --epochs "$EPOCHS" \
    --threads "$THREADS" > "$OUT/torch_seed.json"
  k_s=$(jget "$OUT/seed/metrics.json" "round(d['train_seconds'], 2)")
  k_sps=$(jget "$OUT/seed/metrics.json" "round(d['samples_per_second'])")
  k_acc=$(jget "$OUT/seed/metrics.json" "round(100*d['best_val_accuracy'], 2)")
  t_s=$(jget "$OUT/torch_seed.json" "round(d['seconds'], 2)")
  t_sps=$(jget "$OUT/torch_seed.json" "round(d['samples_per_second'])")
  t_acc=$(jget "$OUT/torch_seed.json" "round(100*d['best_val_accuracy'], 2)")
  printf "%-8s %12s %12s %14s\n" "" "train s" "samples/s" "val acc %"
  printf "%-8s %12s %12s %14s\n" kws "$k_s" "$k_sps" "$k_acc"
  printf "%-8s %12s %12s %14s\n" pytorch "$t_s" "$t_sps" "$t_acc"
  $PY -c "print('kws speed-up: %.2fx' % ($t_s / $k_s))"
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
