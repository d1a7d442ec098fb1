#!/bin/bash
# 12-word accuracy of every configs/zoo model on speakers nobody trained or tuned on: the test pool's
# speakers are split by tests/stream/split_pool.py (--tune 0 --eval 40: 60% of its speakers and the
# first 60% of each noise file train, 40% and the last 25% test); each model trains as its config says
# on ../shared/data/speech_commands_v1 + that 60% and is tested (checkpoint and its three .tflite) on
# the 40% with --test-data. Writes OUT/run_<model>/ (metrics.json "test") and prints one line each.
#   bench/zoo_accuracy.sh                       # every zoo model (hours on a busy 2-core machine)
#   MODELS="tc_resnet8 bc_resnet1" EPOCHS=5 bench/zoo_accuracy.sh
# Env: KWS, SHARED (default ../shared/data), OUT (default a temp dir), MODELS, EPOCHS (default: the config's).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
KWS=${KWS:-$here/build/kws}
SHARED=${SHARED:-$here/../shared/data}
OUT=${OUT:-$(mktemp -d /tmp/kws_zoo_acc.XXXXXX)}
MODELS=${MODELS:-"tc_resnet8 seed ds_cnn_s bc_resnet1 ds_cnn_m bc_resnet3"}
LABELS=yes,no,up,down,left,right,on,off,stop,go,_silence_,_unknown_
mkdir -p "$OUT"
[ -d "$OUT/split/train" ] || /usr/bin/python3 "$here/tests/stream/split_pool.py" "$SHARED/speech_commands" "$OUT/split" \
  --tune 0 --eval 40 >&2
for m in $MODELS; do
  sets=()
  [ -n "${EPOCHS:-}" ] && sets=(--set "train.epochs=$EPOCHS")
  echo "$m: training ($(date -u +%H:%M), load $(cut -d' ' -f1 /proc/loadavg))" >&2
  "$KWS" -q train --config "$here/configs/zoo/$m.toml" --data "$SHARED/speech_commands_v1" --data "$OUT/split/train" \
    --test-data "$OUT/split/eval" --labels "$LABELS" --out "$OUT/run_$m" "${sets[@]}" --json > "$OUT/run_$m.json"
  /usr/bin/python3 - "$OUT/run_$m" "$m" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1] + "/metrics.json"))
acc = {m["model"].rsplit("/", 1)[1]: m["accuracy"] for m in d["test"]["models"]}
print("%-12s val %.2f%%  test: ckpt %.2f%%  float %.2f%%  dynamic %.2f%%  int8 %.2f%%  (n=%d, %d epochs, %.0f s)" % (
    sys.argv[2], 100 * d["best_val_accuracy"], 100 * acc["model.ckpt"], 100 * acc["model_float.tflite"],
    100 * acc["model_dynamic.tflite"], 100 * acc["model_int8.tflite"], d["test"]["models"][0]["n"],
    len(d["epochs"]), d["train_seconds"]))
PYEOF
done
echo "runs in $OUT (table: bench/zoo_table.sh $OUT)" >&2
