#!/bin/bash
# The zoo comparison table from the run folders bench/zoo_accuracy.sh wrote (OUT/run_<model>): per model
# trainable parameters, MACs, int8 .tflite bytes, int8 inference latency in kws's runtime (kws bench,
# one thread, median of 1000) and in the official TFLite interpreter (WebAssembly SIMD under node,
# tools/js/tflite_run.js --repeat, mean), and 12-word test accuracy of the int8 file on held-out speakers.
# Training time per epoch against PyTorch comes from bench/zoo_train_vs_pytorch.sh (a separate run, its
# OUT folder given as SPEED): kws's and PyTorch's seconds per epoch and the ratio.
#   bench/zoo_table.sh OUT                  # OUT: bench/zoo_accuracy.sh's folder
#   SPEED=/tmp/zoo_speed bench/zoo_table.sh OUT
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
KWS=${KWS:-$here/build/kws}
OUT=$1
SPEED=${SPEED:-}
printf "%-12s %9s %11s %10s %10s %13s %10s %9s %11s\n" model params MACs "int8 B" "kws us" "official us" "int8 acc" \
  "kws s/ep" "torch s/ep"
for run in "$OUT"/run_*/; do
  m=$(basename "$run"); m=${m#run_}
  f="$run/model_int8.tflite"
  [ -f "$f" ] || continue
  "$KWS" bench --model "$f" --json > "$OUT/bench_$m.json"
  n=$(/usr/bin/python3 -c "import json;print(json.load(open('$OUT/bench_$m.json'))['size_bytes'])")
  in=$("$KWS" invoke --model "$f" --info --json | /usr/bin/python3 -c "import json,sys;d=json.load(sys.stdin);print(d['inputs'][0]['bytes'])")
  head -c "$in" /dev/zero > "$OUT/zeros_$m.bin"
  node "$here/tools/js/tflite_run.js" "$f" "$OUT/zeros_$m.bin" --repeat 300 > "$OUT/official_$m.json" 2>/dev/null
  /usr/bin/python3 - "$OUT" "$m" "$run" "$SPEED" <<'PYEOF'
import json, os, statistics, struct, sys
out, m, run, speed = sys.argv[1:5]
b = json.load(open(f"{out}/bench_{m}.json"))
o = json.load(open(f"{out}/official_{m}.json"))
d = json.load(open(run + "/metrics.json"))
acc = {x["model"].rsplit("/", 1)[1]: x["accuracy"] for x in d["test"]["models"]}
with open(run + "/model.ckpt", "rb") as f:
    h = f.read(20); h = json.loads(f.read(struct.unpack("<Q", h[12:20])[0]))
trainable = sum(t["count"] for t in h["tensors"] if not any(s in t["name"] for s in ("moving_", ":mask", "optimizer/")))
ks = ts = "-"
if speed and os.path.exists(f"{speed}/{m}/metrics.json") and os.path.exists(f"{speed}/{m}.torch.json"):
    ks = "%.2f" % statistics.median(e["seconds"] for e in json.load(open(f"{speed}/{m}/metrics.json"))["epochs"])
    ts = "%.2f" % json.load(open(f"{speed}/{m}.torch.json"))["median_seconds"]
print("%-12s %9d %11d %10d %10.1f %13.1f %9.2f%% %9s %11s" % (m, trainable, b["macs"], b["size_bytes"], b["inference_us"],
      o["us_per_infer"], 100 * acc["model_int8.tflite"], ks, ts))
PYEOF
done
