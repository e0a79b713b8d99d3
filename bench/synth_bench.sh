#!/usr/bin/env bash
# Synthetic-query bench (issue 4, acceptance 1): the real small GGUF writes queries for KorQuAD
# passages and Korean Wikinews articles, and every filter of `ksparse synth queries` runs.
#
#   bench/synth_bench.sh [KSPARSE] [OUT] [LIMIT]
#
# The corpus alternates KorQuAD passages and Wikinews articles (1:1 until Wikinews runs out), so a
# run limited to the first LIMIT documents (0 = all 1,605) covers both. Few-shot examples are fixed
# sets of the train articles' real questions. The run resumes from the SQLite cache in OUT: stop it
# at any time and rerun the same command; a larger LIMIT only generates for the new documents.
# Wall time, tokens/s and the funnel are in OUT/queries/manifest.json (stats) and
# OUT/queries/funnel.json.
#
# CORPUS=korquad: the KorQuAD passages alone (all 961, LIMIT still applies) into OUT/korquad-queries
# for the issue-6 ablation (configs/korquad_ablation.toml imports it), sharing OUT/queries's cache:
# a passage's prompts do not depend on the corpus around it, so what the mixed run generated is
# reused and only the other passages are generated.
set -euo pipefail
KS=${1:-build/release/ksparse}
OUT=${2:-out/synth-bench}
LIMIT=${3:-0}
DATA=${KSPARSE_SHARED_DATA_DIR:-../shared/data}
MODEL=${KSPARSE_TEST_MODEL:-$HOME/.cache/ksparse/models/gemma-3-270m-q4_k_m.gguf}
mkdir -p "$OUT/queries"

if [[ ! -s "$OUT/data/mixed/corpus.jsonl" ]]; then
  "$KS" data korquad --in "$DATA/korquad-v1/KorQuAD_v1.0_dev.json" --out "$OUT/data/korquad" \
    --split-articles 0.5 --seed 13
  "$KS" data csv --in "$DATA/wikinews-ko/wikinews.csv" --out "$OUT/data/wikinews" \
    --text-col 내용 --title-col 제목 --date-col 작성일
  mkdir -p "$OUT/data/mixed"
  paste -d '\n' "$OUT/data/korquad/corpus.jsonl" "$OUT/data/wikinews/corpus.jsonl" |
    grep -v '^$' >"$OUT/data/mixed/corpus.jsonl.tmp"
  mv "$OUT/data/mixed/corpus.jsonl.tmp" "$OUT/data/mixed/corpus.jsonl"
fi

corpus="$OUT/data/mixed/corpus.jsonl"
dest="$OUT/queries"
case "${CORPUS:-mixed}" in
  mixed) ;;
  korquad) corpus="$OUT/data/korquad/corpus.jsonl" dest="$OUT/korquad-queries" ;;
  *) echo "bench/synth_bench.sh: CORPUS must be mixed or korquad, got '$CORPUS'" >&2; exit 2 ;;
esac

# OMP passive wait: ggml's and libtorch's OpenMP pools would otherwise spin against each other.
OMP_WAIT_POLICY=PASSIVE "$KS" synth queries --model "$MODEL" \
  --corpus "$corpus" --out "$dest" --cache "$OUT/queries/cache.sqlite" \
  --templates configs/prompts/ko_question.toml configs/prompts/ko_keyword.toml \
  --real-queries "$OUT/data/korquad/queries.jsonl" \
  --real-qrels "$OUT/data/korquad/qrels/train.tsv" \
  --per-doc 2 --seed 13 --threads "${THREADS:-2}" --parallel 8 --batch 64 --max-doc-chars 500 \
  --max-example-chars 250 --example-sets 4 --limit "$LIMIT" --json
