#!/bin/bash
# Learning curves of one zoo model, kws against the same network in PyTorch (bench/torch_zoo.py), over
# several seeds: does kws's training track PyTorch's within the seed-to-seed spread?
# For each seed S, kws trains configs/zoo/$MODEL.toml with train.seed=S (its own initialization and
# speaker-disjoint validation split) and exports its features; PyTorch trains the same architecture on
# those features and that split with torch seed S. No augmentation on either side (PyTorch has none),
# same batch size, optimizer and schedule. Writes OUT/curve.svg (validation accuracy per epoch: each
# side's seeds as thin lines, their mean thick) and OUT/curve.json, and prints a table.
#
#   bench/zoo_curve_vs_pytorch.sh                        # ds_cnn_s, 80 epochs, seeds 1 2 3
#   MODEL=bc_resnet1 EPOCHS=20 SEEDS="1 2" bench/zoo_curve_vs_pytorch.sh
# Env: KWS (default build/kws), DATA (default ../shared/data/speech_commands, 12 words), OUT (work
# folder, default a temp dir), THREADS (default 1), REUSE_KWS=1 (keep kws runs already in OUT: rerun PyTorch
# only). Takes long (80 epochs x seeds x 2 sides).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
KWS=${KWS:-$here/build/kws}
DATA=${DATA:-$here/../shared/data/speech_commands}
OUT=${OUT:-$(mktemp -d /tmp/kws_curve.XXXXXX)}
THREADS=${THREADS:-1}
EPOCHS=${EPOCHS:-80}
SEEDS=${SEEDS:-"1 2 3"}
MODEL=${MODEL:-ds_cnn_s}
LABELS=yes,no,up,down,left,right,on,off,stop,go,_silence_,_unknown_
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
PY=/usr/bin/python3
mkdir -p "$OUT"
echo "work folder: $OUT  ($MODEL, $EPOCHS epochs, seeds $SEEDS, threads $THREADS)" >&2
for s in $SEEDS; do
  run="$OUT/${MODEL}_s$s"
  [ "${REUSE_KWS:-0}" = 1 ] && [ -f "$run/metrics.json" ] ||
  "$KWS" -q -j "$THREADS" train --config "$here/configs/zoo/$MODEL.toml" --data "$DATA" --labels "$LABELS" \
    --out "$run" --set train.epochs="$EPOCHS" --set train.seed="$s" --set train.augment.enabled=false \
    --no-export --export-features --json > "$run.kws.json"
  $PY "$here/bench/torch_zoo.py" "$run" --epochs "$EPOCHS" --threads "$THREADS" --seed "$s" > "$run.torch.json"
done
$PY - "$OUT" "$MODEL" $SEEDS <<'PYEOF'
import json, statistics, sys
out, model, seeds = sys.argv[1], sys.argv[2], sys.argv[3:]
kws = [[e["val_accuracy"] for e in json.load(open(f"{out}/{model}_s{s}/metrics.json"))["epochs"]] for s in seeds]
tor = [[e["val_accuracy"] for e in json.load(open(f"{out}/{model}_s{s}.torch.json"))["curve"]] for s in seeds]
n = len(kws[0])
mean = lambda runs, i: statistics.mean(r[i] for r in runs)
last = lambda runs, k=5: [statistics.mean(r[-k:]) for r in runs]  # each seed's mean of its last 5 epochs
rows = []
print("%6s %22s %22s" % ("epoch", "kws mean [min, max]", "PyTorch mean [min, max]"))
for i in sorted(set([0, 4, 9] + list(range(19, n, 20)) + [n - 1])):
    if i >= n: continue
    k, t = [r[i] for r in kws], [r[i] for r in tor]
    print("%6d %8.2f%% [%5.2f, %5.2f] %8.2f%% [%5.2f, %5.2f]" % (i + 1, 100 * statistics.mean(k), 100 * min(k),
          100 * max(k), 100 * statistics.mean(t), 100 * min(t), 100 * max(t)))
kl, tl = last(kws), last(tor)
spread = max(max(kl) - min(kl), max(tl) - min(tl))
gap = abs(statistics.mean(kl) - statistics.mean(tl))
print("last 5 epochs, per seed: kws %s, PyTorch %s" % (["%.2f" % (100 * v) for v in kl], ["%.2f" % (100 * v) for v in tl]))
print("gap of the means %.2f points, seed-to-seed spread %.2f points: %s" %
      (100 * gap, 100 * spread, "within the spread" if gap <= spread else "OUTSIDE the spread"))
json.dump({"model": model, "seeds": seeds, "kws": kws, "torch": tor, "gap": gap, "spread": spread},
          open(f"{out}/curve.json", "w"))
# The picture: validation accuracy against epoch.
W, H, L, B = 640, 400, 60, 40
lo = max(0.0, min(min(min(r[n // 10:]) for r in kws + tor) - 0.02, 1.0))
x = lambda i: L + (W - L - 20) * i / max(1, n - 1)
y = lambda v: 20 + (H - 20 - B) * (1 - (v - lo) / (1 - lo))
def line(r, color, w):
    pts = " ".join("%.1f,%.1f" % (x(i), y(max(v, lo))) for i, v in enumerate(r))
    return f'<polyline fill="none" stroke="{color}" stroke-width="{w}" points="{pts}"/>'
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>']
for k in range(6):
    v = lo + (1 - lo) * k / 5
    svg.append(f'<line x1="{L}" x2="{W - 20}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>'
               f'<text x="{L - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{100 * v:.0f}%</text>')
for r in kws: svg.append(line(r, "#9ecae1", 1))
for r in tor: svg.append(line(r, "#fdae6b", 1))
svg.append(line([mean(kws, i) for i in range(n)], "#08519c", 2.5))
svg.append(line([mean(tor, i) for i in range(n)], "#d94801", 2.5))
svg.append(f'<text x="{L}" y="{H - 10}">epoch 1..{n}: validation accuracy of {model}, seeds {" ".join(seeds)} — '
           f'blue kws, orange PyTorch (thick: mean)</text></svg>')
open(f"{out}/curve.svg", "w").write("\n".join(svg))
print("picture: " + out + "/curve.svg")
PYEOF
