#!/bin/bash
# Training time per epoch of every configs/zoo model: kws vs the same architecture in PyTorch
# (bench/torch_zoo.py builds it from the layer list in kws's checkpoint), same machine, same run,
# same features (kws --export-features), same split, batch size, optimizer and schedule; no
# augmentation on either side; an epoch is training plus the validation pass on both sides.
#
#   bench/zoo_train_vs_pytorch.sh                    # every zoo config, 3 epochs each
#   EPOCHS=2 MODELS="bc_resnet1 tc_resnet8" bench/zoo_train_vs_pytorch.sh
# Env: KWS (default build/kws), DATA (default ../shared/data/speech_commands, 12 words), OUT (work
# folder, default a temp dir), THREADS (default 2). kws's epoch time is the median of its epochs
# (metrics.json), PyTorch's likewise. PyTorch uses GNU OpenMP: on a loaded machine its spinning barriers
# slow it down badly, so OMP_WAIT_POLICY=passive is set unless given. The load average is printed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
KWS=${KWS:-$here/build/kws}
DATA=${DATA:-$here/../shared/data/speech_commands}
OUT=${OUT:-$(mktemp -d /tmp/kws_zoo_vs_torch.XXXXXX)}
THREADS=${THREADS:-2}
EPOCHS=${EPOCHS:-3}
MODELS=${MODELS:-"seed ds_cnn_s ds_cnn_m tc_resnet8 bc_resnet1 bc_resnet3"}
LABELS=yes,no,up,down,left,right,on,off,stop,go,_silence_,_unknown_
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
PY=/usr/bin/python3
mkdir -p "$OUT"
echo "work folder: $OUT  (threads $THREADS, epochs $EPOCHS)  load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
printf "%-12s %10s %12s %12s %10s %10s\n" model params "kws s/ep" "torch s/ep" speed-up load
for m in $MODELS; do
  run="$OUT/$m"
  "$KWS" -q -j "$THREADS" train --config "$here/configs/zoo/$m.toml" --data "$DATA" --labels "$LABELS" --out "$run" \
    --set train.epochs="$EPOCHS" --set train.augment.enabled=false --no-export --export-features --json > "$run.kws.json"
  $PY "$here/bench/torch_zoo.py" "$run" --epochs "$EPOCHS" --threads "$THREADS" > "$run.torch.json"
  $PY - "$run" "$(cut -d' ' -f1 /proc/loadavg)" "$m" <<'PYEOF'
import json, statistics, sys
run, load, name = sys.argv[1], sys.argv[2], sys.argv[3]
k = json.load(open(run + "/metrics.json"))
t = json.load(open(run + ".torch.json"))
ks = statistics.median(e["seconds"] for e in k["epochs"])
ts = t["median_seconds"]
print("%-12s %10d %12.2f %12.2f %9.2fx %10s" % (name, t["params"], ks, ts, ts / ks, load))
PYEOF
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
