#!/usr/bin/env bash
# KorQuAD ablation (issue 6, acceptance 2): BM25 vs sparse encoder vs BM25+sparse fusion on the
# held-out articles' questions over all 961 passages, training (a) on the train articles' real
# questions only and (b) with synthetic queries for the passages added; paired randomization tests.
#
#   bench/korquad_ablation.sh [KSPARSE] [OUT] [SYNTH_TRIPLES]
#
# Small enough for 2 cores: tiny BERT (hidden 128, 2 layers), max length 128, lexical prior init.
set -euo pipefail
KS=${1:-build/release/ksparse}
OUT=${2:-out/korquad-ablation}
SYN=${3:-/work/artifacts/synth-korquad/triples.jsonl}
DATA=${KSPARSE_SHARED_DATA_DIR:-../shared/data}/korquad-v1/KorQuAD_v1.0_dev.json
STEPS=${STEPS:-400}
mkdir -p "$OUT"

"$KS" data korquad --in "$DATA" --out "$OUT/korquad" --split-articles 0.5 --seed 13
# Test queries: the held-out articles' questions (ids in qrels/test.tsv).
python3 - "$OUT/korquad" <<'PY'
import json, sys, os
d = sys.argv[1]
def ids(p):
    with open(p) as f:
        next(f)
        return {l.split('\t')[0] for l in f if l.strip()}
test, train = ids(f"{d}/qrels/test.tsv"), ids(f"{d}/qrels/train.tsv")
qrels = {}
with open(f"{d}/qrels/train.tsv") as f:
    next(f)
    for l in f:
        q, doc, g = l.rstrip('\n').split('\t')
        if int(g) > 0: qrels.setdefault(q, []).append(doc)
with open(f"{d}/queries.jsonl") as f, open(f"{d}/test_queries.jsonl", "w") as t, \
     open(f"{d}/real_triples.jsonl", "w") as r:
    for l in f:
        q = json.loads(l)
        if q["_id"] in test: t.write(l)
        for doc in qrels.get(q["_id"], []):
            r.write(json.dumps({"query": q["text"], "query_id": q["_id"], "positive_id": doc,
                                "source": "real"}, ensure_ascii=False) + "\n")
PY

cat > "$OUT/train.toml" <<TOML
[train]
vocab_size = 8000
hidden_size = 128
num_layers = 2
num_heads = 2
intermediate_size = 512
max_length = 128
batch_size = 16
hard_negatives = 1
max_steps = $STEPS
warmup_steps = 40
lr = 5e-4
flops_doc = 0.002
flops_warmup_steps = 100
teacher = "bm25"
distill_weight = 0.5
validation_fraction = 0.1
eval_every = 100
checkpoint_every = 100
threads = 2
seed = 13
TOML

"$KS" index build --corpus "$OUT/korquad/corpus.jsonl" --out "$OUT/bm25"
"$KS" search --index "$OUT/bm25" --queries "$OUT/korquad/test_queries.jsonl" --k 100 --out "$OUT/bm25.trec"

cp "$OUT/korquad/real_triples.jsonl" "$OUT/triples_real.jsonl"
if [[ -f "$SYN" ]]; then
  cat "$OUT/korquad/real_triples.jsonl" "$SYN" > "$OUT/triples_synth.jsonl"
  variants="real synth"
else
  echo "synthetic triples $SYN not found: running (a) only" >&2
  variants="real"
fi
for v in $variants; do
  "$KS" train --triples "$OUT/triples_$v.jsonl" --corpus "$OUT/korquad/corpus.jsonl" \
    --out "$OUT/model_$v" --config "$OUT/train.toml"
  "$KS" encode --model "$OUT/model_$v" --corpus "$OUT/korquad/corpus.jsonl" --out "$OUT/sparse_$v"
  "$KS" search --index "$OUT/sparse_$v" --model "$OUT/model_$v" \
    --queries "$OUT/korquad/test_queries.jsonl" --k 100 --out "$OUT/sparse_$v.trec"
  "$KS" fuse --run "$OUT/bm25.trec" --run "$OUT/sparse_$v.trec" --method linear --weight 0.5 \
    --out "$OUT/fused_$v.trec"
done
Q="$OUT/korquad/qrels/test.tsv"
M=ndcg@10,mrr@10,recall@100
"$KS" eval --qrels "$Q" --run "$OUT/bm25.trec" --metrics $M
for v in $variants; do
  echo "== sparse ($v) vs BM25"; "$KS" eval --qrels "$Q" --run "$OUT/sparse_$v.trec" --compare "$OUT/bm25.trec" --metrics $M
  echo "== fused ($v) vs BM25";  "$KS" eval --qrels "$Q" --run "$OUT/fused_$v.trec" --compare "$OUT/bm25.trec" --metrics $M
done
if [[ "$variants" == "real synth" ]]; then
  echo "== sparse synth vs real"; "$KS" eval --qrels "$Q" --run "$OUT/sparse_synth.trec" --compare "$OUT/sparse_real.trec" --metrics $M
  echo "== fused synth vs real";  "$KS" eval --qrels "$Q" --run "$OUT/fused_synth.trec" --compare "$OUT/fused_real.trec" --metrics $M
fi
