#!/usr/bin/env bash
# Trains and tests every model of the quality table on one dataset, each within a time budget, and
# prints one Markdown row per model: test Recall@10 and NDCG@10, the step and training time of the
# best validation, and why the run stopped. Models: popularity, SASRec, TIGER with the defaults,
# TIGER with the paper's Adafactor (lr 0.01), with label smoothing 0.1, on random IDs of the same
# shape, and the default TIGER ranked by exact scoring instead of beam search.
# Usage: scripts/quality_table.sh DATA IDS OUT [MINUTES] [DEVICE]
#   DATA     a dataset folder; IDS its semantic_ids.csv (from `quantize`); OUT a folder for the runs
#   MINUTES  time budget of each training run (default 10); each also stops after 5 validations
#            without a better NDCG@10
#   DEVICE   auto, gpu or cpu (default auto)
# TIGER_EXPLORER names the binary (default: target/release/tiger-explorer).
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,12p' "$0"; exit 2; }
data="$1"; ids="$2"; out="$3"; minutes="${4:-10}"; device="${5:-auto}"
bin="${TIGER_EXPLORER:-target/release/tiger-explorer}"
mkdir -p "$out"
stop=(--max-minutes "$minutes" --patience 5 --steps 1000000 --device "$device")

"$bin" baseline popularity --data "$data" --split test > "$out/popularity.json"
"$bin" baseline sasrec --data "$data" --out "$out/sasrec" "${stop[@]}" --eval-every 250
tiger() { name="$1"; shift; "$bin" train --data "$data" --ids "$ids" --out "$out/$name" "${stop[@]}" "$@"; }
tiger tiger
tiger tiger-adafactor --optimizer adafactor --lr 0.01
tiger tiger-smoothing --label-smoothing 0.1
tiger tiger-random-ids --random-ids
"$bin" eval --run "$out/tiger" --exact --device "$device" > "$out/tiger-exact.json"

python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
def at(pairs, k):
    return dict(pairs).get(k)
print("| model | test Recall@10 | test NDCG@10 | best validation (step, training s) | stopped |")
print("|---|---|---|---|---|")
pop = json.load(open(os.path.join(out, "popularity.json")))
print(f"| popularity | {pop['recall@10']:.4f} | {pop['ndcg@10']:.4f} | — | — |")
for name in ["sasrec", "tiger", "tiger-adafactor", "tiger-smoothing", "tiger-random-ids"]:
    run = os.path.join(out, name)
    test = json.load(open(os.path.join(run, "test_metrics.json")))
    curves = json.load(open(os.path.join(run, "curves.json")))
    best = curves.get("best") or [None, None]
    steps = [s for s, _ in curves.get("valid", [])]
    secs = curves.get("valid_seconds", [])
    when = secs[steps.index(best[0])] if best[0] in steps and len(secs) == len(steps) else None
    where = f"{best[0]}, {when:.0f} s" if when is not None else f"{best[0]}"
    print(f"| {name} | {at(test['model']['recall'], 10):.4f} | {at(test['model']['ndcg'], 10):.4f} "
          f"| {where} | {curves.get('stopped_early') or 'last step'} |")
ex = json.load(open(os.path.join(out, "tiger-exact.json")))
print(f"| tiger, exact scoring | {ex['exact']['recall@10']:.4f} | {ex['exact']['ndcg@10']:.4f} "
      f"| beam already exact for {100 * ex['beam_exact_share']:.0f} % | widest beam {ex['widest_beam']} |")
PY
