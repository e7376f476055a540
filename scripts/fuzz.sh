#!/usr/bin/env bash
# Builds the fuzz targets (fuzz/) with libFuzzer's coverage instrumentation and runs each for
# SECONDS (default 600) with memory limits: a crash, a timeout (10 s per input) or an allocation
# over 1 GiB is a failure, leaves its input in fuzz/artifacts/TARGET/ and makes the script exit 1
# once every target has run. FUZZ_TARGET_DIR (default fuzz/target) is where they build.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]    (default: every target, one after the other)
# The target `canary` (not in the default list) fails on its seed: `scripts/fuzz.sh 1 canary` must
# exit 1, which CI checks.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-600}"; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(movielens recbole csv_pair npy safetensors semantic_ids run_config model_bpk optim_bpk)
# The checkpoint targets link burn (flex CPU backend): built only when one of them is asked for.
features=()
for t in "${targets[@]}"; do
  case "$t" in run_config|model_bpk|optim_bpk) features=(--features checkpoint) ;; esac
done
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
tdir="${FUZZ_TARGET_DIR:-fuzz/target}"
cargo build --release --manifest-path fuzz/Cargo.toml --target-dir "$tdir" --target x86_64-unknown-linux-gnu "${features[@]}"
bin="$tdir/x86_64-unknown-linux-gnu/release"
failed=()
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  # Seed with the bad-file corpus and a good dataset, so the fuzzer starts past the headers.
  case "$t" in
    movielens) for d in tests/data/bad/ml_*; do cat "$d/movies.csv" 2>/dev/null; printf '\377'; cat "$d/ratings.csv" 2>/dev/null; done > "fuzz/corpus/$t/seed" ;;
    recbole) for d in tests/data/bad/rb_*; do cat "$d"/*.item 2>/dev/null; printf '\377'; cat "$d"/*.inter 2>/dev/null; done > "fuzz/corpus/$t/seed" ;;
    csv_pair) for d in tests/data/bad/pair_*; do cat "$d/items.csv" 2>/dev/null; printf '\377'; cat "$d/interactions.csv" 2>/dev/null; done > "fuzz/corpus/$t/seed" ;;
    npy) for f in tests/data/bad/emb_*/embeddings.npy; do cp "$f" "fuzz/corpus/$t/$(basename "$(dirname "$f")")"; done ;;
    safetensors) for f in tests/data/bad/emb_*/*.safetensors; do cp "$f" "fuzz/corpus/$t/$(basename "$(dirname "$f")")"; done ;;
    semantic_ids) for f in tests/data/bad/sid_*/semantic_ids.csv; do cp "$f" "fuzz/corpus/$t/$(basename "$(dirname "$f")")"; done ;;
    canary) printf 'tiger-explorer fuzz canary' > "fuzz/corpus/$t/seed" ;;
    run_config|model_bpk|optim_bpk)
      # A valid tiny checkpoint (and config) written by the target itself, so mutations start from
      # files that load.
      seed="fuzz/seed-$t"; rm -rf "$seed"; mkdir -p "$seed"
      TIGER_FUZZ_SEED="$seed" "$bin/$t" 2>/dev/null || true
      want=(); case "$t" in run_config) want=config_seed ;; model_bpk) want=model.bpk ;; optim_bpk) want=optim.bpk ;; esac
      [ -f "$seed/$want" ] || { echo "no seed for $t"; exit 1; }
      case "$t" in
        run_config) cp "$seed/config_seed" "fuzz/corpus/$t/seed"; cp "$seed/config_seed_sasrec" "fuzz/corpus/$t/seed_sasrec" ;;
        model_bpk) cp "$seed/model.bpk" "fuzz/corpus/$t/seed" ;;
        optim_bpk) cp "$seed/optim.bpk" "fuzz/corpus/$t/seed"; export TIGER_FUZZ_MODEL="$seed/model.bpk" ;;
      esac ;;
  esac
  echo "== $t: ${secs} s"
  log="fuzz/artifacts/$t/last-run.log"
  rc=0
  "$bin/$t" "fuzz/corpus/$t" -max_total_time="$secs" -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1 \
    >"$log" 2>&1 || rc=$?
  grep -E "^(stat::number_of_executed_units|stat::new_units_added|Done|SUMMARY|.*(panicked|deadly signal|leak|timeout|out-of-memory))" "$log" || true
  if [ "$rc" -ne 0 ]; then
    echo "!! $t failed (exit $rc); its input is in fuzz/artifacts/$t/, the whole log in $log"
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing failed: ${failed[*]}"
  exit 1
fi
echo "fuzzing: every target ran ${secs} s without a failure"
