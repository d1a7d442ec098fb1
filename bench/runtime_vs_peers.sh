#!/bin/sh
# Batch-1, single-thread inference latency of the seed-shaped keyword model, in ONE run:
#   (a) kws's runtime (kws bench; also with KWS_FORCE_PORTABLE=1, the plain C++ kernels),
#   (b) the official TFLite interpreter as WebAssembly SIMD under node (tools/js/bench_tflite.js),
#   (c) ONNX Runtime through onnxruntime-node (tools/js/bench_ort.js) on the same network with the
#       same weights, converted from the float .tflite by tools/torch/seed_to_onnx.py.
#
#   bench/runtime_vs_peers.sh [--run RUN_DIR | --train] [--runs N] [--warmup N] [--rounds R] [--build BUILD_DIR]
#
# Models: with --run, the float / dynamic / int8 .tflite that `kws train` wrote into that run folder
# (model_{float,dynamic,int8}.tflite), else exported from it by `kws export` (int8 calibrated on
# $KWS_SHARED_DATA/speech_commands); --train first trains configs/seed.toml
# on $KWS_SHARED_DATA/speech_commands (yes/no, 80 epochs, 85% pruning; a few minutes) into a
# temporary run folder; without either, the synthetic seed graph (export/synthetic.h) with 85% of
# each kernel zeroed. Each runtime measures the median over --runs timed calls after --warmup calls;
# the whole set is repeated --rounds times (interleaved) and the table shows the median of the
# per-round medians with [min-max] over the rounds. The official interpreter's dynamic-range model runs 20x fewer calls (its hybrid
# kernels take tens of ms in WebAssembly). The outputs of the three runtimes on one input are compared
# first (max |difference|).
# A dev-machine benchmark (needs node + tools/js/node_modules, /usr/bin/python3 with torch + numpy);
# not a test. The machine is shared and noisy: compare numbers only within one run.
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=$root/build
run=""
train=0
runs=1000
warmup=100
rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --run) run=$2; shift 2 ;;
    --train) train=1; shift ;;
    --runs) runs=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -e$/{/^#/p}' "$0"; exit 0 ;;
    *) echo "runtime_vs_peers: unknown argument $1" >&2; exit 1 ;;
  esac
done
kws=$build/kws
js=$root/tools/js
py=/usr/bin/python3
data=${KWS_SHARED_DATA:-$root/../shared/data}
[ -x "$kws" ] || { echo "runtime_vs_peers: no $kws (build the kws target)" >&2; exit 2; }
[ -d "$js/node_modules/@tensorflow/tfjs-tflite" ] || { echo "runtime_vs_peers: run npm install in $js" >&2; exit 2; }
command -v node >/dev/null || { echo "runtime_vs_peers: node not found" >&2; exit 2; }

