#!/bin/bash
# Hard-negative mining for the streaming recipe (configs/stream.toml, issue 6).
#
#   tools/mine_negatives.sh MODEL POOL SPLIT OUT [THRESHOLD] [SEEDS] [SNRS]
#
# Runs `kws stream-eval --dump-false-alarms` on streams built ONLY from the training part of
# a tests/stream/split_pool.py split: the speakers of SPLIT/train (every speaker of
# SPLIT/tune and SPLIT/eval excluded) over the training part of the noise (0-60%), one
# 60-minute stream per seed and SNR, at a low THRESHOLD (default 0.5) so that there are
# hundreds of false alarms. The 1 s before each false alarm lands in OUT/mined/_silence_
# (pure noise), OUT/mined/_unknown_ (another word) or OUT/mined/<keyword> (wrong label on
# a keyword: a hard example of that keyword). Then OUT/data is the training folder:
# symlinks to every clip of SPLIT/train (and its _background_noise_), plus the mined clips,
# where the mined noise windows go to _unknown_ too (a _silence_ folder would switch off
# kws train's own noise-slice _silence_), named mined_<kind>_fa_<seed>_<snr>_<ms>.wav.
# Train on it with every _unknown_ clip kept (configs/stream.toml has unknown_ratio = 0; a capped
# ratio would sample most mined clips away):
#   kws train --config configs/stream.toml --data OUT/data --out runs/mined
# Measured (configs/stream.toml header): it did not beat training on SPLIT/train alone; mining on
# training speakers finds few false alarms once the model has seen all their clips.
# Env: KWS (binary, default build/kws), SMOOTH_MS (500), MIN_RESULTS (2), MINUTES (60).
set -euo pipefail
if [ $# -lt 4 ]; then sed -n 3,21p "$0"; exit 1; fi
model=$1 pool=$2 split=$3 out=$4
th=${5:-0.5}
seeds=${6:-"11 12 13 14 15 16"}
snrs=${7:-"0 5 10 20"}
here=$(cd "$(dirname "$0")/.." && pwd)
kws=${KWS:-$here/build/kws}
mkdir -p "$out/mined" "$out/logs"
for snr in $snrs; do
  for seed in $seeds; do
    "$kws" stream-eval -q --model "$model" --data "$pool" \
      --exclude-speakers-of "$split/tune" --exclude-speakers-of "$split/eval" --noise-part 0:0.6 \
      --minutes "${MINUTES:-60}" --snr-db "$snr" --seed "$seed" --threshold "$th" \
      --smooth-ms "${SMOOTH_MS:-500}" --min-results "${MIN_RESULTS:-2}" \
      --dump-false-alarms "$out/mined" --json > "$out/logs/mine_${seed}_${snr}.json"
    python3 -c "import json,sys; j=json.load(open(sys.argv[1])); d=j['dumped_false_alarms']; r=j['result']; \
print(f\"seed {j['seed']} snr {j['snr_db']:g}: speakers {j['speakers']}, {r['false_alarms']} false alarms \
-> {d['silence']} noise, {d['unknown']} other word, {d['keyword']} keyword, {d['skipped']} skipped\")" \
      "$out/logs/mine_${seed}_${snr}.json"
  done
done
# The training folder: SPLIT/train + the mined clips.
rm -rf "$out/data"
mkdir -p "$out/data"
for d in "$split/train"/*/; do
  l=$(basename "$d")
  mkdir -p "$out/data/$l"
  for f in "$d"*; do ln -s "$(readlink -f "$f")" "$out/data/$l/$(basename "$f")"; done
done
for d in "$out/mined"/*/; do
  [ -d "$d" ] || continue
  l=$(basename "$d")
  dest=$l
  [ "$l" = _silence_ ] && dest=_unknown_
  mkdir -p "$out/data/$dest"
  for f in "$d"*.wav; do
    [ -e "$f" ] || continue
    ln -s "$(readlink -f "$f")" "$out/data/$dest/mined_${l}_$(basename "$f")"
  done
done
for d in "$out/data"/*/; do echo "$(basename "$d"): $(ls "$d" | wc -l)"; done
