#!/usr/bin/env bash
# The README's main job on the embedded demo data. Until the full pipeline (`ksparse run
# configs/demo.toml`) lands, it runs the Korean BM25 baseline end to end on KorQuAD 1.0 dev:
# convert -> index -> search -> evaluate. Outputs go to out/demo/.
#   scripts/demo.sh [path/to/ksparse]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ksparse="${1:-$root/build/release/ksparse}"
data="$(bash "$root/scripts/data.sh")"
out="${KSPARSE_DEMO_OUT:-$root/out/demo}"
mkdir -p "$out"

"$ksparse" data korquad --in "$data/korquad-v1/KorQuAD_v1.0_dev.json" --out "$out/korquad"
"$ksparse" index build --corpus "$out/korquad/corpus.jsonl" --analyzer bigram --out "$out/bm25"
"$ksparse" search --index "$out/bm25" --queries "$out/korquad/queries.jsonl" --k 100 \
  --out "$out/bm25.trec"
"$ksparse" eval --qrels "$out/korquad/qrels/test.tsv" --run "$out/bm25.trec" \
  --metrics ndcg@10,mrr@10,recall@100,map@100,p@10 | tee "$out/bm25.metrics.txt"
echo "demo outputs in $out"
