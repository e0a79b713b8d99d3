#!/usr/bin/env bash
# `ksparse llm bench` next to llama.cpp's own llama-batched-bench (same model, threads, prompt and
# generation lengths, parallelism), interleaved and repeated, with the generation-throughput ratio
# of each pair. Record the output, command, machine and date in bench/RESULTS.md.
#
# Both sides time the same thing: decode steps of prompt tokens (pp) and decode steps that carry
# only generated tokens (tg), after a warm-up. ksparse's generation steps also sample (greedy
# argmax and the log-softmax for mean_logprob) and detokenise; llama-batched-bench's do not.
#
# Usage: bash bench/llm_bench.sh <path-to-ksparse> [model.gguf]
# Environment: THREADS (2), PARALLEL ("1,8"), NPP (256), NTG (64), REPEAT (3), LLAMA_PREFIX (the
# prefix from ~/.cache/ksparse/deps/env.cmake), KSPARSE_ARGS (extra `llm bench` flags), LCPP_ARGS
# (extra llama-batched-bench flags, e.g. "-fa off").
set -euo pipefail
if [[ $# -lt 1 ]]; then
  echo "usage: bash bench/llm_bench.sh <path-to-ksparse> [model.gguf]" >&2
  exit 2
fi
ksparse="$1"
model="${2:-$HOME/.cache/ksparse/models/gemma-3-270m-q4_k_m.gguf}"
threads="${THREADS:-2}"
parallel="${PARALLEL:-1,8}"
npp="${NPP:-256}"
ntg="${NTG:-64}"
repeat="${REPEAT:-3}"
prefix="${LLAMA_PREFIX:-}"
if [[ -z "$prefix" ]]; then
  prefix="$(sed -n 's/^set(KSPARSE_LLAMA_PREFIX "\([^"]*\)".*/\1/p' "$HOME/.cache/ksparse/deps/env.cmake")"
fi
batched="$prefix/bin/llama-batched-bench"
[[ -x "$batched" ]] || { echo "bench/llm_bench.sh: $batched not found (set LLAMA_PREFIX)" >&2; exit 1; }
[[ -f "$model" ]] || { echo "bench/llm_bench.sh: model $model not found" >&2; exit 1; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%dT%H:%M:%SZ), load:$(cut -d' ' -f1-3 /proc/loadavg)"
echo "llama.cpp: $prefix"
max_p="$(tr ',' '\n' <<<"$parallel" | sort -n | tail -1)"
ctx=$((max_p * (npp + ntg + 8)))
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
printf '%-4s %-9s %12s %12s %12s %12s %8s\n' run parallel ks_pp_tok_s ks_gen_tok_s lcpp_pp_tok_s lcpp_tg_tok_s gen_ratio
for r in $(seq 1 "$repeat"); do
  # shellcheck disable=SC2086
  "$ksparse" llm bench -m "$model" --parallel "$parallel" --n-prompt "$npp" --n-gen "$ntg" \
    -t "$threads" --json ${KSPARSE_ARGS:-} >"$tmp/ks.json"
  # shellcheck disable=SC2086
  "$batched" -m "$model" -c "$ctx" -b 2048 -ub 512 -npp "$npp" -ntg "$ntg" -npl "$parallel" \
    -t "$threads" --output-format jsonl ${LCPP_ARGS:-} >"$tmp/lcpp.jsonl" 2>&1 \
    || { tail -20 "$tmp/lcpp.jsonl" >&2; exit 1; }
  python3 - "$tmp/ks.json" "$tmp/lcpp.jsonl" "$r" <<'EOF'
import json, sys
ks = {row["parallel"]: row for row in json.load(open(sys.argv[1]))}
lc = {}
for line in open(sys.argv[2]):
    line = line.strip()
    if line.startswith("{") and '"speed_tg"' in line:
        row = json.loads(line)
        lc[row["pl"]] = row
for p in sorted(ks):
    k, l = ks[p], lc.get(p)
    if l is None:
        print(f"{sys.argv[3]:<4} {p:<9} {k['pp_tok_s']:12.1f} {k['gen_tok_s']:12.1f} {'-':>12} {'-':>12} {'-':>8}")
        continue
    print(f"{sys.argv[3]:<4} {p:<9} {k['pp_tok_s']:12.1f} {k['gen_tok_s']:12.1f} "
          f"{l['speed_pp']:12.1f} {l['speed_tg']:12.1f} {k['gen_tok_s'] / l['speed_tg']:8.2f}")
EOF
done