tmp=$(mktemp -d /tmp/kws_peers.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

# ---- models
if [ "$train" = 1 ] && [ -z "$run" ]; then
  echo "training configs/seed.toml on $data/speech_commands ..." >&2
  "$kws" -q train --config "$root/configs/seed.toml" --data "$data/speech_commands" --out "$tmp/run" >/dev/null
  run=$tmp/run
fi
if [ -n "$run" ]; then
  source="trained run $run"
  if [ -f "$run/model_float.tflite" ] && [ -f "$run/model_dynamic.tflite" ] && [ -f "$run/model_int8.tflite" ]; then
    for q in float dynamic int8; do cp "$run/model_$q.tflite" "$tmp/seed_$q.tflite"; done
  else
    "$kws" -q export --model "$run" --quant float --out "$tmp/seed_float.tflite" >/dev/null
    "$kws" -q export --model "$run" --quant dynamic --out "$tmp/seed_dynamic.tflite" >/dev/null
    "$kws" -q export --model "$run" --quant int8 --calibration-data "$data/speech_commands" \
      --out "$tmp/seed_int8.tflite" >/dev/null
  fi
else
  source="synthetic seed graph, 85% zeros"
  "$kws" bench --write-seed-models "$tmp" --seed-sparsity 0.85 >/dev/null
fi

# ---- one log-mel-like input, and the same network as ONNX
"$py" - "$tmp/in.raw" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(1)
t = np.arange(97)[:, None]; b = np.arange(20)[None, :]
x = -8 - 0.1 * b + 0.8 * rng.standard_normal((97, 20)) + 6 * np.exp(-0.1 * b) * ((t > 30) & (t < 70))
x.astype('<f4').tofile(sys.argv[1])
PY
"$py" "$root/tools/torch/seed_to_onnx.py" "$tmp/seed_float.tflite" "$tmp/seed.onnx" --overhead "$tmp/trivial.onnx" \
  2>"$tmp/onnx.log" \
  || { cat "$tmp/onnx.log" >&2; exit 2; }

# ---- agreement on that input
"$kws" invoke --model "$tmp/seed_float.tflite" --input-raw "$tmp/in.raw" > "$tmp/out_kws.json"
(cd "$js" && node bench_tflite.js "$tmp/seed_float.tflite" --input "$tmp/in.raw" --runs 1 --warmup 0 \
  > "$tmp/out_tfl.json" 2>/dev/null)
(cd "$js" && node bench_ort.js "$tmp/seed.onnx" --input "$tmp/in.raw" --runs 1 --warmup 0 > "$tmp/out_ort.json")

# ---- timings, interleaved rounds
i=1
while [ "$i" -le "$rounds" ]; do
  for q in float dynamic int8; do
    "$kws" bench --model "$tmp/seed_$q.tflite" --runs "$runs" --warmup "$warmup" --json > "$tmp/kws_${q}_$i.json"
    KWS_FORCE_PORTABLE=1 "$kws" bench --model "$tmp/seed_$q.tflite" --runs "$runs" --warmup "$warmup" --json \
      > "$tmp/kwsp_${q}_$i.json"
    # TFLite's hybrid kernels are ~100x slower than XNNPACK's float/int8 ones in wasm: fewer calls there.
    n=$runs; w=$warmup
    if [ "$q" = dynamic ]; then n=$(( (runs + 19) / 20 )); w=$(( (warmup + 19) / 20 )); fi
    (cd "$js" && node bench_tflite.js "$tmp/seed_$q.tflite" --runs "$n" --warmup "$w" \
      > "$tmp/tfl_${q}_$i.json" 2>/dev/null)
  done
  (cd "$js" && node bench_ort.js "$tmp/seed.onnx" --runs "$runs" --warmup "$warmup" > "$tmp/ort_float_$i.json")
  # per-call cost of ONNX Runtime + the node binding on a one-ReLU model with the same input
  (cd "$js" && node bench_ort.js "$tmp/trivial.onnx" --runs "$runs" --warmup "$warmup" > "$tmp/ortx_float_$i.json")
  i=$((i + 1))
done

"$py" - "$tmp" "$rounds" "$source" "$runs" <<'PY'
import json, statistics, sys, os
tmp, rounds, source, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def load(name):
    with open(os.path.join(tmp, name)) as f:
        text = f.read().strip()
    try:
        return json.loads(text)                   # kws bench --json (indented)
    except ValueError:
        return json.loads(text.splitlines()[-1])  # node tools: one JSON line
def vals_of(prefix, q, key):
    vals = []
    for r in range(1, rounds + 1):
        p = '%s_%s_%d.json' % (prefix, q, r)
        if os.path.exists(os.path.join(tmp, p)):
            vals.append(load(p)[key])
    return vals
def med(prefix, q, key):
    vals = vals_of(prefix, q, key)
    return statistics.median(vals) if vals else None
def cell(prefix, q, key):
    vals = vals_of(prefix, q, key)
    if not vals:
        return '-'
    return '%.1f [%.1f-%.1f]' % (statistics.median(vals), min(vals), max(vals))

kws_out = json.load(open(os.path.join(tmp, 'out_kws.json')))
tfl_out = load('out_tfl.json')['output']
ort_out = load('out_ort.json')['output']
d_tfl = max(abs(a - b) for a, b in zip(kws_out, tfl_out))
d_ort = max(abs(a - b) for a, b in zip(kws_out, ort_out))
k0 = load('kws_float_1.json')
print('model: %s  (%s MACs, %s params, %s non-zero)' % (source, k0['macs'], k0['params'], k0['nonzero_params']))
print('float outputs on one input: max |kws - tflite| = %.2g, max |kws - onnxruntime| = %.2g' % (d_tfl, d_ort))
print('batch 1, one thread; us: median over %s calls per round, median [min-max] of %d rounds\n' % (runs, rounds))
rows = [('kws invoke (Invoke only)', 'kws', 'invoke_us'),
        ('kws inference (+float I/O)', 'kws', 'inference_us'),
        ('kws invoke, plain C++', 'kwsp', 'invoke_us'),
        ('TFLite wasm SIMD Infer()', 'tfl', 'median_us'),
        ('ONNX Runtime 1.30 run()', 'ort', 'median_us')]
qs = ['float', 'dynamic', 'int8']
table = {}
print('%-28s %20s %20s %20s' % ('runtime', *qs))
for label, prefix, key in rows:
    table[label] = [med(prefix, q, key) for q in qs]
    print('%-28s %20s %20s %20s' % (label, *[cell(prefix, q, key) for q in qs]))
base = table['kws invoke (Invoke only)']
print('\nkws speed-up (peer median / kws Invoke median; ONNX Runtime runs the float network only,')
print('so its row compares every kws model with ONNX Runtime float):')
for label in ('TFLite wasm SIMD Infer()', 'ONNX Runtime 1.30 run()'):
    vals = table[label]
    if label.startswith('ONNX'):
        vals = [vals[0]] * 3
    print('%-28s %20s %20s %20s' % (label, *['%.2fx' % (v / b) if v is not None and b else '-' for v, b in zip(vals, base)]))
ovh = med('ortx', 'float', 'median_us')
ort = table['ONNX Runtime 1.30 run()'][0]
print('\nONNX Runtime per-call overhead (one-ReLU model, same input, through node): %.1f us;' % ovh)
print('ONNX Runtime network alone ~ %.1f us -> kws float speed-up vs that: %.2fx' % (ort - ovh, (ort - ovh) / base[0]))
pre = med('kws', 'float', 'preprocess_us')
print('\nkws pre-processing (log-mel of 1 s, 97x20): %.1f us median' % pre)
PY
